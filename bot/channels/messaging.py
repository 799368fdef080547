"""Messaging apps through Rasa's own connectors, with SMS-friendly buttons for Twilio.

Telegram and Slack show buttons natively. Rasa's Telegram connector registers its webhook in a
short-lived event loop at start-up and keeps the HTTP session bound to it, so the first reply
fails with "Event loop is closed"; the Telegram channel here closes that session so a new one
is opened in the server's loop. Slack's connector is used as it is. SMS (and
WhatsApp through Twilio) has no buttons: this Twilio channel sends them as a numbered list in the
same message, and maps a reply such as "2" to that option, looking the options up in the
conversation's tracker so it works with several Rasa replicas.
"""
from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, Sanic

from bot.channels.numbered import last_buttons, numbered_text, resolve_numbered_reply


class NumberedTwilioOutput(TwilioOutput):
    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_message(recipient_id, numbered_text(text, buttons))


class NumberedTwilioInput(TwilioInput):
    """Rasa's Twilio connector (SMS and WhatsApp) with numbered options instead of buttons."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    def get_output_channel(self) -> NumberedTwilioOutput:
        return NumberedTwilioOutput(self.account_sid, self.auth_token, self.twilio_number)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        server: Dict[str, Sanic] = {}

        async def with_numbers_resolved(message: UserMessage) -> None:
            message.text = await self._resolve(server.get("app"), message.sender_id, message.text)
            await on_new_message(message)

        blueprint = super().blueprint(with_numbers_resolved)

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
    """Rasa's Telegram connector, with the start-up HTTP session closed after registering."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def get_output_channel(self) -> TelegramOutput:
        channel = TelegramOutput(self.access_token)

        async def register() -> None:
            try:
                await channel.set_webhook(url=self.webhook_url)
            finally:
                await channel.close()

        asyncio.run(register())
        return channel
