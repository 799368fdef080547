"""Pure checks on what a client sends: message text, intent payloads, REST bodies, rates.

Nothing here does I/O, so all of it is unit-tested without a server.
"""
from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable, Collection, Deque, Dict, NamedTuple, Optional, Tuple

from bot.nlu.crisis import find_crisis
from bot.security.settings import Rate

# Friendly replies, in the assistant's voice.
TOO_LONG = ("That message is too long for me to read ({limit} characters at most). Could you tell me "
            "in a sentence or two how you feel or what you'd like to know?")
EMPTY = "I didn't get any text. Tell me how you feel, or ask me anything about massage."
TOO_FAST = "You're sending messages faster than I can read them. Please wait a minute, then try again."
NOT_UNDERSTOOD = "Sorry, I didn't understand that. Could you say it in your own words?"
OTHER_CHANNEL = "This conversation can't be continued here. Please start a new one."
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side. Please try again in a moment."
# The conversation store was unreachable for longer than STORE_RETRY_S: the message was not handled
# (nothing of it is stored), so sending it again is safe.
TRY_AGAIN_SOON = ("Sorry, I couldn't take your message just now, so nothing was saved. "
                  "Please send it again in a moment.")

SENDER_PATTERN = re.compile(r"^[A-Za-z0-9._:@+\-]{1,128}$")
# Rasa's own payload syntax: /intent, /intent@0.9, /intent{"entity": "value"}.
PAYLOAD_PATTERN = re.compile(r"^/(?P<intent>[A-Za-z0-9_]{1,64})(?P<confidence>@[0-9.]{1,8})?(?P<entities>\{.*\})?$",
                             re.DOTALL)
ENTITY_VALUE_PATTERN = re.compile(r"^[\w .'\-]{1,64}$")
MAX_PAYLOAD_ENTITIES = 8
# Rasa's built-in intents that only the server itself may send.
INTERNAL_INTENTS = {"restart", "session_start", "back", "nlu_fallback"}
# Characters removed from every message: C0/C1 controls (but tab and newline), lone surrogates
# (they cannot be stored as UTF-8) and NUL (PostgreSQL text columns refuse it).
_CONTROL = {c for c in range(0x20) if c not in (0x09, 0x0A)} | {0x7F} | set(range(0x80, 0xA0))


class BadRequest(Exception):
    """A request the server refuses with a 4xx status and a clear, non-sensitive reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> Dict[str, str]:
        return {"error": self.code, "message": self.message}


def clean_text(text: Any) -> str:
    """The text with control characters and unencodable surrogates removed (NFC-normalised)."""
    if not isinstance(text, str):
        return ""
    kept = "".join(ch for ch in text if ord(ch) not in _CONTROL and not 0xD800 <= ord(ch) <= 0xDFFF)
    return unicodedata.normalize("NFC", kept)


def check_payload(text: str, intents: Collection[str], entities: Collection[str]) -> bool:
    """Whether a message starting with "/" is a well-formed payload a button could have sent:
    a known, user-facing intent and at most a few known entities with short plain values."""
    match = PAYLOAD_PATTERN.match(text)
    if not match or match.group("intent") not in intents or match.group("intent") in INTERNAL_INTENTS:
        return False
    if not match.group("entities"):
        return True
    try:
        parsed = json.loads(match.group("entities"))
    except (ValueError, RecursionError):
        return False
    if not isinstance(parsed, dict) or len(parsed) > MAX_PAYLOAD_ENTITIES:
        return False
    for name, value in parsed.items():
        values = value if isinstance(value, list) else [value]
        if name not in entities or not values or len(values) > MAX_PAYLOAD_ENTITIES:
            return False
        if not all(isinstance(v, str) and ENTITY_VALUE_PATTERN.match(v) for v in values):
            return False
    return True


class RestMessage(NamedTuple):
    sender: str
    message: str
    message_id: Optional[str] = None  # the client's id for this message (retries send the same one)


def parse_rest_body(body: bytes, content_type: Optional[str]) -> RestMessage:
    """Sender, message and the optional message id from a REST-protocol request, or BadRequest
    saying what is wrong."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media and media not in ("application/json", "text/plain"):
        raise BadRequest(415, "unsupported_media_type", "Send the message as JSON (Content-Type: application/json).")
    if not body or not body.strip():
        raise BadRequest(400, "empty_body", 'The body is empty. Send JSON like {"sender": "an-id", "message": "hi"}.')
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadRequest(400, "invalid_json", 'The body is not valid JSON. Send {"sender": "an-id", "message": "hi"}.')
    if not isinstance(data, dict):
        raise BadRequest(400, "not_an_object", 'The body must be a JSON object: {"sender": "an-id", "message": "hi"}.')
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        raise BadRequest(400, "invalid_sender", '"sender" must be a string of 1 to 128 letters, digits or ._:@+-')
    if not isinstance(message, str):
        raise BadRequest(400, "invalid_message", '"message" must be a string.')
    message_id = data.get("message_id")
    if message_id is not None and (not isinstance(message_id, str) or not SENDER_PATTERN.match(message_id)):
        raise BadRequest(400, "invalid_message_id", '"message_id", when sent, must be a string of 1 to 128 letters, '
                                                    'digits or ._:@+-')
    return RestMessage(sender, message, message_id)


