"""Input channels that speak Rasa's REST protocol: the REST channel, the website widget and the
reception kiosk.

All three take POST {"sender", "message", "message_id"} at .../webhook and answer with the
replies as JSON. `message_id` is optional: a message sent again with the same id (a retry after a
lost answer) gets the replies it got the first time and changes nothing (bot/delivery/once.py);
the widget and the kiosk send one with every message.
Unlike Rasa's own REST channel they check the body first and answer a clear 4xx (never a 500)
when it is not a JSON object with a string sender id and a string message. The widget and the
kiosk also serve their own static files, so `make run` needs no second web server:

- /webhooks/web/static/widget.js   the embeddable widget; /webhooks/web/demo   a demo page
- /webhooks/kiosk/screen           the full-screen reception kiosk
- /webhooks/{web,kiosk}/forget     POST {"sender"}: delete that conversation now (the kiosk's
                                   reset uses it; only a conversation of the same channel)

Conversations record which one they came from as their input channel ("rest", "web" or "kiosk").
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.delivery import once
from bot.security.limits import SENDER_PATTERN, SOMETHING_WENT_WRONG, BadRequest, parse_rest_body

logger = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parents[1] / "web"


class CheckedRestInput(RestInput):
    """Rasa's REST channel ("rest") with the request body checked before anything else."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_input_channel(self, req: Request) -> Text:
        """The channel is fixed by the URL, never taken from the client."""
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        """Clients cannot attach metadata: it would be stored with the conversation."""
        return {"channel": self.name()}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint(f"{self.name()}_webhook", __name__)

        @blueprint.route("/", methods=["GET"], name=f"{self.name()}_health")
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"], name=f"{self.name()}_receive")
        async def receive(request: Request) -> HTTPResponse:
            try:
                sender, text, message_id = parse_rest_body(request.body, request.headers.get("content-type"))
            except BadRequest as bad:
                return response.json(bad.body(), status=bad.status)
            collector = CollectingOutputChannel()
            message = UserMessage(text, collector, sender, input_channel=self.name(), metadata=self.get_metadata(request))
            try:
                await on_new_message(once.with_message_id(message, message_id))
            except Exception as failure:  # the message guard normally catches these already
                logger.error("Handling a %s message failed (%s).", self.name(), type(failure).__name__)
                return response.json([{"recipient_id": sender, "text": SOMETHING_WENT_WRONG}])
            return response.json(collector.messages)

        self.extend_blueprint(blueprint)
        return blueprint

    def extend_blueprint(self, blueprint: Blueprint) -> None:
        """More routes for subclasses."""


class WebChatInput(CheckedRestInput):
    """The website widget's channel."""

    page = "demo.html"
    page_route = "/demo"

    @classmethod
    def name(cls) -> Text:
        return "web"

    def extend_blueprint(self, blueprint: Blueprint) -> None:
        blueprint.static("/static", str(WEB_DIR), name=f"{self.name()}_static")

        @blueprint.route(self.page_route, methods=["GET"], name=f"{self.name()}_page")
        async def page(request: Request) -> HTTPResponse:
            return await response.file(str(WEB_DIR / self.page), headers=SECURITY_HEADERS)

        @blueprint.route("/forget", methods=["POST"], name=f"{self.name()}_forget")
        async def forget(request: Request) -> HTTPResponse:
            """Delete this channel's conversation `sender` now (no confirmation: the kiosk's reset)."""
            try:
                data = json.loads(request.body or b"")
            except (ValueError, RecursionError):
                data = None
            sender = data.get("sender") if isinstance(data, dict) else None
            if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
                return response.json({"error": "invalid_sender",
                                      "message": 'Send {"sender": "<conversation id>"}.'}, status=400)
            deleted = await forget_conversation(request.app, sender, self.name())
            return response.json({"deleted": deleted})


class KioskInput(WebChatInput):
    """The reception kiosk's channel: same protocol, its own page, marked as "kiosk"."""

    page = "kiosk.html"
    page_route = "/screen"

    @classmethod
    def name(cls) -> Text:
        return "kiosk"


async def forget_conversation(app: Any, sender: str, channel: str) -> bool:
    """Delete the conversation if it belongs to `channel`, under its lock so no turn is half-saved."""
    from bot import retention
    from bot.security import hooks

    agent = getattr(app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return False
    async with agent.lock_store.lock(sender):
        tracker = await agent.tracker_store.retrieve(sender)
        if tracker is None or tracker.get_latest_input_channel() not in (None, channel):
            return False
        await retention.delete_conversation(agent.tracker_store, sender)
    hooks.forget_owner(sender)
    logger.info("Deleted a %s conversation on request.", channel)
    return True


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
