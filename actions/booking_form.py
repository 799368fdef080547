"""Booking requests taken in the conversation: `booking_form`'s validation and its submit action.

The form only opens when `action_advise` says a booking may start (safety checklist answered,
nothing that rules massage out). From then on every answer passes through
`validate_booking_form`, which also keeps safety on: a red flag or an absolute
contraindication reported mid-form ends the form (the submit action then says why), a relative
one is kept for the intake and the next question leads with its modification.

The validation action never speaks: it records what was wrong with an answer in
`booking_problem`, and the next question (actions/booking_questions.py) says it. What an answer
means is decided in bot/booking/form_logic.py; this module reads the tracker, holds the chosen
time in the diary and stores the request.

Kiosk: no name or contact on a shared screen; the person shows a reference code at reception.
SMS and WhatsApp (Twilio): the number they write from is offered as the contact.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Dict, List, Optional, Text
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.advice import current_recommendation
from actions.safety import SafeAction
from actions.tracker_state import Turn
from bot.advice.crisis import crisis_in
from bot.advice.preface import Preface, own_mentions
from bot.booking import appointment_store, diary, offers, store
from bot.booking.appointment_store import HoldExpired, SlotTaken
from bot.booking.client_notify import notify_client, reaches
from bot.booking.reminders import will_remind
from bot.booking.contact import display_contact
from bot.booking.form_logic import (
    CANCELLED, CONDITION, CONFIRMED, CONSENT, CONTACT, DECLINED, HOLD, INTERRUPTIONS, KEPT_FOR_THE_REQUEST,
    NAME, PROBLEM, READY, REQUESTED, SERVICE, SLOT, STAGE, STOPPED, TAKEN_MEANWHILE, TECHNIQUE, TIME, HOLD_LOST,
    TIME_TEXT, WISH, Said, answers_the_question, change_answer, chosen_slot, confirm_answer, consent_answer,
    contact_answer, earlier_time_answer, latest_booking_words, minutes_in, name_answer, next_slot,
    misfit_problem, reports_health, service_answer, technique_in, time_answer,
)
from bot.booking.intake import build_intake
from bot.booking.notify import notify_new_request
from bot.booking.situation import (
    Situation, current_situation, describe_service, offer_context, parse_service, required_certifications,
    service_value, unsuitable,
)
from bot.booking.when import describe_time

logger = logging.getLogger(__name__)


def said_in(turn: Turn) -> Said:
    """The latest message as the booking logic reads it."""
    return Said(turn.text.strip(), turn.intent, turn.entities)


def situation_of(turn: Turn) -> Situation:
    return current_situation(turn.profile, turn.channel, turn.sender)


def booking_form_changes(turn: Turn, where: Situation) -> Optional[Dict[str, Any]]:
    """Slot changes for the latest message in the booking form; None lets the rules take over.

    Decides everything the form does with an answer: stop for safety, cancel, fill the requested
    slot, or note what was wrong so the next question can say so.
    """
    said = said_in(turn)
    intent, text = said.intent, said.text
    # While the form runs a question is always pending; none means the form is just opening.
    requested = turn.slot(REQUESTED)
    activating = requested is None
    slots = {slot: turn.slot(slot) for slot in KEPT_FOR_THE_REQUEST}
    changes: Dict[str, Any] = {PROBLEM: None}

    if crisis_in(said.entities) or own_mentions(said.entities, "red_flag") or not where.screening.allows_massage:
        # Dropped here: after a crisis or a red flag the submit action says only the crisis reply
        # or the urgent message.
        return {**{slot: None for slot in KEPT_FOR_THE_REQUEST}, STAGE: STOPPED, REQUESTED: None}
    if not activating and intent in INTERRUPTIONS and not answers_the_question(requested, text, slots, where):
        return None
    if intent == "cancel_booking":
        return {STAGE: CANCELLED, PROBLEM: None, REQUESTED: None}

    if activating:
        changes.update({READY: False, STAGE: None, CONFIRMED: None, CONSENT: None})
        changes.update(prefill(turn, said, where, slots))
    elif reports_health(said):
        # The next question leads with what the safety preface says about it.
        changes[PROBLEM] = CONDITION
    elif intent == "change_booking" and requested not in (TIME, CONFIRMED):
        changes.update(change_answer(said, where, slots))
    elif requested == SERVICE:
        changes.update(service_answer(said, where, slots))
    elif requested == TIME:
        changes.update(time_answer(said, where, slots, intent, text, said.is_payload))
    elif requested == NAME:
        changes.update(name_answer(said))
    elif requested == CONTACT:
        changes.update(contact_answer(said, where, slots))
    elif requested == CONSENT:
        changes.update(consent_answer(said))
        if changes.get(STAGE) == DECLINED:
            return {CONSENT: False, STAGE: DECLINED, PROBLEM: None, REQUESTED: None}
    elif requested == CONFIRMED:
        changes.update(confirm_answer(said, where, slots))
        if changes.get(STAGE) == CANCELLED:
            return {STAGE: CANCELLED, PROBLEM: None, REQUESTED: None}

    merged = {**slots, **changes}
    changes.update(recheck_slot(where, merged))
    merged = {**slots, **changes}
    if merged.get(HOLD) and merged.get(SLOT) is None:
        release_hold(merged[HOLD], where.zone_now)
        changes[HOLD] = merged[HOLD] = None
    changes[REQUESTED] = next_slot(merged, where)
    if changes[REQUESTED] == TIME and requested != TIME and not merged.get(PROBLEM) and merged.get(TIME_TEXT) \
            and not merged.get(WISH):
        changes.update(earlier_time_answer(said, where, merged))
        merged = {**slots, **changes}
        changes[REQUESTED] = next_slot(merged, where)
    if changes[REQUESTED] == CONFIRMED:
        changes.update(hold_changes(where, merged))
    elif changes[REQUESTED] is None and merged.get(CONFIRMED) and merged.get(HOLD) and where.instant:
        # "Confirm" after the hold ran out: held again while the time is still free, otherwise
        # back to the time question with the next free times.
        changes.update(hold_changes(where, merged))
    return changes


def prefill(turn: Turn, said: Said, where: Situation, slots: Dict[str, Any]) -> Dict[str, Any]:
    """What the conversation already says: the recommendation, and the words of the booking request."""
    changes: Dict[str, Any] = {}
    technique = technique_in(said) or slots.get(TECHNIQUE)
    minutes = minutes_in(said, where.catalogue)
    if technique and unsuitable(technique, where):
        technique = None
    recommendation = current_recommendation(turn, where.catalogue)
    if not technique and not slots.get(SERVICE) and recommendation is not None:
        technique = recommendation.techniques[0].id
        minutes = minutes or recommendation.minutes
    if technique and minutes:
        changes.update({SERVICE: service_value(technique, minutes), TECHNIQUE: None})
    elif technique:
        changes[TECHNIQUE] = technique
    if slots.get(TIME) is None:
        request_text = latest_booking_words(said, slots)
        if request_text:
            # Read against the diary once the service is known (earlier_time_answer).
            changes.update({TIME_TEXT: request_text, WISH: None, SLOT: None})
    return changes


def recheck_slot(where: Situation, merged: Dict[str, Any]) -> Dict[str, Any]:
    """The chosen time still fits what the person has told us since they chose it: a condition
    that needs a trained therapist ("I'm pregnant"), another massage or length. If not, it is let
    go and "when?" is asked again with times that fit."""
    slot = chosen_slot(where, merged)
    context = offer_context(where, merged.get(SERVICE), ignore=merged.get(HOLD)) if slot is not None else None
    wrong = offers.misfit(context, slot) if context is not None else None
    if wrong is None:
        return {}
    problem = misfit_problem(wrong)
    if problem == TAKEN_MEANWHILE and merged.get(HOLD):  # their hold ran out and someone took the time
        problem = HOLD_LOST
    return {SLOT: None, TIME: None, CONFIRMED: None, PROBLEM: problem}


def hold_changes(where: Situation, merged: Dict[str, Any]) -> Dict[str, Any]:
    """Hold the chosen time while the summary is shown. Taken in the meantime: back to "when?"
    with fresh times. A hold that ran out is simply taken again when the time is still free; a
    hold for another time or service (changed at the summary) is let go and the new one held."""
    slot = chosen_slot(where, merged)
    if slot is None:
        return {}
    technique, minutes = parse_service(merged.get(SERVICE))
    code, lapsed = merged.get(HOLD), False
    if code:
        held = appointment_store.get(code)
        same = held is not None and (held.starts_at, held.therapist_id, held.room_id, held.technique, held.minutes) \
            == (slot.start, slot.therapist_id, slot.room_id, technique, minutes or 60)
        live = held is not None and held.status == "held" and held.hold_expires_at > where.zone_now
        if same and live:
            return {}
        if live:
            release_hold(code, where.zone_now)
        lapsed = same and not live
    contact = merged.get(CONTACT) or ""
    try:
        held = diary.hold(slot, diary.service_for(technique or "", minutes or 60), sender_id=where.sender,
                          channel=where.channel or "unknown",
                          service_name=describe_service(merged.get(SERVICE), where.catalogue),
                          name=None if where.at_kiosk else merged.get(NAME),
                          phone=contact if contact and "@" not in contact else None,
                          email=contact if "@" in contact else None,
                          certifications=required_certifications(where), now=where.zone_now)
    except SlotTaken:
        return {TIME: None, SLOT: None, HOLD: None, CONFIRMED: None, REQUESTED: TIME,
                PROBLEM: HOLD_LOST if lapsed else TAKEN_MEANWHILE}
    except Exception as failure:  # the summary still shows; the team confirms by hand
        logger.error("Holding a time failed (%s).", type(failure).__name__)
        return {}
    return {HOLD: held.code}


def release_hold(code: Optional[str], now: Optional[datetime] = None) -> None:
    if not code:
        return
    try:
        appointment_store.cancel(code, now=now)
    except Exception as failure:  # an unconfirmed hold lapses by itself in a few minutes
        logger.warning("Releasing a hold failed (%s).", type(failure).__name__)


class ValidateBookingForm(Action):
    """Reads each answer in the booking form. A plain Action rather than a FormValidationAction:
    what an answer means depends on the whole request and on safety, not on one slot at a time."""

    def name(self) -> Text:
        return "validate_booking_form"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        turn = Turn.read(tracker)
        changes = booking_form_changes(turn, situation_of(turn))
        if changes is None:
            return []
        requested = changes.pop(REQUESTED, None)
        return [SlotSet(slot, value) for slot, value in changes.items()] + [SlotSet(REQUESTED, requested)]


# --- after the form -----------------------------------------------------------------------------

def reset_events() -> List[Dict[Text, Any]]:
    """The request's details are not kept in the conversation once it is stored or dropped."""
    return [SlotSet(slot, None) for slot in KEPT_FOR_THE_REQUEST] + [SlotSet(READY, False)]


