"""The booking form's questions (`action_ask_<slot>`), one action per slot.

They are `SafeAction`s, so like every other reply they pass through the safety preface. Each
says first what was wrong with the last answer (`booking_problem`, set by
actions/booking_form.py), so every word the person sees about a slot is in one place; a question
or small talk instead of an answer is answered before the question is asked again.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from datetime import datetime
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.advice import ActionExplainChoice
from actions.booking_form import situation_of
from actions.handoff import ActionDefaultFallback
from actions.knowledge import ActionAnswerTopic
from actions.safety import ActionSmallTalk, SafeAction
from actions.tracker_state import Turn
from bot.advice.preface import Preface
from bot.booking import appointment_store, diary, offers
from bot.booking.contact import display_contact
from bot.booking.form_logic import (
    CLOSED, CONFIRMED, CONSENT, CONTACT, CONTACT_OTHER, HOLD, NAME, NEEDS_DAY, NEEDS_TIME, PROBLEM, QUESTION,
    SERVICE, SLOT, SMALL_TALK, TAKEN, TAKEN_MEANWHILE, HOLD_LOST, TECHNIQUE, TIME, TIME_TEXT, UNKNOWN_THERAPIST, WISH,
    chosen_slot,
)
from bot.booking.intake import build_intake, summary_lines
from bot.booking.situation import (
    Situation, describe_service, offer_context, session_lengths, slot_title, suitable_techniques,
)
from bot.booking.when import describe_time


class AskBookingSlot(SafeAction, metaclass=ABCMeta):
    """One question of the booking form, after the safety preface like every reply.

    When the last answer was a question or small talk, that is answered first.
    """

    slot = ""
    keeps_its_question = True

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        problem = turn.slot(PROBLEM)
        if problem == QUESTION:
            aside = ActionExplainChoice() if turn.intent == "ask_why" else (
                ActionDefaultFallback() if turn.intent == "out_of_scope" else ActionAnswerTopic())
            aside.answer(dispatcher, turn, domain, preface)
        elif problem == SMALL_TALK and turn.intent != "goodbye":
            ActionSmallTalk().answer(dispatcher, turn, domain, preface)
        where = situation_of(turn)
        text, buttons = self.ask(turn, where, problem)
        dispatcher.utter_message(text=text, buttons=buttons or [])
        return []

    @abstractmethod
    def ask(self, turn: Turn, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        """The question's text and buttons, saying first what was wrong with the last answer."""


