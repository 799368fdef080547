"""One text message to a client, by SMS or WhatsApp, through Twilio's REST API.

Configured by the environment, with the same names the Twilio chat channel reads (see the
README), so the client's reply reaches the assistant on the number the message came from:
- TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER: all three, or nothing is sent;
- TWILIO_API_URL: where Twilio's API is (https://api.twilio.com; a local stand-in in tests);
- TWILIO_TIMEOUT_S: seconds to wait for Twilio (10).

A recipient written "whatsapp:+15550100" gets a WhatsApp message, sent from the WhatsApp side of
TWILIO_NUMBER; a plain E.164 number gets an SMS. `send_sms` raises on any failure: callers decide
how to log it, and they log the error's type only, since Twilio's answers quote the number.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

import requests

DEFAULT_API_URL = "https://api.twilio.com"
DEFAULT_TIMEOUT_S = 10.0
WHATSAPP = "whatsapp:"


@dataclass(frozen=True)
class SmsSettings:
    """The Twilio account messages are sent from."""

    account_sid: str
    auth_token: str
    number: str
    api_url: str = DEFAULT_API_URL
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __repr__(self) -> str:  # never print the token, even in a traceback's locals
        return f"SmsSettings(account_sid={self.account_sid!r}, number={self.number!r}, api_url={self.api_url!r})"


class SmsRejected(Exception):
    """Twilio answered with something other than success; `status` is the HTTP status."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"Twilio answered {status}")


def sms_settings(env: Optional[Mapping[str, str]] = None) -> Optional[SmsSettings]:
    """The settings from the environment, or None when texts are off: a deployment without
    Twilio still books, it just does not text."""
    env = os.environ if env is None else env
    sid, token, number = (
        (env.get(name) or "").strip() for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_NUMBER")
    )
    if not (sid and token and number):
        return None
    return SmsSettings(
        account_sid=sid, auth_token=token, number=number,
        api_url=((env.get("TWILIO_API_URL") or "").strip() or DEFAULT_API_URL).rstrip("/"),
        timeout_s=float(env.get("TWILIO_TIMEOUT_S") or DEFAULT_TIMEOUT_S),
    )


def send_sms(to: str, body: str, settings: SmsSettings) -> str:
    """Send `body` to `to` now, in the calling thread, and return Twilio's message id; raises
    SmsRejected on a non-2xx answer and what `requests` raises when Twilio cannot be reached."""
    response = requests.post(
        messages_url(settings),
        data={"To": to, "From": sender_for(to, settings.number), "Body": body},
        auth=(settings.account_sid, settings.auth_token),
        timeout=settings.timeout_s,
    )
    if not 200 <= response.status_code < 300:
        raise SmsRejected(response.status_code)
    return str(_json(response).get("sid") or "")


def messages_url(settings: SmsSettings) -> str:
    return f"{settings.api_url}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"


def sender_for(to: str, number: str) -> str:
    """The From that matches the recipient's channel: Twilio refuses an SMS number writing to a
    WhatsApp address and the other way round."""
    bare = number[len(WHATSAPP):] if number.startswith(WHATSAPP) else number
    return f"{WHATSAPP}{bare}" if to.startswith(WHATSAPP) else bare


def _json(response: requests.Response) -> Mapping[str, object]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
