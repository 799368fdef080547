"""Advice for the person: safety screening, follow-up questions, recommendation or booking."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.handoff import ActionDefaultFallback
from actions.safety import SafeAction
from actions.tracker_state import Turn, state_events
from bot.advice.catalogue import Catalogue
from bot.advice.conversation import Step, decide
from bot.advice.preface import Preface
from bot.advice.recommendation import Recommendation, recommend
from bot.advice.safety import screen
from bot.knowledge import queries

GOAL_BUTTONS = (
    ("Relax and de-stress", "stress_relief"),
    ("Ease pain or tension", "pain_relief"),
    ("Sleep better", "better_sleep"),
    ("Recover from sport", "recovery"),
    ("Move more freely", "mobility"),
)
# Set when a booking may start; the rules then open booking_form (actions/booking_form.py).
BOOKING_READY = "booking_ready"
BOOKING_WORDS = "booking_time_text"
AREA_BUTTONS = ("neck", "shoulders", "upper_back", "lower_back", "legs", "feet", "full_body")


BOOKING_ASKED = re.compile(r"\b(book|booking|appointment|appt|session|massage|reserve|slot|schedule)", re.IGNORECASE)


class ActionAdvise(SafeAction):
    """Runs for descriptions, booking requests and answers to the assistant's own questions."""

    def name(self) -> Text:
        return "action_advise"

    def health_related(self, turn: Turn) -> bool:
        return not turn.profile.red_flags

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        catalogue = queries.catalogue()
        profile = turn.profile
        screening = screen(profile, catalogue.severities)
        decision = decide(profile, screening, turn.state, turn.intent)
        step = decision.step
        words = turn.text.strip()
        if step is Step.BOOK and not words.startswith("/") and not BOOKING_ASKED.search(words) \
                and turn.crisis_before:
            # After a crisis reply a bare "tomorrow at 3pm" does not start a booking: it needs
            # the person to ask for one in words (or press the button).
            ActionDefaultFallback().answer(dispatcher, turn, domain, preface)
            return [SlotSet(BOOKING_READY, False)]
        events: List[Dict[Text, Any]] = list(state_events(decision.state)) + [
            SlotSet(BOOKING_READY, step is Step.BOOK)
        ]
        if turn.intent == "book_session" and words and not words.startswith("/"):
            # "Can I book for Saturday 10am": the time is read when the booking form opens,
            # which may be after the safety checklist.
            events.append(SlotSet(BOOKING_WORDS, words[:200]))

        if step is Step.EMERGENCY:
            dispatcher.utter_message(text=queries.settings("emergency")["message"])
            return events
        if step is Step.AVOID:
            conditions = [catalogue.conditions[c] for c in screening.absolute if c not in preface.covered]
            dispatcher.utter_message(text=replies.avoid_reply(conditions))
        elif step is Step.ASK_SCREENING:
            known = list(profile.conditions) + list(profile.denied_conditions)
            dispatcher.utter_message(
                text=replies.screening_question(catalogue, known, acknowledged=bool(preface.covered)),
                buttons=replies.screening_buttons(catalogue, known),
            )
        elif step is Step.ASK_WHICH_CONDITION:
            dispatcher.utter_message(
                text="Which one applies to you?", buttons=replies.screening_buttons(catalogue)
            )
        elif step is Step.ASK_GOAL:
            dispatcher.utter_message(
                text="What would you most like from a massage?",
                buttons=[
                    replies.button(title, replies.entity_payload("describe_problem", "goal", goal))
                    for title, goal in GOAL_BUTTONS
                ] + [replies.button("Not sure", "/deny")],
            )
        elif step is Step.ASK_AREA:
            dispatcher.utter_message(
                text="Where do you feel it most?",
                buttons=[
                    replies.button(catalogue.body_parts[part].capitalize(),
                                   replies.entity_payload("describe_problem", "body_part", part))
                    for part in AREA_BUTTONS if part in catalogue.body_parts
                ] + [replies.button("Skip", "/deny")],
            )
        elif step is Step.BOOK:
            # The booking form (actions/booking_form.py) opens after this reply: see data/rules.yml.
            relative = [c for c in screening.relative if c not in preface.covered]
            notes = [catalogue.conditions[c].modification for c in relative if catalogue.conditions[c].modification]
            dispatcher.utter_message(text=replies.booking_lead(notes, queries.settings("spa")))
        else:
            recommendation = recommend(profile, catalogue, screening)
            first = recommendation.techniques[0]
            said = {catalogue.conditions[c].modification for c in preface.covered}
            dispatcher.utter_message(
                text=replies.recommendation_reply(recommendation, already_said=said),
                buttons=[
                    replies.button(f"About {first.name}",
                                   replies.entity_payload("ask_techniques", "technique", first.id)),
                    replies.button("Book a session", "/book_session"),
                    replies.button("Talk to a person", "/request_human"),
                ],
            )
        return events


def at_recommendation_stage(turn: Turn) -> bool:
    """Screened and with needs to advise on, whether or not massage is still safe."""
    return bool(turn.state.screened and turn.profile.has_needs)


def current_recommendation(turn: Turn, catalogue: Catalogue) -> Optional[Recommendation]:
    """The recommendation the conversation so far supports, if it is screened, safe and specific."""
    if not at_recommendation_stage(turn):
        return None
    profile = turn.profile
    screening = screen(profile, catalogue.severities)
    return recommend(profile, catalogue, screening) if screening.allows_massage else None


class ActionExplainChoice(SafeAction):
    """"Why that one?": the reasons behind the current recommendation, from the knowledge base."""

    def name(self) -> Text:
        return "action_explain_choice"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        catalogue = queries.catalogue()
        recommendation = current_recommendation(turn, catalogue)
        if recommendation is None:
            dispatcher.utter_message(
                text="I haven't suggested a massage yet. Tell me how you feel or what you'd like from it, "
                "and I'll explain my suggestion.",
                buttons=[replies.button("Which massage suits me?", "/describe_problem")],
            )
            return []
        dispatcher.utter_message(text=replies.explanation_reply(recommendation))
        return []
