"""Changes after booking: "move it to Friday", "another massage", "cancel my booking".

`action_manage_booking` finds the person's next appointment (booked at once, or in the diary by
the team), or else the latest booking request of this conversation, and changes or cancels it.
Who may change what follows the spa's process: a request the team has confirmed is changed by
phone, and so are contact details given at the kiosk, where reception takes them.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Text
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.booking_form import said_in, situation_of
from actions.safety import SafeAction
from actions.tracker_state import Turn
from bot.advice.preface import Preface
from bot.booking import appointment_store, diary, offers, store
from bot.booking.appointment_store import SlotTaken
from bot.booking.client_notify import notify_client, reaches
from bot.booking.contact import display_contact, parse_contact, parse_name, region_from_phone
from bot.booking.form_logic import SLOT, TAKEN, Said, change_target, minutes_in, slot_entity, technique_in
from bot.booking.situation import (
    KIOSK, Situation, describe_service, offer_context, service_value, slot_title, suitable_techniques, unsuitable,
)
from bot.booking.when import describe_time, next_open_slots, parse_preferred_time

DEFAULT_NOTICE_HOURS = "24"  # when spa.yml has no cancellation_notice_hours


class ActionManageBooking(SafeAction):
    """"Change my booking to Friday at 3", "cancel my booking": the person's next appointment (from
    this conversation, or for the phone number an SMS comes from), else the latest booking request
    of this conversation."""

    def name(self) -> Text:
        return "action_manage_booking"

    def answer(
        self, dispatcher: CollectingDispatcher, turn: Turn, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        where = situation_of(turn)
        said = said_in(turn)
        appointment = appointment_store.upcoming_for(where.sender, where.sender_phone, now=where.zone_now)
        if appointment is not None:
            return AppointmentChange(dispatcher, said, where, appointment).run(preface)
        request = store.latest_for_sender(where.sender)
        if request is None or request.status in ("cancelled", "done"):
            dispatcher.utter_message(text=replies.no_open_booking(where.spa),
                                     buttons=[replies.button("Make a booking request", "/book_session")])
            return []
        if said.intent == "cancel_booking":
            store.set_status(request.code, "cancelled")
            dispatcher.utter_message(text=replies.BOOKING_CANCELLED.format(code=request.code))
            return []
        if not where.screening.allows_massage:
            absolute = [where.catalogue.conditions[c] for c in where.screening.absolute if c not in preface.covered]
            if absolute:
                dispatcher.utter_message(text=replies.avoid_reply(absolute))
            dispatcher.utter_message(text=replies.BOOKING_SUGGEST_CANCEL,
                                     buttons=[replies.button("Cancel my booking", "/cancel_booking")])
            return []
        text = said.text
        target = change_target(said)
        if request.status != "new" or (target == "contact" and request.channel == KIOSK):
            # Confirmed by the team (or made at the kiosk, where reception takes the details).
            dispatcher.utter_message(text=replies.booking_change_by_phone(where.spa))
            return []
        if target == "service":
            return self.change_service(dispatcher, said, where, request)
        if target == "contact":
            return self.change_contact(dispatcher, text, where, request)
        result = parse_preferred_time(text, where.now, where.hours, request.minutes or 60)
        if result.status == "ok" and result.when is not None:
            store.update_request(request.code, preferred_at=result.when, preferred_text=text[:200])
            dispatcher.utter_message(text=replies.BOOKING_CHANGED.format(code=request.code,
                                                                         when=describe_time(result.when, where.now)))
            return []
        if result.status == "closed" and result.when is not None:
            after = result.when if result.when > where.now else where.now
            options = [describe_time(s, where.now) for s in next_open_slots(after, where.hours, request.minutes or 60)]
            dispatcher.utter_message(text=replies.booking_change_closed(
                describe_time(result.when, where.now), where.hours.describe(), options))
            return []
        dispatcher.utter_message(text=replies.BOOKING_CHANGE_HOW)
        return []

    @staticmethod
    def change_service(
        dispatcher: CollectingDispatcher, said: Said, where: Situation, request: Any
    ) -> List[Dict[Text, Any]]:
        """Another massage or session length for a request the team has not confirmed yet."""
        technique_id = technique_in(said) or request.technique
        minutes = minutes_in(said, where.catalogue) or request.minutes
        technique = where.catalogue.technique(technique_id or "")
        changed = technique_id != request.technique or minutes != request.minutes
        if technique is None or not changed or unsuitable(technique.id, where):
            options = suitable_techniques(where)
            dispatcher.utter_message(
                text=replies.BOOKING_CHANGE_WHICH_SERVICE,
                buttons=[replies.button(t.name, f'/change_booking{{"technique": "{t.id}"}}') for t in options])
            return []
        if request.preferred_at is not None and not where.hours.is_open(request.preferred_at, minutes or 60):
            dispatcher.utter_message(text=replies.booking_service_does_not_fit(
                describe_time(request.preferred_at, where.now), where.hours.describe()))
            return []
        store.update_request(request.code, technique=technique.id, technique_name=technique.name, minutes=minutes)
        dispatcher.utter_message(text=replies.BOOKING_SERVICE_CHANGED.format(
            code=request.code, service=describe_service(service_value(technique.id, minutes or 60), where.catalogue)))
        return []

    @staticmethod
    def change_contact(
        dispatcher: CollectingDispatcher, text: str, where: Situation, request: Any
    ) -> List[Dict[Text, Any]]:
        """A new phone number or email, or a new name, for a request not confirmed yet."""
        contact = parse_contact(text, region_from_phone(where.spa.get("phone", "")))
        if contact.kind is not None and contact.value:
            phone, email = (contact.value, None) if contact.kind == "phone" else (None, contact.value)
            store.update_request(request.code, phone=phone, email=email)
            dispatcher.utter_message(text=replies.BOOKING_CONTACT_CHANGED.format(
                code=request.code, contact=display_contact(contact.value)))
            return []
        said = re.split(r"\bto\b", text, maxsplit=1)
        name = parse_name(said[1]) if len(said) == 2 and re.search(r"\bname\b", text, re.I) else None
        if name:
            store.update_request(request.code, name=name)
            dispatcher.utter_message(text=replies.BOOKING_NAME_CHANGED.format(code=request.code, name=name))
            return []
        problem = contact.problem if contact.problem in replies.BOOKING_PROBLEMS else "missing"
        dispatcher.utter_message(text=replies.BOOKING_PROBLEMS[problem] + " " + replies.BOOKING_CHANGE_CONTACT_HOW)
        return []


class AppointmentChange:
    """ "Cancel", "move it to Friday", a time picked from the offered ones: the person's next
    appointment, in the chat or by SMS. Inside the notice period (spa.yml
    `cancellation_notice_hours`) the spa's cancellation text is said with the change."""

    def __init__(self, dispatcher: CollectingDispatcher, said: Said, where: Situation, appointment: Any) -> None:
        self.dispatcher, self.said, self.where, self.appointment = dispatcher, said, where, appointment

    def run(self, preface: Preface) -> List[Dict[Text, Any]]:
        where, appointment = self.where, self.appointment
        if self.said.intent == "cancel_booking":
            return self.cancel()
        if not where.screening.allows_massage:
            absolute = [where.catalogue.conditions[c] for c in where.screening.absolute if c not in preface.covered]
            if absolute:
                self.dispatcher.utter_message(text=replies.avoid_reply(absolute))
            self.dispatcher.utter_message(text=replies.BOOKING_SUGGEST_CANCEL,
                                          buttons=[replies.button("Cancel my appointment", "/cancel_booking")])
            return []
        context = self.context()
        if context is None:
            self.dispatcher.utter_message(text=replies.booking_change_by_phone(where.spa))
            return []
        picked = slot_entity(self.said)
        if picked:
            slot = diary.parse_slot_value(picked, appointment.minutes, 0)
            if slot is None or offers.misfit(context, slot) is not None:  # an old button, or made up
                return self.ask(context, None, replies.APPOINTMENT_TIME_GONE)
            return self.move(slot)
        text = self.said.text
        found = offers.answer(context, text) if text and not self.said.is_payload else offers.Answer(problem="unparsed")
        if found.problem == "ambiguous" and found.needs == "day":
            # "Can I come at 4 instead": 4 pm on the appointment's own day.
            local = appointment.starts_at.astimezone(ZoneInfo(where.hours.timezone))
            found = offers.answer(context, f"{local:%B} {local.day} {text}")
        if found.slot is not None:
            return self.move(found.slot)
        if found.problem == TAKEN:
            return self.ask(context, text, replies.BOOKING_TIME_TAKEN.format(asked=text.rstrip("?.!")))
        if found.wish_text:
            return self.ask(context, found.wish_text, "")
        return self.ask(context, None, None)

    def context(self) -> Optional[offers.Context]:
        """Times for this appointment's service, with the training it needs (kept on it since it
        was booked, whatever this conversation knows), leaving the appointment itself out of its
        own way."""
        return offer_context(self.where, service_value(self.appointment.technique, self.appointment.minutes),
                             ignore=self.appointment.code, certifications=self.appointment.certifications or ())

    def when(self, moment: datetime) -> str:
        local = moment.astimezone(ZoneInfo(self.where.hours.timezone)).replace(tzinfo=None)
        return describe_time(local, self.where.now)

    def late(self) -> str:
        """The spa's cancellation text when the appointment is inside its notice period."""
        hours = self.where.spa.get("cancellation_notice_hours", "").strip() or DEFAULT_NOTICE_HOURS
        if not hours.isdigit():
            return ""
        left = self.appointment.starts_at - self.where.zone_now
        return self.where.spa.get("cancellation", "").strip() if left.total_seconds() < int(hours) * 3600 else ""

    def cancel(self) -> List[Dict[Text, Any]]:
        policy = self.late()
        appointment = appointment_store.cancel(self.appointment.code, now=self.where.zone_now)
        notify_client("cancelled", appointment)
        self.dispatcher.utter_message(text=replies.appointment_cancelled(
            appointment.code, self.when(appointment.starts_at), policy))
        return []

    def move(self, slot: Any) -> List[Dict[Text, Any]]:
        previous = self.appointment.starts_at
        policy = self.late()
        try:
            appointment = appointment_store.move(self.appointment.code, slot.start, therapist_id=slot.therapist_id,
                                                 room_id=slot.room_id, now=self.where.zone_now)
        except SlotTaken:
            context = self.context()
            return self.ask(context, None, replies.BOOKING_TAKEN_MEANWHILE) if context else []
        notify_client("moved", appointment, previous_start=previous)
        therapist = diary.team_view().first_name(appointment.therapist_id)
        self.dispatcher.utter_message(text=replies.appointment_moved(
            appointment.code, self.when(appointment.starts_at), therapist, policy, reaches(appointment)))
        return []

    def ask(self, context: offers.Context, wish_text: Optional[str], lead: Optional[str]) -> List[Dict[Text, Any]]:
        """Free times to move to, as buttons; the appointment stays as it is until one is chosen."""
        found = offers.offer(context, wish_text)
        slots = found.slots or found.nearest
        current = replies.appointment_now(self.appointment.code, self.when(self.appointment.starts_at))
        if not slots:
            self.dispatcher.utter_message(text=" ".join(p for p in (lead, current, replies.appointment_no_times(
                self.where.spa)) if p))
            return []
        buttons = [replies.button(slot_title(slot, context, self.where),
                                  replies.entity_payload("change_booking", SLOT, diary.slot_value(slot)))
                   for slot in slots]
        self.dispatcher.utter_message(text=" ".join(p for p in (lead, current, replies.APPOINTMENT_PICK_TIME) if p),
                                      buttons=buttons)
        return []
