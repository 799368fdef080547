"""Helpers to run an action against a tracker built from a conversation, as Rasa would."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.nlu.matcher import VocabularyMatcher

Turn = Tuple[str, str]  # (intent, text)


def user_event(intent: str, text: str, matcher: VocabularyMatcher) -> Dict[str, Any]:
    entities = [m.as_entity("KnowledgeBaseEntityExtractor") for m in matcher.find(text)]
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


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def payloads(messages: List[Dict[str, Any]]) -> List[str]:
    return [b["payload"] for m in messages for b in m.get("buttons") or []]


@pytest.fixture
def conversation(kb_database: str, matcher: VocabularyMatcher) -> Conversation:
    return Conversation(matcher)