class ActionBookingSubmit(SafeAction):
    """The form ended: store and confirm the request, or say why nothing was stored."""

    def name(self) -> Text:
        return "action_booking_submit"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        where = situation_of(turn)
        stage = turn.slot(STAGE)
        if stage in (STOPPED, DECLINED, CANCELLED) or not turn.slot(CONFIRMED) \
                or not where.screening.allows_massage:
            release_hold(turn.slot(HOLD), where.zone_now)
        if not where.screening.allows_massage or stage == STOPPED:
            absolute = [where.catalogue.conditions[c] for c in where.screening.absolute if c not in preface.covered]
            if absolute or not preface.lines:
                dispatcher.utter_message(text=replies.avoid_reply(absolute))
            return reset_events()
        if stage == DECLINED:
            dispatcher.utter_message(text=replies.booking_declined(where.spa))
            return reset_events()
        if stage == CANCELLED or not turn.slot(CONFIRMED):
            dispatcher.utter_message(text=replies.BOOKING_CANCELLED_BEFORE_SENDING)
            return reset_events()
        if where.instant and turn.slot(HOLD):
            return self.book(dispatcher, turn, where)
        release_hold(turn.slot(HOLD), where.zone_now)
        request = self.store(turn, where)
        if request is None:
            dispatcher.utter_message(text=replies.booking_not_saved(where.spa))
            return reset_events()
        notes = [where.catalogue.conditions[c].modification for c in where.screening.relative
                 if where.catalogue.conditions[c].modification]
        if turn.slot(SLOT) == offers.WAITLIST:
            dispatcher.utter_message(text=replies.booking_waitlisted(
                request.code, display_contact(request.phone or request.email or "")))
        elif where.at_kiosk:
            dispatcher.utter_message(text=replies.booking_done_kiosk(request.code, notes))
        else:
            dispatcher.utter_message(text=replies.booking_done(
                request.code, turn.slot(NAME) or "", display_contact(request.phone or request.email or ""),
                notes))
        return reset_events()

    def book(self, dispatcher: CollectingDispatcher, turn: Turn, where: Situation) -> List[Dict[Text, Any]]:
        """Instant confirmation: the held time becomes the person's appointment, and they get the
        confirmation by email or SMS; the reminder follows the day before (bot.booking.reminders)."""
        code = turn.slot(HOLD)
        try:
            appointment = appointment_store.confirm(code, now=where.zone_now)
        except HoldExpired:
            changes = hold_changes(where, {**{s: turn.slot(s) for s in KEPT_FOR_THE_REQUEST}, HOLD: None})
            if not changes.get(HOLD):
                dispatcher.utter_message(text=replies.BOOKING_HOLD_LOST,
                                         buttons=[replies.button("Choose another time", "/book_session")])
                return reset_events()
            appointment = appointment_store.confirm(changes[HOLD], now=where.zone_now)
        except Exception as failure:  # nothing booked: say so, with the phone number
            logger.error("Confirming an appointment failed (%s).", type(failure).__name__)
            dispatcher.utter_message(text=replies.booking_not_saved(where.spa))
            return reset_events()
        self.keep_intake(turn, where, appointment.code)
        notify_client("confirmed", appointment)
        notes = [where.catalogue.conditions[c].modification for c in where.screening.relative
                 if where.catalogue.conditions[c].modification]
        when = describe_time(appointment.starts_at.astimezone(ZoneInfo(where.hours.timezone)).replace(tzinfo=None),
                             where.now)
        therapist = diary.team_view().first_name(appointment.therapist_id)
        if where.at_kiosk:
            dispatcher.utter_message(text=replies.booking_confirmed_kiosk(appointment.code, when, therapist, notes))
        else:
            contact = display_contact(appointment.phone or appointment.email or "") if reaches(appointment) else ""
            dispatcher.utter_message(text=replies.booking_confirmed(
                appointment.code, when, therapist, contact, notes, where.spa.get("cancellation", "").strip(),
                will_remind(appointment, where.zone_now)))
        return reset_events()

    def keep_intake(self, turn: Turn, where: Situation, code: str) -> None:
        """What the person told us about their health goes with the appointment, as a confirmed
        booking request linked to it, so the therapist sees the intake on the staff page."""
        request = self.store(turn, where, notify=False)
        if request is None:
            return
        try:
            store.set_status(request.code, "confirmed")
            appointment_store.attach_request(code, request.code)
        except Exception as failure:  # the appointment stands; the intake is on the request
            logger.error("Linking an appointment to its intake failed (%s).", type(failure).__name__)

    @staticmethod
    def store(turn: Turn, where: Situation, notify: bool = True) -> Optional[Any]:
        """The booking request (with the intake from the chat); `notify` emails the spa about it."""
        technique_id, minutes = parse_service(turn.slot(SERVICE))
        technique = where.catalogue.technique(technique_id or "")
        contact = turn.slot(CONTACT) or ""
        when = turn.slot(TIME)
        words = turn.slot(TIME_TEXT)
        slot = chosen_slot(where, {SERVICE: turn.slot(SERVICE), SLOT: turn.slot(SLOT)})
        if slot is not None:
            words = f"with {diary.team_view().names.get(slot.therapist_id, slot.therapist_id)}"
        elif turn.slot(SLOT) == offers.WAITLIST:
            when, words = None, f"Waiting list: {turn.slot(WISH) or words or 'the next free time'}"
        try:
            request = store.create_request(
                sender_id=where.sender, channel=where.channel or "unknown", technique=technique_id,
                technique_name=technique.name if technique else None, minutes=minutes,
                preferred_at=datetime.fromisoformat(when) if when else None,
                preferred_text=words[:200] if words else None,
                name=None if where.at_kiosk else turn.slot(NAME),
                phone=contact if contact and "@" not in contact else None,
                email=contact if "@" in contact else None,
                intake=build_intake(where.profile, where.catalogue),
            )
        except Exception as failure:  # the person gets the phone number instead; nothing is half-stored
            logger.error("Storing a booking request failed (%s).", type(failure).__name__)
            return None
        if not notify:
            return request
        try:
            notify_new_request(request)
        except Exception as failure:  # the request is stored; the staff page shows it anyway
            logger.error("Notifying the spa of a booking request failed (%s).", type(failure).__name__)
        return request
