"""When the action server cannot be reached, say so politely instead of going silent.

Why: in rasa 3.6, `RemoteAction.run` turns a refused connection, a timeout-free network error or
a 5xx from the action server into a `RasaException`; `MessageProcessor._run_action` logs it and
carries on with no events, so the person gets an empty reply (silence). Every reply of this
assistant comes from a custom action, so a stopped or unreachable action server would make the
whole assistant silent. This patch catches exactly those failures and returns one bot message,
"I'm having trouble right now, here is how to reach the team" with the spa's phone, email and
hours from `data/kb/spa.yml`; for a message from someone in crisis, the crisis reply instead
(`data/kb/crisis.yml`), so that reply never depends on the action server. The next message tries the action server again, so the assistant
recovers by itself when the action server is back (no restart of the Rasa server).

Not caught: `ActionExecutionRejection` (forms rely on it) and malformed responses (a bug, not
an outage). The message is a BotUttered event, so it is stored with the conversation like any
reply.

Targets rasa 3.6.21. tests/prod/test_action_unavailable.py fails when the source of
`RemoteAction.run` changes, so an upgrade makes someone look at this module again.
"""
from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List

import aiohttp
import yaml
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, Event
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError

from bot.advice.crisis import crisis_in
from bot.knowledge import crisis_files

logger = logging.getLogger(__name__)

SPA_FILE = Path(__file__).resolve().parents[2] / "data" / "kb" / "spa.yml"
UPSTREAM_SOURCES = {
    "rasa.core.actions.action.RemoteAction.run":
        "ccabf6f1160d527a157fad5bd285ce69e8221b1bcad23f8a61499b4360a1c17e",
}
UPSTREAM: Callable[..., Any] = RemoteAction.__dict__.get("_upstream_run", RemoteAction.run)
TROUBLE_METADATA = {"action_server_unavailable": True}


@lru_cache(maxsize=1)
def trouble_text() -> str:
    """The apology with the spa's contact details (read once; a generic line if the file is
    missing, so the apology itself never fails)."""
    try:
        spa: Dict[str, str] = (yaml.safe_load(SPA_FILE.read_text(encoding="utf-8")) or {}).get("spa", {})
    except (OSError, yaml.YAMLError):
        spa = {}
    text = "Sorry, I'm having trouble answering right now."
    ways = [f"call {spa['phone']}" if spa.get("phone") else "", f"email {spa['email']}" if spa.get("email") else ""]
    ways = [w for w in ways if w]
    if ways:
        text += f" You can reach the team at {spa.get('name', 'the spa')}: {' or '.join(ways)}"
        text += f" ({spa['hours']})." if spa.get("hours") else "."
    else:
        text += " Please contact the spa's team directly."
    return text + " Or try again in a few minutes."


def is_unavailable(error: BaseException) -> bool:
    """A failure of the action server itself (down, unreachable, 5xx, timed out), not a
    rejection or a malformed answer."""
    if isinstance(error, ActionExecutionRejection):
        return False
    if isinstance(error, (asyncio.TimeoutError, aiohttp.ClientError)):
        return True
    if isinstance(error, RasaException):
        cause = error.__cause__
        if isinstance(cause, (ClientResponseError, aiohttp.ClientResponseError)):
            return cause.status >= 500  # 502/503 from a load balancer with no action server left
        message = str(error)
        return "Couldn't connect" in message or "non 200 status code" in message
    return False


async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
    """`RemoteAction.run`, with the apology when the action server is unavailable."""
    try:
        return await UPSTREAM(self, output_channel, nlg, tracker, domain)
    except Exception as error:  # noqa: BLE001 - re-raised unless it is an outage
        if not is_unavailable(error):
            raise
        latest = getattr(tracker, "latest_message", None)
        crisis = crisis_in(getattr(latest, "entities", None) or [])
        if crisis is not None:
            logger.error("Action server unavailable for '%s' (%s); sent the crisis reply.", self.name(),
                         type(error).__name__)
            reply = crisis_files.crisis_reply(crisis)
            return [BotUttered(text=reply.text, data={"buttons": list(reply.buttons)} if reply.buttons else {},
                               metadata=dict(TROUBLE_METADATA))]
        logger.error("Action server unavailable for '%s' (%s); sent the apology.", self.name(), type(error).__name__)
        return [BotUttered(text=trouble_text(), metadata=dict(TROUBLE_METADATA))]


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    RemoteAction._upstream_run = UPSTREAM  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[assignment]
