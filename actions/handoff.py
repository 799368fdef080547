"""Reaching a person at the spa, and the answer when the assistant cannot help."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.safety import SafeAction
from actions.tracker_state import Turn
from bot.advice.preface import Preface
from bot.knowledge import queries

FALLBACK_TOPICS = (
    ("What can you help with?", "/ask_capabilities"),
    ("Which massage suits me?", "/describe_problem"),
    ("Talk to a person", "/request_human"),
)


class ActionHandoff(SafeAction):
    """Contact details of the spa, so a person can take over."""

    def name(self) -> Text:
        return "action_handoff"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        spa = queries.settings("spa")
        text = "Happy to connect you with a person. " + replies.contact_line(spa)
        dispatcher.utter_message(text=text)
        return []


class ActionDefaultFallback(SafeAction):
    """Out of scope or not understood: say what the assistant can do and how to reach a person."""

    def name(self) -> Text:
        return "action_default_fallback"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        spa = queries.settings("spa")
        text = (
            "Sorry, I can't help with that. I can answer questions about massage: its benefits, "
            "the techniques, what a session is like, how often to go and when it isn't safe, "
            "and I can suggest a massage that suits you. " + replies.contact_line(spa)
        )
        dispatcher.utter_message(
            text=text, buttons=[replies.button(title, payload) for title, payload in FALLBACK_TOPICS]
        )
        return []
