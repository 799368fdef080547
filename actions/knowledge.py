"""Answers to the common questions, read from the knowledge base at request time."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.advice import ActionAdvise, at_recommendation_stage, current_recommendation
from actions.tracker_state import health_notice_needed, latest_entities, latest_intent
from bot.knowledge import queries

HEALTH_TOPICS = {"ask_contraindications", "ask_pregnancy"}
PERSONAL_TOPICS = {"ask_frequency", "ask_session_length", "ask_painful"}


class ActionAnswerTopic(Action):
    """One action for every question intent: the intent names the topic, entities narrow it."""

    def name(self) -> Text:
        return "action_answer_topic"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker)
        if intent in HEALTH_TOPICS and latest_entities(tracker, "condition") and at_recommendation_stage(tracker):
            return ActionAdvise().run(dispatcher, tracker, domain)
        text = self._specific_answer(intent, tracker)
        topic = queries.topic_for_intent(intent)
        if text is None and topic is not None:
            text = topic.answer
            if topic.offer_contact:
                text += "\n" + replies.contact_line(queries.settings("spa"))
            personal = self._personal_answer(intent, tracker)
            if personal:
                text = f"{personal}\n\n{text}"
        if text is None:
            dispatcher.utter_message(text=_not_found())
            return []
        dispatcher.utter_message(text=text)
        events: List[Dict[Text, Any]] = []
        if intent in HEALTH_TOPICS:
            notice = health_notice_needed(tracker)
            if notice:
                dispatcher.utter_message(text=replies.HEALTH_NOTICE)
                events.append(notice)
        return events

    @staticmethod
    def _personal_answer(intent: str, tracker: Tracker) -> str | None:
        """Follow-ups about frequency, length or pain use what the person already told us."""
        if intent not in PERSONAL_TOPICS:
            return None
        recommendation = current_recommendation(tracker, queries.catalogue())
        if recommendation is None:
            return None
        if intent == "ask_frequency":
            return replies.personal_frequency(recommendation)
        if intent == "ask_session_length":
            return replies.personal_length(recommendation)
        technique = queries.technique(recommendation.techniques[0].id)
        return replies.personal_pressure(technique) if technique else None

    @staticmethod
    def _specific_answer(intent: str, tracker: Tracker) -> str | None:
        """A focused answer when the question names a technique, goal, audience or condition."""
        if intent == "ask_techniques":
            found = [t for t in map(queries.technique, latest_entities(tracker, "technique")) if t]
            return "\n\n".join(replies.technique_detail(t) for t in found) or None
        if intent == "ask_benefits":
            found = [g for g in map(queries.goal, latest_entities(tracker, "goal")) if g]
            return "\n\n".join(f"**{g.name}**: {g.benefit}" for g in found) or None
        if intent == "ask_who_benefits":
            found = [a for a in map(queries.audience, latest_entities(tracker, "audience")) if a]
            names = {t.id: t.name for t in queries.techniques()}
            return "\n\n".join(
                replies.audience_detail(a, [names[t] for t in a.techniques if t in names]) for a in found
            ) or None
        if intent == "ask_contraindications":
            found = queries.conditions_by_id(latest_entities(tracker, "condition"))
            if not found:
                return None
            return "\n\n".join(replies.condition_detail(c) for c in found) + (
                "\nAlways tell your therapist about any health conditions, medicines or injuries."
            )
        return None


def _not_found() -> str:
    return "I don't have an answer for that yet. " + replies.contact_line(queries.settings("spa"))
