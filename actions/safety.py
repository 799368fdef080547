"""The one place every reply passes through: the safety preface, then the answer.

Every action the rules can choose is a `SafeAction`. Its `run` works out what the person has
told us about their own health (bot.advice.preface), sends only the urgent message for a red
flag, otherwise leads with the condition's advice, then the action's own `answer`, and removes
booking invitations and technique suggestions while massage has to wait. Small talk (greetings,
thanks, goodbye) is answered by `ActionSmallTalk`, not by domain templates, so it passes through too.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.tracker_state import health_notice_needed, latest_intent, profile_from
from bot.advice.preface import Mode, Preface, blocks_offer, safety_preface, strip_offers
from bot.advice.safety import screen
from bot.knowledge import queries

# Intents that are not a question: when the message only reports a condition the knowledge base
# does not know, the reply is the "check with your doctor" advice and how to reach the team.
NOT_A_QUESTION = {
    "describe_problem", "nlu_fallback", "out_of_scope", "greet", "affirm", "deny", "thanks",
    "bot_challenge", "ask_capabilities", "goodbye", "book_session", "ask_contraindications",
}
NEEDS_ENTITIES = {"body_part", "symptom", "goal", "technique", "time_available"}


class SafeAction(Action, metaclass=ABCMeta):
    """Base of every replying action. Subclasses implement `answer`, never `run`.

    Abstract, so the action server does not register the base class itself as an action.
    """

    # A question that must still be asked after a condition the knowledge base does not know
    # (the booking form's): the reply is the preface's "check with your doctor", then the question.
    keeps_its_question = False

    def health_related(self, tracker: Tracker) -> bool:
        """Whether the answer is about health, so the not-medical-advice note belongs with it."""
        return False

    @abstractmethod
    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        """The reply to the latest message; the safety preface is added around it by `run`."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        catalogue = queries.catalogue()
        profile = profile_from(tracker)
        preface = safety_preface(
            tracker.latest_message.get("entities") or [], profile, screen(profile, catalogue.severities), catalogue
        )
        if preface.mode is Mode.EMERGENCY:
            dispatcher.utter_message(text=queries.settings("emergency")["message"])
            return []
        start = len(dispatcher.messages)
        if preface.unknown and _only_reports_unknown(tracker) and not self.keeps_its_question:
            events: List[Dict[Text, Any]] = []
            dispatcher.utter_message(
                text=replies.contact_line(queries.settings("spa")),
                buttons=[replies.button("Talk to a person", "/request_human")],
            )
        else:
            events = list(self.answer(dispatcher, tracker, domain, preface))
        answer = dispatcher.messages[start:]
        del dispatcher.messages[start:]
        # One preface per message: the booking form asks its first question in the same turn as
        # action_advise, which has already said it.
        said = _replied_this_turn(tracker)
        if preface.lines and not said:
            dispatcher.utter_message(text=preface.text)
        if (preface.lines and not said) or self.health_related(tracker):
            notice = health_notice_needed(tracker)
            if notice:
                dispatcher.utter_message(text=replies.HEALTH_NOTICE)
                events.append(notice)
        if not preface.allows_offers:
            answer = [_without_offers(message) for message in answer]
        dispatcher.messages.extend(m for m in answer if m.get("text") or m.get("buttons") or m.get("response"))
        return events


def _replied_this_turn(tracker: Tracker) -> bool:
    """Whether another action has already answered the latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "bot":
            return True
    return False


def _only_reports_unknown(tracker: Tracker) -> bool:
    entities = tracker.latest_message.get("entities") or []
    return latest_intent(tracker) in NOT_A_QUESTION and not any(
        e.get("entity") in NEEDS_ENTITIES and not e.get("role") for e in entities
    )


def _without_offers(message: Dict[Text, Any]) -> Dict[Text, Any]:
    message = dict(message)
    if message.get("text"):
        message["text"] = strip_offers(message["text"])
    if message.get("buttons"):
        message["buttons"] = [b for b in message["buttons"] if not blocks_offer(b)]
    return message


class ActionSmallTalk(SafeAction):
    """Greetings, thanks, goodbye and "are you a bot?", after the safety preface like every reply."""

    def name(self) -> Text:
        return "action_small_talk"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        text = replies.SMALL_TALK.get(latest_intent(tracker))
        if text:
            dispatcher.utter_message(text=text)
        return []


class ActionEmergency(Action):
    """Urgent advice only: no recommendation, no booking, nothing else in the reply."""

    def name(self) -> Text:
        return "action_emergency"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=queries.settings("emergency")["message"])
        return []
