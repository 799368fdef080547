"""Reading the conversation out of the tracker, and the slots the actions keep."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.advice.conversation import State
from bot.advice.profile import Profile

SCREENED = "screened"
PENDING_QUESTION = "pending_question"
REQUEST = "request"
ASKED = "asked_questions"
HEALTH_NOTICE_SHOWN = "health_notice_shown"
CRISIS_SUPPORT = "crisis_support"
# In "is that painful?" the pain is the massage's, not a symptom of the person.
SYMPTOMS_NOT_THEIRS = {"ask_painful"}


def user_turns(tracker: Tracker) -> List[List[Dict[str, Any]]]:
    """Entity lists of the user's messages in the current session, oldest first."""
    turns: List[List[Dict[str, Any]]] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            turns = []
        elif event.get("event") == "user":
            parse = event.get("parse_data") or {}
            entities = list(parse.get("entities") or [])
            if (parse.get("intent") or {}).get("name") in SYMPTOMS_NOT_THEIRS:
                entities = [e for e in entities if e.get("entity") != "symptom"]
            turns.append(entities)
    return turns


def profile_from(tracker: Tracker) -> Profile:
    return Profile.from_turns(user_turns(tracker))


def latest_entities(tracker: Tracker, kind: str) -> List[str]:
    """Canonical ids of `kind` in the latest message that the person states for themselves."""
    values = []
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == kind and entity.get("role") != "negated":
            value = entity.get("value")
            if isinstance(value, str) and value not in values:
                values.append(value)
    return values


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def state_from(tracker: Tracker) -> State:
    return State(
        screened=bool(tracker.get_slot(SCREENED)),
        pending=tracker.get_slot(PENDING_QUESTION),
        request=tracker.get_slot(REQUEST) or State().request,
        asked=tuple(tracker.get_slot(ASKED) or ()),
    )


def state_events(state: State) -> List[SlotSet]:
    return [
        SlotSet(SCREENED, state.screened),
        SlotSet(PENDING_QUESTION, state.pending),
        SlotSet(REQUEST, state.request),
        SlotSet(ASKED, list(state.asked)),
    ]


def health_notice_needed(tracker: Tracker) -> Optional[SlotSet]:
    """The not-medical-advice note is shown once per conversation; returns the event to record it."""
    if tracker.get_slot(HEALTH_NOTICE_SHOWN):
        return None
    return SlotSet(HEALTH_NOTICE_SHOWN, True)
