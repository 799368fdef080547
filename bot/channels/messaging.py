"""Messaging apps through Rasa's own connectors, with signed webhooks and SMS-friendly buttons.

Every webhook request must prove it comes from the app: Twilio's X-Twilio-Signature is checked
with the account's auth token (the `twilio` package's RequestValidator), Telegram's
X-Telegram-Bot-Api-Secret-Token against the secret registered with setWebhook (TELEGRAM_SECRET_TOKEN,
or one derived from the bot token), Slack's X-Slack-Signature with the signing secret (Rasa's own
check). Unsigned or wrongly signed requests get 403 and are logged without their content; signed
but malformed ones get 400. Rasa's connectors re-raise errors in "debug mode" (a 500); here they don't.

Telegram and Slack show buttons natively. Rasa's Telegram connector registers its webhook in a
short-lived event loop at start-up and keeps the HTTP session bound to it, so the first reply
fails with "Event loop is closed"; the Telegram channel here closes that session so a new one
is opened in the server's loop. Slack's connector is used as it is. SMS (and
WhatsApp through Twilio) has no buttons: this Twilio channel sends them as a numbered list in the
same message, and maps a reply such as "2" to that option, looking the options up in the
conversation's tracker so it works with several Rasa replicas.

Each app's own id for a message becomes the message id (Twilio's MessageSid, Telegram's
update_id, Slack's event_id): a webhook the app re-delivers because it missed our answer is
recognised and not handled a second time (bot/delivery/once.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.slack import SlackInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.numbered import last_buttons, numbered_text, resolve_numbered_reply
from bot.delivery import once
from bot.security import webhooks

logger = logging.getLogger(__name__)
MAX_SENDER_CHARS = 64
# The app's id of the message in the request being handled: set by each channel's request
# middleware, read when Rasa's connector hands the message on (same request, same task).
_app_message_id: ContextVar[Optional[str]] = ContextVar("app_message_id", default=None)


def _remember_message_id(channel: str, value: Any) -> None:
    _app_message_id.set(f"{channel}:{value}" if isinstance(value, (str, int)) and not isinstance(value, bool)
                        and str(value) else None)


def _with_app_message_id(on_new_message: Callable[[UserMessage], Awaitable[Any]]
                         ) -> Callable[[UserMessage], Awaitable[Any]]:
    async def handler(message: UserMessage) -> Any:
        return await on_new_message(once.with_message_id(message, _app_message_id.get()))
    return handler


def _refuse(channel: str, request: Request) -> HTTPResponse:
    logger.warning("Refused a %s webhook request without a valid signature (from %s).", channel,
                   request.remote_addr or request.ip)
    return response.json({"error": "forbidden", "message": "The request is not signed."}, status=403)


def _bad(message: str) -> HTTPResponse:
    return response.json({"error": "bad_request", "message": message}, status=400)


class NumberedTwilioOutput(TwilioOutput):
    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, numbered_text(text, buttons))


class NumberedTwilioInput(TwilioInput):
    """Rasa's Twilio connector (SMS and WhatsApp): signed requests only, numbered options."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "NumberedTwilioInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("account_sid"), credentials.get("auth_token"),
                   credentials.get("twilio_number"), debug_mode=False,
                   webhook_url=credentials.get("webhook_url"))

    def __init__(self, account_sid: Optional[Text], auth_token: Optional[Text], twilio_number: Optional[Text],
                 debug_mode: bool = False, webhook_url: Optional[Text] = None) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=debug_mode)
        self.webhook_url = webhook_url

    def _signed_urls(self, request: Request) -> List[str]:
        """The URL Twilio called: TWILIO_WEBHOOK_URL when set (behind a proxy), else this request's
        URL as seen here, also with https (TLS usually ends at the proxy)."""
        if self.webhook_url:
            return [self.webhook_url]
        url = request.url
        return [url, "https://" + url.split("://", 1)[-1]]

    def _check(self, request: Request) -> Optional[HTTPResponse]:
        if not request.path.endswith("/webhook") or request.method != "POST":
            return None
        signature = request.headers.get(webhooks.TWILIO_SIGNATURE_HEADER)
        if not webhooks.twilio_request_is_authentic(self.auth_token or "", self._signed_urls(request),
                                                    request.form, signature):
            return _refuse(self.name(), request)
        sender, body = request.form.get("From"), request.form.get("Body")
        if not isinstance(sender, str) or not sender or len(sender) > MAX_SENDER_CHARS:
            return _bad("From is missing.")
        if not isinstance(body, str) and not self._is_location_message(request):
            return _bad("Body is missing.")
        _remember_message_id(self.name(), request.form.get("MessageSid"))
        return None

    def get_output_channel(self) -> NumberedTwilioOutput:
        return NumberedTwilioOutput(self.account_sid, self.auth_token, self.twilio_number)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        server: Dict[str, Sanic] = {}

        async def with_numbers_resolved(message: UserMessage) -> None:
            message.text = await self._resolve(server.get("app"), message.sender_id, message.text)
            await on_new_message(message)

        blueprint = super().blueprint(_with_app_message_id(with_numbers_resolved))

        @blueprint.middleware("request")
        async def signed_only(request: Request) -> Optional[HTTPResponse]:
            return self._check(request)

        @blueprint.listener("before_server_start")
        async def keep_app(app: Sanic, _loop: Any) -> None:
            server["app"] = app

        return blueprint

    @staticmethod
    async def _resolve(app: Optional[Sanic], sender_id: Text, text: Optional[Text]) -> Optional[Text]:
        if app is None or not text or not text.strip().rstrip(".").isdigit():
            return text
        agent = getattr(app.ctx, "agent", None)
        if agent is None or agent.tracker_store is None:
            return text
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            return text
        events = [event.as_dict() for event in tracker.events]
        return resolve_numbered_reply(text, last_buttons(events))


