"""Short replies ("yes", "no", "skip") and unclear ones: whose question they answer.

A dispatcher above the actions that can take the answer: the "delete our conversation?"
question (actions/privacy.py), the advice's own questions (actions/advice.py), a change to a
booking that NLU could not place (actions/appointment_changes.py), or the fallback. Kept apart
from those modules so that each of them imports only downwards.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.advice import ActionAdvise
from actions.appointment_changes import ActionManageBooking
from actions.handoff import ActionDefaultFallback
from actions.privacy import answer_forget_question, forget_pending
from actions.safety import SafeAction
from actions.tracker_state import PENDING_QUESTION, Turn
from bot.advice.preface import Preface

NEEDS_ENTITIES = {"body_part", "symptom", "goal", "audience", "condition", "pressure"}


_CHANGE = r"(?:change|move|switch|swap|reschedule|update)"
_BOOKING = r"(?:booking|appointment|reservation)"
BOOKING_CHANGE = re.compile(rf"\b{_CHANGE}\b.*\b{_BOOKING}s?\b|\b{_BOOKING}s?\b.*\b{_CHANGE}\b", re.IGNORECASE)


def describes_needs(turn: Turn) -> bool:
    """An unclear message that still names the person's own symptoms, goals or conditions."""
    return any(e.get("entity") in NEEDS_ENTITIES and not e.get("role") for e in turn.entities)


class ActionShortAnswer(SafeAction):
    """"yes", "no", "skip" or an unclear reply: an answer to the assistant's pending question, if any.

    Without a pending question, yes and no get a short prompt and anything unclear the fallback.
    """

    def name(self) -> Text:
        return "action_short_answer"

    def respond(self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        if forget_pending(turn):  # the answer to "delete our conversation?" (actions/privacy.py)
            return answer_forget_question(dispatcher, turn)
        return super().respond(dispatcher, turn, domain)

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        if turn.slot(PENDING_QUESTION) or describes_needs(turn):
            return ActionAdvise().answer(dispatcher, turn, domain, preface)
        if BOOKING_CHANGE.search(turn.text):
            # "change my booking to Swedish massage" that NLU could not place: the booking's own
            # action handles it (it answers too when there is no open request). Cancelling is
            # never inferred from words alone.
            return ActionManageBooking().answer(dispatcher, turn, domain, preface)
        intent = turn.intent
        if intent in replies.SHORT_REPLIES:
            dispatcher.utter_message(text=replies.SHORT_REPLIES[intent])
            return []
        if preface.lines:
            # The message was about the person's health: the preface is the answer, not a fallback.
            return []
        return ActionDefaultFallback().answer(dispatcher, turn, domain, preface)
