"""The one place where the security checks are hooked into Rasa's server (rasa 3.6.21).

Rasa builds its Sanic app in `rasa.core.run.configure_app` and connects every input channel to
the agent in `rasa.core.channels.channel.register`. `install()` wraps both:

- configure_app: CORS from the ALLOWED_ORIGINS allow-list instead of whatever `--cors` said; the
  API token from RASA_TOKEN when `--auth-token` is not given (so it never shows in `ps`); then
  `secure_app` adds a request middleware (origin check, body size limit, per-address rate limit on
  the browser channels, and a token check on every route that is not a channel: the HTTP API is
  closed when no token is configured), response headers, the retention job, and the staff page
  at /staff (bot/staff: its own login replaces the API token there; the other checks apply).
- register: every channel's message handler is wrapped in `MessageGuard` (length cap, empty
  text, forged payloads, per-conversation rate limit, conversation ownership, log redaction,
  no exception reaches the channel), and the agent handles each message id once
  (bot/delivery/once.py) instead of Rasa's `Agent.handle_message`.

tests/security/test_hooks.py fails when the upstream functions change.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Collection, Dict, List, Optional, Text
from urllib.parse import urljoin, urlparse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.lock_store import LockError
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import retention
from bot.delivery import once
from bot.delivery.retry import StoreUnavailable
from bot.knowledge import crisis_files
from bot.security import limits, logs
from bot.security.settings import Settings
from bot.security.token import token_matches
from bot.staff import config as staff_config
from bot.staff import web as staff_page

logger = logging.getLogger(__name__)

WEBHOOK_PREFIX = "/webhooks/"
# Channels whose requests are signed by the messaging app (and come from its servers, so they
# are not limited per client address).
SIGNED_CHANNELS = {"telegram", "twilio", "slack"}
PUBLIC_PATHS = {"/"}
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

# Failures after which nothing of the message was handled or stored: the person may send it again.
NOT_HANDLED = (StoreUnavailable, LockError)

_settings: Optional[Settings] = None


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def error(status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status, headers=headers)


def client_address(request: Request) -> str:
    """The client's address: from X-Forwarded-For only when TRUSTED_PROXIES says how many proxies."""
    return request.remote_addr or request.ip or "unknown"


def origin_allowed(origin: str, request: Request, allowed: Collection[str]) -> bool:
    if "*" in allowed or origin.rstrip("/") in allowed:
        return True
    parsed = urlparse(origin)
    return bool(parsed.netloc) and parsed.netloc == request.host


