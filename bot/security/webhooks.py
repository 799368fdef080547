"""Is this webhook request really from the messaging app? Twilio and Telegram checks.

Slack is checked by Rasa's own Slack connector (X-Slack-Signature with the signing secret).
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Iterable, Mapping, Optional, Sequence

from twilio.request_validator import RequestValidator

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"


def telegram_secret(bot_token: str, configured: Optional[str] = None) -> str:
    """The secret registered with setWebhook: TELEGRAM_SECRET_TOKEN, or one derived from the bot
    token (so every replica agrees on it without another setting). Telegram allows 1-256
    characters of A-Z, a-z, 0-9, _ and -."""
    if configured:
        return configured
    return hmac.new(bot_token.encode(), b"telegram-webhook-secret", hashlib.sha256).hexdigest()


def telegram_request_is_authentic(headers: Mapping[str, str], secret: str) -> bool:
    provided = headers.get(TELEGRAM_SECRET_HEADER) or ""
    return bool(secret) and hmac.compare_digest(provided.encode("utf-8", "replace"), secret.encode())


def twilio_request_is_authentic(auth_token: str, urls: Sequence[str], form: Mapping[str, Iterable[str]],
                                signature: Optional[str]) -> bool:
    """Twilio signs the URL it called plus the sorted form fields with the account's auth token.
    `urls` are the candidates for the URL Twilio called (the configured public one first)."""
    if not auth_token or not signature:
        return False
    validator = RequestValidator(auth_token)
    params = {key: list(values) for key, values in form.items()}
    return any(validator.validate(url, _MultiDict(params), signature) for url in urls if url)


class _MultiDict(dict):
    """Form fields with repeated keys, as Twilio's validator reads them (getall)."""

    def getall(self, key: str) -> list:
        return self[key]
