"""Helpers to run actions against a tracker built from a conversation, as Rasa would (the booking
form included)."""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Dict, List, Optional, Tuple

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionAdvise
from actions.appointment_changes import ActionManageBooking
from actions.booking_form import ActionBookingSubmit, ValidateBookingForm
from actions.booking_questions import AskConfirmed, AskConsent, AskContact, AskName, AskService, AskTime
from actions.short_answer import ActionShortAnswer
from bot.booking.form_logic import FORM
from bot.nlu.matcher import VocabularyMatcher

Turn = Tuple[str, str]  # (intent, text)
PAYLOAD_ENTITIES = re.compile(r"^/\w+(\{.*\})$")


def user_event(intent: str, text: str, matcher: VocabularyMatcher) -> Dict[str, Any]:
    entities = [m.as_entity("KnowledgeBaseEntityExtractor") for m in matcher.find(text)]
    payload = PAYLOAD_ENTITIES.match(text)
    if payload:  # a button's payload carries its entities, as Rasa reads them
        entities += [{"entity": key, "value": value} for key, value in json.loads(payload.group(1)).items()
                     if not any(e["entity"] == key for e in entities)]
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": entities, "text": text},
    }


class Conversation:
    """Runs actions turn by turn, applying the slot events they return, like the Rasa server."""

    def __init__(self, matcher: VocabularyMatcher) -> None:
        self.matcher = matcher
        self.events: List[Dict[str, Any]] = [{"event": "session_started"}]
        self.slots: Dict[str, Any] = {"asked_questions": [], "screened": False}

    def tracker(self) -> Tracker:
        latest = next(e for e in reversed(self.events) if e["event"] == "user")
        return Tracker.from_dict({
            "sender_id": "test",
            "slots": dict(self.slots),
            "latest_message": latest["parse_data"],
            "events": list(self.events),
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        })

    def say(self, intent: str, text: str, action: Action) -> List[Dict[str, Any]]:
        """The user's message, then the action's replies (text and buttons)."""
        self.events.append(user_event(intent, text, self.matcher))
        dispatcher = CollectingDispatcher()
        events = action.run(dispatcher, self.tracker(), {})
        if asyncio.iscoroutine(events):
            events = asyncio.run(events)
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            self.events.append(event)
        for message in dispatcher.messages:
            self.events.append({"event": "bot", "text": message.get("text")})
        return dispatcher.messages


ASK = {a().slot: a for a in (AskService, AskTime, AskName, AskContact, AskConsent, AskConfirmed)}
# The actions data/rules.yml runs for the intents the booking tests send, outside the form.
BOOKING_RULES = {"describe_problem": ActionAdvise, "book_session": ActionAdvise, "deny": ActionShortAnswer,
                 "affirm": ActionShortAnswer, "change_booking": ActionManageBooking,
                 "cancel_booking": ActionManageBooking, "nlu_fallback": ActionShortAnswer}


class BookingChat:
    """A conversation in one channel, with the booking form run the way Rasa runs it."""

    def __init__(self, matcher: VocabularyMatcher, channel: str = "web", sender: str = "booking-test") -> None:
        self.matcher, self.channel, self.sender = matcher, channel, sender
        self.events: List[Dict[str, Any]] = [{"event": "session_started"}]
        self.slots: Dict[str, Any] = {"asked_questions": [], "screened": False}
        self.active_loop: Optional[str] = None
        self.rejected = False

    def tracker(self) -> Tracker:
        latest = next(e for e in reversed(self.events) if e["event"] == "user")
        return Tracker.from_dict({
            "sender_id": self.sender, "slots": dict(self.slots), "latest_message": latest["parse_data"],
            "events": list(self.events), "paused": False, "followup_action": None,
            "active_loop": {"name": self.active_loop} if self.active_loop else {},
            "latest_action_name": "action_listen",
        })

    def run(self, action: Action) -> List[Dict[str, Any]]:
        dispatcher = CollectingDispatcher()
        events = action.run(dispatcher, self.tracker(), {})
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            self.events.append(event)
        for message in dispatcher.messages:
            self.events.append({"event": "bot", "text": message.get("text"),
                                "data": {"buttons": message.get("buttons")}})
        return dispatcher.messages

    def say(self, text: str, intent: str = "nlu_fallback") -> List[Dict[str, Any]]:
        event = user_event(intent, text, self.matcher)
        event["input_channel"] = self.channel
        self.events.append(event)
        self.rejected = False
        if self.active_loop:
            return self.form_turn(activating=False)
        messages = self.run(BOOKING_RULES[intent]())
        if self.slots.get("booking_ready"):
            messages += self.form_turn(activating=True)
        return messages

    def form_turn(self, activating: bool) -> List[Dict[str, Any]]:
        if activating:
            self.slots["requested_slot"] = None
        before = len(self.events)
        messages = self.run(ValidateBookingForm())
        if not activating and len(self.events) == before:
            self.rejected = True  # Rasa's rules take over (talk to a person, delete my conversation)
            return messages
        self.active_loop = FORM
        requested = self.slots.get("requested_slot")
        if requested is None:
            self.active_loop = None
            return messages + self.run(ActionBookingSubmit())
        return messages + self.run(ASK[requested]())


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def payloads(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


def titles(messages: List[Dict[str, Any]]) -> List[str]:
    """The titles of the free times offered (buttons choosing a booking_slot)."""
    return [b["title"] for m in messages for b in m.get("buttons") or [] if '"booking_slot"' in b["payload"]]


@pytest.fixture
def conversation(kb_database: str, matcher: VocabularyMatcher) -> Conversation:
    return Conversation(matcher)
