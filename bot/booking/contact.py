"""How the spa can reach the person: a phone number or an email address, and their name.

Phone numbers go through phonenumbers and must pass `is_valid_number` for the region, so a number
the spa could never dial is sent back to the person instead of being stored. That includes the
fictional 555 numbers: "(555) 010-0123" has no real area code and is rejected, while
"+1 202 555 0143" (a real area code) is accepted. Email addresses go through email-validator
without a DNS lookup (the action server must not wait on the network); its normalised form keeps
the part before the @ as written and lowercases the domain.

Problems come back as codes ("invalid_phone", "invalid_email", "missing"), so the form words them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Tuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email

PHONE = "phone"
EMAIL = "email"
INVALID_PHONE = "invalid_phone"
INVALID_EMAIL = "invalid_email"
MISSING = "missing"

MAX_TEXT = 500
MAX_NAME = 80
DEFAULT_REGION = "US"


@dataclass(frozen=True)
class Contact:
    """A way to reach the person, or why there is none: `value` is E.164 for a phone and the
    normalised address for an email; `problem` is a code when nothing usable was found."""

    kind: Optional[str]
    value: Optional[str]
    problem: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.value is not None


_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\[\]{},;:\"'`]*@[^\s<>()\[\]{},;:\"'`]*")
# Four or more digits, perhaps with separators: someone tried to give a number.
_DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().\-/]*\d")
MIN_DIGITS = 4


def parse_contact(text: str, default_region: str = DEFAULT_REGION) -> Contact:
    """Find the phone number or email address in what the person wrote ("my number is ...",
    "email me at ..."), so the form can store one clean value or say what was wrong with it.
    A valid one beats a broken one; of two valid ones, the one written first wins."""
    value = (text or "")[:MAX_TEXT]
    found = [c for c in (_find_email(value), _find_phone(value, default_region)) if c is not None]
    valid = [c for c in found if c[0].ok]
    chosen = min(valid or found, key=lambda c: c[1], default=None)
    return chosen[0] if chosen is not None else Contact(None, None, MISSING)


def _find_email(text: str) -> Optional[Tuple[Contact, int]]:
    for match in _EMAIL_CANDIDATE.finditer(text):
        candidate = match.group(0).strip(".!?")
        if candidate == "@":
            continue
        try:
            normalised = validate_email(candidate, check_deliverability=False).normalized
        except EmailNotValidError:
            return Contact(EMAIL, None, INVALID_EMAIL), match.start()
        return Contact(EMAIL, normalised), match.start()
    return None


def _find_phone(text: str, region: str) -> Optional[Tuple[Contact, int]]:
    """The first valid phone number, else the first attempt at one (invalid), else None."""
    first_invalid: Optional[int] = None
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if phonenumbers.is_valid_number(match.number):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            return Contact(PHONE, e164), match.start
        if first_invalid is None:
            first_invalid = match.start
    for run in _DIGIT_RUN.finditer(text):
        if sum(ch.isdigit() for ch in run.group(0)) >= MIN_DIGITS and not _inside_email(text, run.start()):
            first_invalid = run.start() if first_invalid is None else min(first_invalid, run.start())
            break
    return None if first_invalid is None else (Contact(PHONE, None, INVALID_PHONE), first_invalid)


def _inside_email(text: str, position: int) -> bool:
    return any(m.start() <= position < m.end() for m in _EMAIL_CANDIDATE.finditer(text) if m.group(0) != "@")


def region_from_phone(spa_phone: str) -> str:
    """The region the spa's own phone number belongs to, so a local number a person types without
    a country code is read the way the spa would dial it; "US" when it cannot be told."""
    try:
        number = phonenumbers.parse(spa_phone or "", None)
    except phonenumbers.NumberParseException:
        return DEFAULT_REGION
    region = phonenumbers.region_code_for_country_code(number.country_code)
    if not region or region == phonenumbers.UNKNOWN_REGION or region == "001":
        return DEFAULT_REGION
    return region


def display_contact(contact_value: str) -> str:
    """A stored contact as staff and the person should read it: a phone in international format
    ("+1 202-555-0143"), an email as it is."""
    value = (contact_value or "").strip()
    if "@" in value or not value:
        return value
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


_NAME_PREFIXES = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|ok|okay|sure|yes|yeah)\b[\s,.!-]*)*"
    r"(?:(?:(?:my\s+(?:full\s+|first\s+)?name\s+is|my\s+name'?s|name'?s|the\s+name\s+is|"
    r"it's\s+under|it\s+is\s+under|put\s+it\s+under|book\s+it\s+under|under|"
    r"i\s+am|i'm|im|it\s+is|it's|its|this\s+is|you\s+can\s+call\s+me|call\s+me)\b|name\s*:)[\s,:]*)?",
    re.IGNORECASE,
)
_NAME_SUFFIXES = re.compile(r"[\s,.!]*(?:\b(?:thanks|thank\s+you|thx|please|pls|here)\b[\s,.!]*)*$", re.IGNORECASE)
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[\s'\-.][^\W\d_]*)*\.?$")
_NOT_NAMES = {
    "massage", "book", "booking", "appointment", "tomorrow", "today", "want", "need", "help", "cancel",
    "stop", "no", "nope", "yes", "yeah", "why", "what", "who", "how", "don't", "dont", "not", "skip",
    "hello", "hi", "hey", "okay", "ok", "sure", "the", "a", "my", "is", "am", "are", "i", "you",
    "rather", "prefer", "anonymous", "nobody", "none", "na", "n/a", "private", "later", "back", "pain",
    "name", "your", "would", "like", "to", "can", "please", "thanks", "do", "it",
}


def parse_name(text: str) -> Optional[str]:
    """The person's name from a reply such as "I'm Ann Lee" or "ann", or None when the reply
    does not look like a name (empty, digits, markup, a sentence, over 80 characters), so the
    form asks again instead of storing "I'd rather not say" as a name."""
    value = " ".join((text or "").replace("’", "'").split())
    if not value or len(value) > MAX_NAME * 2:
        return None
    value = _NAME_PREFIXES.sub("", value, count=1)
    value = _NAME_SUFFIXES.sub("", value).strip(" ,.!-")
    if not value or len(value) > MAX_NAME or not _NAME_CHARS.match(value):
        return None
    words = value.split()
    if sum(ch.isalpha() for ch in value) < 2 or len(words) > 5:
        return None
    if any(word.lower().strip(".") in _NOT_NAMES for word in words):
        return None
    if value == value.lower() or value == value.upper():
        value = re.sub(r"(^|[\s'\-])([^\W\d_])", lambda m: m.group(1) + m.group(2).upper(), value.lower())
    return value
