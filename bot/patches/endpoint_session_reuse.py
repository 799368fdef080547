"""Reuse one HTTP client session (and its kept-alive connections) per endpoint.

Why: rasa 3.6's `EndpointConfig.request` opens a new `aiohttp.ClientSession` for every request:
for each custom action, the Rasa server resolves the action server's host name (in a thread),
opens a TCP connection, and closes both afterwards, and the action server accepts a new
connection every turn. py-spy put the resolver and connection set-up at several per cent of the
Rasa server's CPU under the bench's load (bench/README.md).

What it does: `EndpointConfig.session()` hands `request` (and the model-server poll, the only
other caller) a session shared by that endpoint, created in the running event loop; leaving the
`async with` block does not close it. Idle connections are closed after KEEPALIVE_S, shorter
than the 5 s after which Sanic (the action server) closes them, so a request never goes out on
a connection the server has just dropped. A new event loop, or a closed session, gets a new one.
Headers, authentication and timeout are the endpoint's, as before.

Targets rasa 3.6.21 with aiohttp 3.9. tests/unit/test_patches.py fails when the replaced method
or the `request` method that uses it changes.
"""
from __future__ import annotations

import asyncio
from typing import Any, Optional

import aiohttp
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

KEEPALIVE_S = 2.0

UPSTREAM_SOURCES = {
    "rasa.utils.endpoints.EndpointConfig.session":
        "e55aa13d9d4fb4bc440ac33b870a97ee162b76dda7ccb6bf68433567475fdffb",
    "rasa.utils.endpoints.EndpointConfig.request":
        "ccdb778aed8208e23cde3c3f47eac7fbbbb735dac8f7ef7254d54451c64ad608",
}

UPSTREAM = EndpointConfig.__dict__.get("_upstream_session", EndpointConfig.session)
_ATTRIBUTE = "_shared_client_session"


class _Shared:
    """`async with` over a shared session: entering returns it, leaving keeps it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def _running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def session(self: EndpointConfig) -> Any:
    """Drop-in for `EndpointConfig.session` as `request` uses it (in `async with`)."""
    loop = _running_loop()
    if loop is None:  # not inside an event loop: rasa's own, closed by its caller
        return UPSTREAM(self)
    shared = self.__dict__.get(_ATTRIBUTE)
    if shared is None or shared.closed or shared._loop is not loop:
        auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                if self.basic_auth else None)
        shared = aiohttp.ClientSession(
            headers=self.headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
        )
        self.__dict__[_ATTRIBUTE] = shared
    return _Shared(shared)


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    EndpointConfig._upstream_session = UPSTREAM  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[assignment]