def secure_app(app: Sanic, config: Settings, auth_token: Optional[str], jwt_enabled: bool,
               route: str = WEBHOOK_PREFIX, staff: Optional[staff_config.StaffConfig] = None) -> None:
    """Request checks, response headers, the retention job and the staff page for Rasa's app."""
    app.config.REQUEST_MAX_SIZE = config.max_request_bytes
    if config.trusted_proxies:
        app.config.PROXIES_COUNT = config.trusted_proxies
    addresses = limits.RateLimiter(config.address_rate)
    prefix = route or WEBHOOK_PREFIX

    async def check_request(request: Request) -> Optional[HTTPResponse]:
        origin = request.headers.get("origin")
        if origin and not origin_allowed(origin, request, config.allowed_origins):
            logger.warning("Refused a request from an origin that is not allowed.")
            return error(403, "origin_not_allowed", "This website may not use the assistant (ALLOWED_ORIGINS).")
        path = request.path
        if path in PUBLIC_PATHS or staff_page.is_staff_path(path):
            return None
        if path.startswith(prefix):
            if request.method != "POST":
                return None
            if len(request.body or b"") > config.max_webhook_bytes:
                return error(413, "too_large", limits.TOO_LONG.format(limit=f"{config.max_message_chars:,}"))
            channel = path[len(prefix):].split("/", 1)[0]
            if channel not in SIGNED_CHANNELS and not addresses.allow(client_address(request)):
                logger.warning("Rate limit: too many messages from one address.")
                retry = str(addresses.retry_after(client_address(request)))
                return error(429, "rate_limited", limits.TOO_FAST, headers={"Retry-After": retry})
            return None
        if request.method == "OPTIONS":
            return None
        if auth_token and token_matches(request.args.get("token"), auth_token):
            return None
        if jwt_enabled and request.headers.get("authorization"):
            return None  # Rasa's own check verifies the JWT
        logger.warning("Refused an HTTP API request (%s) without a valid token.", request.method)
        if not auth_token and not jwt_enabled:
            return error(403, "api_closed", "The HTTP API is closed: start the server with RASA_TOKEN set.")
        return error(401, "not_authenticated", "The HTTP API needs ?token=<RASA_TOKEN>.")

    async def add_headers(request: Request, response_: HTTPResponse) -> None:
        for name, value in NO_STORE.items():
            if name == "Cache-Control" and "/static/" in request.path:
                continue
            response_.headers.setdefault(name, value)

    app.register_middleware(check_request, "request")
    app.register_middleware(add_headers, "response")

    async def start_retention(running: Sanic, _loop: Any) -> None:
        if config.retention_days <= 0:
            return

        def store() -> Any:
            agent = getattr(running.ctx, "agent", None)
            return getattr(agent, "tracker_store", None)

        running.ctx.retention_job = asyncio.ensure_future(
            retention.run_periodically(store, config.retention_days, config.retention_interval_s))

    async def stop_retention(running: Sanic, _loop: Any) -> None:
        job = getattr(running.ctx, "retention_job", None)
        if job is not None:
            job.cancel()

    app.register_listener(start_retention, "after_server_start")
    app.register_listener(stop_retention, "before_server_stop")
    staff_page.mount(app, staff)


class MessageGuard:
    """Wraps the handler Rasa gives every channel: what reaches the assistant is bounded and clean."""

    OWNER_TTL_S = 60.0

    def __init__(self, app: Sanic, handler: Callable[[UserMessage], Awaitable[Any]], config: Settings) -> None:
        self.app, self.handler, self.config = app, handler, config
        self.conversations = limits.RateLimiter(config.conversation_rate)
        self._owners: "OrderedDict[str, tuple]" = OrderedDict()

    def _domain_names(self) -> tuple:
        agent = getattr(self.app.ctx, "agent", None)
        domain = getattr(agent, "domain", None)
        if domain is None:
            return (), ()
        return domain.intents, domain.entities

    async def __call__(self, message: UserMessage) -> None:
        channel = message.input_channel or "unknown"
        collecting = isinstance(message.output_channel, CollectingOutputChannel)
        key = f"{channel}:{message.sender_id}"
        if not self.conversations.allow(key):
            logger.warning("Rate limit: a %s conversation sent too many messages.", channel)
            crisis = crisis_files.crisis_reply_for_text(message.text)
            if crisis is not None:
                await self._reply(message, crisis.text)  # never "wait a minute" to someone in crisis
            elif collecting or self.conversations.first_refusal(key):
                await self._reply(message, limits.TOO_FAST)
            return
        raw = message.text if isinstance(message.text, str) else ""
        with logs.redacting(raw, raw.strip()):
            intents, entities = self._domain_names()
            verdict = limits.screen_message(message.text, self.config.max_message_chars, intents, entities)
            if verdict.reply:
                await self._reply(message, verdict.reply)
                return
            message.text = verdict.text
            try:
                if not await self._may_continue(message, channel):
                    await self._reply(message, limits.OTHER_CHANNEL)
                    return
                await self.handler(message)
            except Exception as failure:  # never let a message take the channel down
                logger.error("Handling a %s message failed (%s in %s).", channel, type(failure).__name__,
                             logs.failure_site(failure))
                logger.debug("Details of the failure", exc_info=True)
                # Someone in crisis gets the crisis reply even when the message could not be handled.
                crisis = crisis_files.crisis_reply_for_text(message.text)
                fallback = limits.TRY_AGAIN_SOON if isinstance(failure, NOT_HANDLED) else limits.SOMETHING_WENT_WRONG
                await self._reply(message, crisis.text if crisis else fallback)

    async def _may_continue(self, message: UserMessage, channel: str) -> bool:
        """A conversation belongs to the channel it started in: a sender id typed into the REST
        channel must not continue (or read) someone's Telegram or SMS conversation. A signed
        channel owns its sender ids, so a conversation planted there through another channel is
        dropped."""
        sender = message.sender_id
        cached = self._owners.get(sender)
        if cached and cached[0] == channel and time.monotonic() - cached[1] < self.OWNER_TTL_S:
            return True
        agent = getattr(self.app.ctx, "agent", None)
        store = getattr(agent, "tracker_store", None)
        owner = None
        if store is not None:
            tracker = await store.retrieve(sender)
            owner = tracker.get_latest_input_channel() if tracker else None
        if owner and owner != channel:
            if channel in SIGNED_CHANNELS and owner not in SIGNED_CHANNELS:
                logger.warning("Dropped a %s conversation planted under a %s sender id.", owner, channel)
                await retention.delete_conversation(store, sender)
            else:
                logger.warning("Refused a %s message for a conversation of another channel.", channel)
                return False
        self._owners[sender] = (channel, time.monotonic())
        self._owners.move_to_end(sender)
        while len(self._owners) > 50_000:
            self._owners.popitem(last=False)
        return True

    async def _reply(self, message: UserMessage, text: str) -> None:
        try:
            await message.output_channel.send_text_message(message.sender_id, text)
        except Exception as failure:
            logger.error("Could not send a reply on %s (%s).", message.input_channel, type(failure).__name__)