class AskService(AskBookingSlot):
    slot = SERVICE

    def ask(self, turn: Turn, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        technique = where.catalogue.technique(turn.slot(TECHNIQUE) or "")
        if technique is not None:
            text = replies.BOOKING_ASK_LENGTH.format(technique=technique.name)
            buttons = [replies.button(f"{m} minutes", replies.entity_payload("book_session", "time_available", str(m)))
                       for m in session_lengths(where.catalogue)]
            return replies.booking_problem_text(problem, text), buttons
        buttons = [replies.button(t.name, replies.entity_payload("book_session", "technique", t.id))
                   for t in suitable_techniques(where)]
        return replies.booking_problem_text(problem, replies.BOOKING_ASK_SERVICE), buttons


class AskTime(AskBookingSlot):
    slot = TIME

    def ask(self, turn: Turn, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        service = describe_service(turn.slot(SERVICE), where.catalogue)
        context = offer_context(where, turn.slot(SERVICE))
        if context is None:
            return replies.booking_problem_text(problem, replies.booking_ask_time(service, where.hours.describe())), []
        wish_text = turn.slot(WISH)
        found = offers.offer(context, wish_text)
        lead = self.lead(turn, where, context, problem, found)
        buttons = [replies.button(slot_title(slot, context, where), replies.entity_payload("book_session", SLOT,
                                                                                          diary.slot_value(slot)))
                   for slot in found.slots or found.nearest]
        if found.nothing_free:
            return (replies.booking_nothing_free(lead, service, context.rules.horizon_days, where.spa),
                    [replies.button("Join the waiting list", replies.entity_payload("book_session", SLOT,
                                                                                     offers.WAITLIST))])
        if found.nobody:
            return replies.booking_nobody(lead, found.qualified, service), []
        examples = [t.name.split()[0] for t in context.spa.therapists][:1]
        return replies.booking_offer(lead, service, bool(found.slots), examples), buttons

    @staticmethod
    def lead(turn: Turn, where: Situation, context: offers.Context, problem: Optional[str],
             found: offers.Offer) -> str:
        """What is said before the times: why the last answer could not be kept."""
        asked = turn.slot(TIME_TEXT) or ""
        if problem == TAKEN:
            return replies.BOOKING_TIME_TAKEN.format(asked=asked.strip().rstrip("?.!"))
        if problem == TAKEN_MEANWHILE:
            return replies.BOOKING_TAKEN_MEANWHILE
        if problem == HOLD_LOST:
            return replies.BOOKING_HOLD_GONE
        if problem == UNKNOWN_THERAPIST:
            names = [t.name.split()[0] for t in context.spa.therapists]
            return replies.booking_unknown_therapist(names)
        if problem == CLOSED:
            exact = offers.read(context, asked).exact if asked else None
            local = describe_time(exact.replace(tzinfo=None), where.now) if exact else ""
            return replies.booking_closed_lead(where.hours.describe(), local)
        if problem in (NEEDS_DAY, NEEDS_TIME):
            return replies.BOOKING_ASK_DAY if problem == NEEDS_DAY else replies.BOOKING_ASK_HOUR
        return replies.BOOKING_PROBLEMS.get(problem or "", "")


class AskName(AskBookingSlot):
    slot = NAME

    def ask(self, turn: Turn, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        return replies.booking_problem_text(problem, replies.BOOKING_ASK_NAME), []


class AskContact(AskBookingSlot):
    slot = CONTACT

    def ask(self, turn: Turn, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        offered = where.sender_phone if not turn.slot(CONTACT_OTHER) else None
        if offered:
            return (replies.booking_problem_text(problem, replies.BOOKING_OFFER_NUMBER.format(
                number=display_contact(offered))),
                [replies.button("Use this number", "/affirm"), replies.button("Give another", "/deny")])
        return replies.booking_problem_text(problem, replies.BOOKING_ASK_CONTACT), []


class AskConsent(AskBookingSlot):
    slot = CONSENT

    def ask(self, turn: Turn, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        text = replies.BOOKING_ASK_CONSENT_KIOSK if where.at_kiosk else replies.BOOKING_ASK_CONSENT
        return (replies.booking_problem_text(problem, text),
                [replies.button("Yes", "/affirm"), replies.button("No", "/deny")])


class AskConfirmed(AskBookingSlot):
    slot = CONFIRMED

    def ask(self, turn: Turn, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        when = turn.slot(TIME)
        waitlist = turn.slot(SLOT) == offers.WAITLIST
        slot = chosen_slot(where, {SERVICE: turn.slot(SERVICE), SLOT: turn.slot(SLOT)})
        time_line = ("waiting list: the team will contact you when a time opens up" if waitlist else
                     describe_time(datetime.fromisoformat(when), where.now) if when else "to be agreed")
        lines = [
            f"- **Massage:** {describe_service(turn.slot(SERVICE), where.catalogue)}",
            f"- **Time:** {time_line}",
        ]
        if slot is not None:
            lines.append(f"- **Therapist:** {diary.team_view().names.get(slot.therapist_id, slot.therapist_id)}")
        if not where.at_kiosk:
            lines.append(f"- **Name:** {turn.slot(NAME)}")
            lines.append(f"- **Contact:** {display_contact(turn.slot(CONTACT) or '')}")
        intake = summary_lines(build_intake(where.profile, where.catalogue))
        if where.instant and turn.slot(HOLD):
            text = replies.booking_appointment_summary(lines, intake, appointment_store.HOLD_MINUTES)
        else:
            text = replies.booking_summary(lines, intake)
        parts = [("Change time", "time"), ("Change service", "service")]
        if not where.at_kiosk:
            parts.append(("Change contact", "contact"))
        buttons = [replies.button("Confirm", "/affirm")]
        buttons += [replies.button(title, replies.entity_payload("change_booking", "booking_change", part))
                    for title, part in parts]
        buttons.append(replies.button("Cancel", "/cancel_booking"))
        return replies.booking_problem_text(problem, text), buttons