class TelegramWebhookInput(TelegramInput):
    """Rasa's Telegram connector: webhook registered with a secret token that every request must
    carry, and the start-up HTTP session closed after registering."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TelegramWebhookInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"),
                   debug_mode=False, secret_token=credentials.get("secret_token"))

    def __init__(self, access_token: Optional[Text], verify: Optional[Text], webhook_url: Optional[Text],
                 debug_mode: bool = False, secret_token: Optional[Text] = None) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=debug_mode)
        self.secret_token = webhooks.telegram_secret(access_token or "", secret_token)

    def get_output_channel(self) -> TelegramOutput:
        channel = TelegramOutput(self.access_token)

        async def register() -> None:
            try:
                # aiogram 2.15's set_webhook has no secret_token argument: call the method directly.
                await channel.request("setWebhook", {"url": self.webhook_url, "secret_token": self.secret_token})
            finally:
                await channel.close()

        asyncio.run(register())
        return channel

    def _check(self, request: Request) -> Optional[HTTPResponse]:
        if request.path.endswith("/set_webhook"):
            # Rasa's route would register the webhook again without the secret: not from outside.
            return response.json({"error": "forbidden", "message": "Not available."}, status=403)
        if not request.path.endswith("/webhook") or request.method != "POST":
            return None
        if not webhooks.telegram_request_is_authentic(request.headers, self.secret_token):
            return _refuse(self.name(), request)
        if not telegram_update_is_well_formed(request.body):
            return _bad("Not a Telegram update.")
        _remember_message_id(self.name(), json.loads(request.body)["update_id"])
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(_with_app_message_id(on_new_message))

        @blueprint.middleware("request")
        async def signed_only(request: Request) -> Optional[HTTPResponse]:
            return self._check(request)

        return blueprint


def telegram_update_is_well_formed(body: bytes) -> bool:
    """An update Rasa's connector can read without failing: an object with an integer update_id,
    and a message (or edited message, or button press) whose chat has an integer id."""
    try:
        update = json.loads(body or b"")
    except (ValueError, RecursionError):
        return False
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return False
    if "callback_query" in update:
        query = update["callback_query"]
        return (isinstance(query, dict) and isinstance(query.get("data"), str)
                and _message_is_well_formed(query.get("message")))
    message = update.get("edited_message", update.get("message"))
    return _message_is_well_formed(message)


def _message_is_well_formed(message: Any) -> bool:
    if not isinstance(message, dict):
        return False
    chat = message.get("chat")
    if not isinstance(chat, dict) or not isinstance(chat.get("id"), int) or isinstance(chat.get("id"), bool):
        return False
    text = message.get("text")
    return text is None or isinstance(text, str)


class SignedSlackInput(SlackInput):
    """Rasa's Slack connector; a request without Slack's signature gets 403 before it is read."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(_with_app_message_id(on_new_message))

        @blueprint.middleware("request")
        async def signed_only(request: Request) -> Optional[HTTPResponse]:
            if request.path.endswith("/webhook") and not self.is_request_from_slack_authentic(request):
                return _refuse(self.name(), request)
            _remember_message_id(self.name(), slack_event_id(request.body))
            return None

        return blueprint


def slack_event_id(body: bytes) -> Optional[str]:
    """The Events API's event_id of a JSON request (None for slash commands and button presses)."""
    try:
        data = json.loads(body or b"")
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    event_id = data.get("event_id") if isinstance(data, dict) else None
    return event_id if isinstance(event_id, str) else None