def forget_owner(sender_id: str) -> None:
    """Called when a conversation is deleted, so its id may start again in any channel."""
    for guard in _guards:
        guard._owners.pop(sender_id, None)


_guards: List[MessageGuard] = []


def install() -> None:
    """Wrap rasa.core.run.configure_app and rasa.core.channels.channel.register (idempotent)."""
    import rasa.core.channels.channel as channel_module
    import rasa.core.run as run_module

    logs.install()
    if getattr(run_module.configure_app, "_secured", False):
        return
    original_configure = run_module.configure_app
    original_register = channel_module.register
    signature = inspect.signature(original_configure)

    def register(input_channels: List[InputChannel], app: Sanic, route: Optional[Text]) -> None:
        """Rasa's register (rasa/core/channels/channel.py) with the guard around the handler."""

        async def handler(message: UserMessage) -> None:
            await once.handle(app.ctx.agent, message)

        guard = MessageGuard(app, handler, settings())
        _guards.append(guard)
        for channel in input_channels:
            prefix = urljoin(route, channel.url_prefix()) if route else None
            app.blueprint(channel.blueprint(guard), url_prefix=prefix)
        app.ctx.input_channels = input_channels

    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.arguments
        global _settings
        _settings = Settings.from_env(port=arguments.get("port"))
        arguments["cors"] = list(_settings.allowed_origins)
        arguments["auth_token"] = arguments.get("auth_token") or os.environ.get("RASA_TOKEN") or None
        app = original_configure(*bound.args, **bound.kwargs)
        secure_app(app, _settings, arguments["auth_token"], bool(arguments.get("jwt_secret")),
                   arguments.get("route") or WEBHOOK_PREFIX)
        logger.info("Security: API token %s; allowed origins: %s; messages up to %d characters.",
                    "required" if arguments["auth_token"] else "missing (API closed)",
                    ", ".join(_settings.allowed_origins) or "none", _settings.max_message_chars)
        return app

    configure_app._secured = True  # type: ignore[attr-defined]
    configure_app.__wrapped__ = original_configure  # type: ignore[attr-defined]
    register.__wrapped__ = original_register  # type: ignore[attr-defined]
    run_module.configure_app = configure_app
    channel_module.register = register
