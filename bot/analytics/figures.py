"""Which events count as what (pure: no I/O, no Rasa).

An event is one JSON object from Rasa's event broker: `event` (user, bot, action, ...),
`sender_id`, `timestamp`, and for user messages `input_channel`, `text` and `parse_data`.

Crisis messages (bot/nlu/crisis_override.py) are counted, per tier, and their text is never kept:
not as a fallback, and not as the message before one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Collection, Dict, List, Optional

from bot.advice.crisis import CRISIS_ENTITY, TIER_ORDER, crisis_in
from bot.nlu.crisis import find_crisis

METRICS = ("conversations", "recommendations", "booking_offers", "handoffs", "red_flags",
           "absolute_contraindications", "fallbacks",
           "crisis_replies", "crisis_danger_now", "crisis_suicide", "crisis_abuse")
CRISIS_INTENT = "report_crisis"
RECOMMENDATION_MARK = "Would you like to know more about the first option"
BOOK_PAYLOAD = "/book_session"
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_default_fallback"


@dataclass
class Counted:
    """What one event adds: metric names, and the message that caused a fallback."""
    day: str
    metrics: List[str] = field(default_factory=list)
    fallback_text: Optional[str] = None
    channel: Optional[str] = None  # set by user messages; other events use the conversation's
    private: bool = False  # a crisis message: its text must not be kept, even in memory


def crisis_tier(parse: Dict[str, Any]) -> Optional[str]:
    """The tier the crisis reply answered ("" when the intent says crisis without a tier);
    None for an ordinary message. Someone else's crisis counts too: it gets a crisis reply."""
    crisis = crisis_in(parse.get("entities") or [])
    if crisis is not None:
        return crisis.tier
    intent = (parse.get("intent") or {}).get("name")
    if intent == CRISIS_INTENT or any(e.get("entity") == CRISIS_ENTITY for e in parse.get("entities") or []):
        return ""
    return None


def keepable(text: Optional[str]) -> Optional[str]:
    """The text, if it may be kept as a fallback message: never one that speaks of a crisis, even
    when the NLU did not mark it (a model from before the crisis layer)."""
    if text is None or find_crisis(text) is not None:
        return None
    return text


def day_of(event: Dict[str, Any]) -> str:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc).date().isoformat()


def count(event: Dict[str, Any], absolute_conditions: Collection[str], last_user_text: Optional[str]) -> Counted:
    """The figures one event contributes (conversations are counted by the store, once per
    conversation, channel and day)."""
    kind = event.get("event")
    counted = Counted(day_of(event))
    if kind == "user":
        counted.channel = event.get("input_channel") or "unknown"
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        text = event.get("text") or ""
        tier = crisis_tier(parse)
        counted.private = tier is not None or keepable(text) is None
        if tier is not None:
            counted.metrics.append("crisis_replies")
            if tier in TIER_ORDER:
                counted.metrics.append(f"crisis_{tier}")
        elif intent == FALLBACK_INTENT:
            counted.metrics.append("fallbacks")
            counted.fallback_text = None if counted.private else text
        own = [e for e in parse.get("entities") or [] if e.get("role") not in ("negated", "other")]
        if intent == "report_emergency" or any(e.get("entity") == "red_flag" for e in own):
            counted.metrics.append("red_flags")
        if any(e.get("entity") == "condition" and e.get("value") in absolute_conditions for e in own):
            counted.metrics.append("absolute_contraindications")
    elif kind == "action":
        name = event.get("name")
        if name == "action_handoff":
            counted.metrics.append("handoffs")
        elif name == FALLBACK_ACTION:
            counted.metrics.append("fallbacks")
            counted.fallback_text = keepable(last_user_text)
    elif kind == "bot":
        text = event.get("text") or ""
        buttons = (event.get("data") or {}).get("buttons") or []
        if RECOMMENDATION_MARK in text:
            counted.metrics.append("recommendations")
        if any((b.get("payload") or "").startswith(BOOK_PAYLOAD) for b in buttons):
            counted.metrics.append("booking_offers")
    return counted


def count_without_text(event: Dict[str, Any], absolute_conditions: Collection[str]) -> Counted:
    """The metrics `count` gives an event, for a reader that keeps no text (the owner's dashboard).

    What the person wrote only decides whether a fallback's text may be kept, by scanning it for
    a crisis, and that scan costs more than the rest of the counting; the metrics come from the
    NLU's parse, the action and the bot's reply. So the person's words are left out before
    counting, and no text comes back."""
    if event.get("event") == "user":
        event = {**event, "text": ""}
    counted = count(event, absolute_conditions, None)
    counted.fallback_text = None
    return counted
