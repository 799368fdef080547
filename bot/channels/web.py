"""Input channels for the website chat widget and the reception kiosk.

Both speak Rasa's REST protocol (POST {"sender", "message"} to .../webhook, replies as JSON) and
also serve their own static files, so `make run` needs no second web server:

- /webhooks/web/static/widget.js   the embeddable widget; /webhooks/web/demo   a demo page
- /webhooks/kiosk/screen           the full-screen reception kiosk

Conversations record which one they came from as their input channel ("web" or "kiosk").
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


class WebChatInput(RestInput):
    """The website widget's channel."""

    page = "demo.html"
    page_route = "/demo"

    @classmethod
    def name(cls) -> Text:
        return "web"

    def _extract_input_channel(self, req: Request) -> Text:
        """The channel is fixed by the URL, never taken from the client."""
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return {"channel": self.name()}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        blueprint.static("/static", str(WEB_DIR), name=f"{self.name()}_static")

        @blueprint.route(self.page_route, methods=["GET"], name=f"{self.name()}_page")
        async def page(request: Request) -> HTTPResponse:
            return await response.file(str(WEB_DIR / self.page), headers=SECURITY_HEADERS)

        return blueprint


class KioskInput(WebChatInput):
    """The reception kiosk's channel: same protocol, its own page, marked as "kiosk"."""

    page = "kiosk.html"
    page_route = "/screen"

    @classmethod
    def name(cls) -> Text:
        return "kiosk"


SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src *; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
