"""Answers to the common questions, read from the knowledge base at request time."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.advice import ActionAdvise, at_recommendation_stage, current_recommendation
from actions.handoff import ActionDefaultFallback
from actions.safety import SafeAction, crisis_line_reminder
from actions.tracker_state import Turn
from bot.advice.preface import Preface
from bot.knowledge import front_desk, queries

HEALTH_TOPICS = {"ask_contraindications", "ask_pregnancy", "ask_aftercare"}
PERSONAL_TOPICS = {"ask_frequency", "ask_session_length", "ask_painful"}


class ActionAnswerTopic(SafeAction):
    """One action for every question intent: the intent names the topic, entities narrow it."""

    def name(self) -> Text:
        return "action_answer_topic"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        intent = turn.intent
        if intent in front_desk.FRONT_DESK_INTENTS:
            return _front_desk(dispatcher, intent, turn.text, offer_booking=not turn.active_form)
        if intent in HEALTH_TOPICS and turn.own("condition") and at_recommendation_stage(turn):
            return ActionAdvise().answer(dispatcher, turn, domain, preface)
        text = self._specific_answer(intent, turn, preface)
        topic = queries.topic_for_intent(intent)
        if text is None and topic is not None:
            text = topic.answer
            if topic.offer_contact:
                text += "\n" + replies.contact_line(queries.settings("spa"))
            personal = self._personal_answer(intent, turn)
            if personal:
                text = f"{personal}\n\n{text}"
            extra = _spa_addendum(intent)
            if extra:
                text += "\n" + extra
        if text is None:
            dispatcher.utter_message(text=_not_found())
            return []
        dispatcher.utter_message(text=text)
        return []

    def health_related(self, turn: Turn) -> bool:
        return turn.intent in HEALTH_TOPICS

    @staticmethod
    def _personal_answer(intent: str, turn: Turn) -> str | None:
        """Follow-ups about frequency, length or pain use what the person already told us."""
        if intent not in PERSONAL_TOPICS:
            return None
        recommendation = current_recommendation(turn, queries.catalogue())
        if recommendation is None:
            return None
        if intent == "ask_frequency":
            return replies.personal_frequency(recommendation)
        if intent == "ask_session_length":
            return replies.personal_length(recommendation)
        technique = queries.technique(recommendation.techniques[0].id)
        return replies.personal_pressure(technique) if technique else None

    @staticmethod
    def _specific_answer(intent: str, turn: Turn, preface: Preface) -> str | None:
        """A focused answer when the question names a technique, goal, audience or condition."""
        if intent == "ask_techniques":
            found = [t for t in map(queries.technique, turn.own("technique")) if t]
            return "\n\n".join(replies.technique_detail(t) for t in found) or None
        if intent == "ask_benefits":
            found = [g for g in map(queries.goal, turn.own("goal")) if g]
            return "\n\n".join(f"**{g.name}**: {g.benefit}" for g in found) or None
        if intent == "ask_who_benefits":
            found = [a for a in map(queries.audience, turn.own("audience")) if a]
            names = {t.id: t.name for t in queries.techniques()}
            return "\n\n".join(
                replies.audience_detail(a, [names[t] for t in a.techniques if t in names]) for a in found
            ) or None
        if intent == "ask_contraindications":
            found = queries.conditions_by_id(turn.own("condition"))
            if not found:
                return None
            details = [replies.condition_detail(c) for c in found if c.id not in preface.covered]
            return "\n\n".join(details + [
                "Always tell your therapist about any health conditions, medicines or injuries."
            ])
        if intent == "ask_first_visit":
            found = [e for e in map(queries.etiquette, turn.own("etiquette")) if e]
            return "\n\n".join(_etiquette_answer(e) for e in found) or None
        return None


class ActionDeclineSexualServices(Action):
    """One firm, professional sentence, and nothing else: no advice, no offer, no small talk."""

    def name(self) -> Text:
        return "action_decline_sexual_services"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        turn = Turn.read(tracker)
        if turn.intent_confidence < front_desk.SEXUAL_SERVICES_MIN_CONFIDENCE:
            # A refusal said to an innocent question offends a real client: when unsure, the
            # ordinary "not understood" answer.
            return ActionDefaultFallback().respond(dispatcher, turn, domain)
        dispatcher.utter_message(text=front_desk.SEXUAL_SERVICES_REPLY)
        return []


def _front_desk(dispatcher: CollectingDispatcher, intent: str, message: str, offer_booking: bool) -> List[Dict[Text, Any]]:
    """Hours, address, parking, gift cards...: the spa's own words, and a way on to booking
    (not in the middle of the booking form, which asks its question again next)."""
    spa = queries.settings("spa")
    found = front_desk.answer(intent, spa, message, front_desk.spa_now(spa), replies.contact_line)
    offered = found is not None and found.offer_booking and offer_booking
    buttons = [replies.button("Book a session", "/book_session")] if offered else []
    dispatcher.utter_message(text=found.text if found else _not_found(), buttons=buttons or None)
    return []


def _etiquette_answer(entry: Any) -> str:
    """A first-visit answer; where the spa sets the policy (tips, cancelling), the spa's words."""
    text = f"**{entry.name}**: {entry.answer}"
    policy = queries.settings("spa").get(entry.policy) if getattr(entry, "policy", None) else None
    return f"{text} {policy}" if policy else text


def _spa_addendum(intent: str) -> str | None:
    """The spa's own policy, the local crisis line or the list of sources, after the general answer."""
    if intent == "ask_price":
        from bot.knowledge import price_list, prices  # the spa's price lines, in words

        return prices.price_reply(queries.settings("spa"), price_list.price_list())
    if intent == "ask_mental_health":
        return crisis_line_reminder()
    if intent == "ask_source":
        sources = queries.all_sources()
        return "\n".join(f"- {s.title}: {s.url}" for s in sources) if sources else None
    return None


def _not_found() -> str:
    return "I don't have an answer for that yet. " + replies.contact_line(queries.settings("spa"))
