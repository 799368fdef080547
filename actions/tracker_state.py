"""Reading the conversation out of the tracker, and the slots the actions keep.

An action reads the tracker once, into a `Turn`, and passes that value down: the profile is
rebuilt from every message of the session, so reading it again in each helper would repeat the
walk through the events, and one value also means every helper sees the same conversation.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.advice.conversation import State
from bot.advice.crisis import crisis_in
from bot.advice.profile import Profile

SCREENED = "screened"
PENDING_QUESTION = "pending_question"
REQUEST = "request"
ASKED = "asked_questions"
HEALTH_NOTICE_SHOWN = "health_notice_shown"
CRISIS_SUPPORT = "crisis_support"
# In "is that painful?" the pain is the massage's, not a symptom of the person.
SYMPTOMS_NOT_THEIRS = {"ask_painful"}


@dataclass(frozen=True)
class Turn:
    """The conversation as one action sees it: what the person just said, what they have told us
    about themselves, and where the conversation stands (its slots and the form that is open)."""

    text: str
    intent: str
    intent_confidence: float
    entities: Tuple[Dict[str, Any], ...]
    profile: Profile
    slots: Mapping[str, Any]
    active_form: Optional[str]
    channel: str
    sender: str
    # Another action has already answered the latest message (the form's question after advice).
    replied: bool
    # A message before the latest one spoke of a crisis, in this session or an earlier one.
    crisis_before: bool

    @classmethod
    def read(cls, tracker: Tracker) -> "Turn":
        """The one read of the tracker an action makes, in a single pass over its events."""
        session: List[List[Dict[str, Any]]] = []
        previous: Optional[Dict[str, Any]] = None
        crisis_before = replied = False
        for event in tracker.events:
            kind = event.get("event")
            if kind == "session_started":
                session = []
            elif kind == "user":
                if previous is not None and crisis_in(_parse(previous).get("entities") or []):
                    crisis_before = True
                previous, replied = event, False
                session.append(_own_entities(_parse(event)))
            elif kind == "bot":
                replied = True
        latest = tracker.latest_message or {}
        intent = latest.get("intent") or {}
        return cls(
            text=latest.get("text") or "",
            intent=intent.get("name") or "",
            intent_confidence=float(intent.get("confidence") or 0.0),
            entities=tuple(latest.get("entities") or ()),
            profile=Profile.from_turns(session),
            slots=MappingProxyType(dict(tracker.slots)),
            active_form=(tracker.active_loop or {}).get("name"),
            channel=tracker.get_latest_input_channel() or "",
            sender=tracker.sender_id or "",
            replied=replied,
            crisis_before=crisis_before,
        )

    def slot(self, name: str) -> Any:
        return self.slots.get(name)

    def own(self, kind: str) -> List[str]:
        """Canonical ids of `kind` in the latest message that the person states for themselves."""
        values: List[str] = []
        for entity in self.entities:
            if entity.get("entity") == kind and entity.get("role") != "negated":
                value = entity.get("value")
                if isinstance(value, str) and value not in values:
                    values.append(value)
        return values

    @property
    def state(self) -> State:
        """Where the advice conversation stands (bot.advice.conversation)."""
        return State(
            screened=bool(self.slot(SCREENED)),
            pending=self.slot(PENDING_QUESTION),
            request=self.slot(REQUEST) or State().request,
            asked=tuple(self.slot(ASKED) or ()),
        )

    def health_notice_needed(self) -> Optional[SlotSet]:
        """The not-medical-advice note is shown once per conversation; returns the event to record it."""
        if self.slot(HEALTH_NOTICE_SHOWN):
            return None
        return SlotSet(HEALTH_NOTICE_SHOWN, True)


def _parse(event: Dict[str, Any]) -> Dict[str, Any]:
    return event.get("parse_data") or {}


def _own_entities(parse: Dict[str, Any]) -> List[Dict[str, Any]]:
    entities = list(parse.get("entities") or [])
    if (parse.get("intent") or {}).get("name") in SYMPTOMS_NOT_THEIRS:
        entities = [e for e in entities if e.get("entity") != "symptom"]
    return entities


def user_turns(tracker: Tracker) -> List[List[Dict[str, Any]]]:
    """Entity lists of the user's messages in the current session, oldest first."""
    turns: List[List[Dict[str, Any]]] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            turns = []
        elif event.get("event") == "user":
            turns.append(_own_entities(_parse(event)))
    return turns


def profile_from(tracker: Tracker) -> Profile:
    return Profile.from_turns(user_turns(tracker))


def state_events(state: State) -> List[SlotSet]:
    return [
        SlotSet(SCREENED, state.screened),
        SlotSet(PENDING_QUESTION, state.pending),
        SlotSet(REQUEST, state.request),
        SlotSet(ASKED, list(state.asked)),
    ]