class RateLimiter:
    """Sliding-window counter per key (a conversation or a client address), bounded in memory."""

    def __init__(self, rate: Rate, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.max_keys, self.clock = rate, max_keys, clock
        self._hits: "OrderedDict[str, Deque[float]]" = OrderedDict()
        self._warned: Dict[str, float] = {}

    def allow(self, key: str) -> bool:
        """Count one message for `key`; False when it is over the limit (and is not counted)."""
        if not self.rate.enabled:
            return True
        now = self.clock()
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.rate.seconds:
            hits.popleft()
        allowed = len(hits) < self.rate.count
        if allowed:
            hits.append(now)
            self._warned.pop(key, None)
        self._hits[key] = hits
        while len(self._hits) > self.max_keys:
            old, _ = self._hits.popitem(last=False)
            self._warned.pop(old, None)
        return allowed

    def first_refusal(self, key: str) -> bool:
        """True once per window for a refused key, so a refusal is answered once, not every time."""
        now = self.clock()
        if now - self._warned.get(key, float("-inf")) < self.rate.seconds:
            return False
        self._warned[key] = now
        return True

    def retry_after(self, key: str) -> int:
        hits = self._hits.get(key)
        if not hits:
            return 1
        return max(1, math.ceil(hits[0] + self.rate.seconds - self.clock()))


@dataclass
class Verdict:
    """What to do with an incoming message: pass it on (reply is None) or answer `reply`."""

    text: str
    reply: Optional[str] = None


def crisis_excerpt(text: str, max_chars: int) -> Optional[str]:
    """For a message too long to read that speaks of a crisis: the part around it, within the limit.

    Someone in crisis must get the crisis reply, not "that message is too long"; only this excerpt
    reaches the assistant and is stored.
    """
    signal = find_crisis(text)
    if signal is None:
        return None
    start = max(0, min(signal.start - max_chars // 4, len(text) - max_chars))
    return text[start:start + max_chars].strip() or None


def screen_message(raw: Any, max_chars: int, intents: Collection[str], entities: Collection[str]) -> Verdict:
    """The cleaned text, or the friendly reply that takes its place (too long, empty, bad payload)."""
    text = clean_text(raw)
    if len(text) > max_chars:
        excerpt = crisis_excerpt(text, max_chars)
        if excerpt:
            return Verdict(text=excerpt)
        return Verdict(text="", reply=TOO_LONG.format(limit=f"{max_chars:,}"))
    stripped = text.strip()
    if not stripped:
        return Verdict(text="", reply=EMPTY)
    if stripped == "/start":  # Telegram's start command
        return Verdict(text="/greet")
    if stripped.startswith("/") and not check_payload(stripped, intents, entities):
        return Verdict(text="", reply=NOT_UNDERSTOOD)
    return Verdict(text=stripped)
