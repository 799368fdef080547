"""Booking requests taken in the conversation: `booking_form`, its questions, and changes after.

The form only opens when `action_advise` says a booking may start (safety checklist answered,
nothing that rules massage out). From then on every answer passes through
`validate_booking_form`, which also keeps safety on: a red flag or an absolute
contraindication reported mid-form ends the form (the submit action then says why), a relative
one is kept for the intake and the next question leads with its modification.

The questions themselves are `SafeAction`s (`action_ask_<slot>`), so like every other reply they
pass through the safety preface. The validation action never speaks: it records what was wrong
with an answer in `booking_problem`, and the next question says it. That keeps every word the
person sees in one place per slot.

Kiosk: no name or contact on a shared screen; the person shows a reference code at reception.
SMS and WhatsApp (Twilio): the number they write from is offered as the contact.
"""
from __future__ import annotations

import logging
import re
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import replies
from actions.advice import ActionExplainChoice, current_recommendation
from actions.handoff import ActionDefaultFallback
from actions.knowledge import ActionAnswerTopic
from actions.safety import ActionSmallTalk, SafeAction
from actions.tracker_state import latest_intent, profile_from
from bot.advice.catalogue import Catalogue, TechniqueInfo
from bot.advice.crisis import crisis_in
from bot.advice.preface import Preface, own_mentions, technique_cautions
from bot.advice.profile import Profile
from bot.advice.safety import Screening, screen
from bot.booking import appointment_store, diary, offers, store
from bot.booking.appointment_store import HoldExpired, SlotTaken
from bot.booking.contact import display_contact, parse_contact, parse_name, region_from_phone
from bot.booking.intake import build_intake, summary_lines
from bot.booking.client_notify import notify_client
from bot.booking.notify import notify_new_request
from bot.booking.when import (
    OpeningHours,
    PreferredTime,
    combine,
    describe_time,
    local_now,
    next_open_slots,
    opening_hours_from_settings,
    parse_preferred_time,
)
from bot.knowledge import queries

logger = logging.getLogger(__name__)

FORM = "booking_form"
REQUESTED = "requested_slot"
READY = "booking_ready"
SERVICE = "booking_service"
TECHNIQUE = "booking_technique"
TIME = "booking_time"
TIME_TEXT = "booking_time_text"
TIME_PARTIAL = "booking_time_partial"
NAME = "booking_name"
CONTACT = "booking_contact"
CONTACT_OTHER = "booking_contact_other"
CONSENT = "booking_consent"
CONFIRMED = "booking_confirmed"
PROBLEM = "booking_problem"
STAGE = "booking_stage"
SLOT = "booking_slot"  # the free time chosen, as diary.slot_value writes it, or "waitlist"
HOLD = "booking_hold"  # the code of the appointment held while the summary is shown
WISH = "booking_wish"  # the person's words about when and with whom, to offer times for
ORDER = (SERVICE, TIME, NAME, CONTACT, CONSENT, CONFIRMED)
KEPT_FOR_THE_REQUEST = (SERVICE, TECHNIQUE, TIME, TIME_TEXT, TIME_PARTIAL, NAME, CONTACT, CONTACT_OTHER,
                        CONSENT, CONFIRMED, PROBLEM, STAGE, SLOT, HOLD, WISH)

# Why the form ended before a request was stored.
STOPPED, DECLINED, CANCELLED = "stopped", "declined", "cancelled"
# What was wrong with the last answer (booking_problem); the next question says it.
QUESTION, SMALL_TALK, UNCLEAR, UNSUITABLE, CONDITION = "question", "small_talk", "unclear", "unsuitable", "condition"
NEEDS_DAY, NEEDS_TIME, CLOSED = "needs_day", "needs_time", "closed"
TAKEN, TAKEN_MEANWHILE, UNKNOWN_THERAPIST = "taken", "taken_meanwhile", "unknown_therapist"

KIOSK = "kiosk"
# Channels whose sender id is the person's phone number.
PHONE_CHANNELS = {"twilio"}
# Intents that leave the form by a rule (talk to a person, delete my conversation).
INTERRUPTIONS = {"request_human", "delete_conversation"}
SMALL_TALK_INTENTS = {"greet", "thanks", "goodbye", "bot_challenge"}
PAYLOAD = re.compile(r"^/\w+")
MINUTES = re.compile(r"\b(\d{2,3})\s*(?:-?\s*min(?:ute)?s?)?\b", re.IGNORECASE)
LENGTH = re.compile(r"\b\d{2,3}\s*-?\s*min(?:ute)?s?\b")
HOUR_WORDS = {"an hour": 60, "one hour": 60, "1 hour": 60, "half an hour": 30, "half hour": 30}
CHANGE_WORDS = {
    "time": ("time", "day", "date", "when", "earlier", "later", "move", "reschedule"),
    "service": ("service", "massage", "technique", "length", "minutes", "longer", "shorter"),
    "contact": ("contact", "number", "phone", "email", "name"),
}


@dataclass(frozen=True)
class Situation:
    """What the booking logic needs to know about the conversation and the spa right now."""

    catalogue: Catalogue
    profile: Profile
    screening: Screening
    spa: Dict[str, str]
    hours: OpeningHours
    now: datetime
    channel: str
    sender: str

    @property
    def at_kiosk(self) -> bool:
        return self.channel == KIOSK

    @property
    def instant(self) -> bool:
        """The spa books appointments at once (spa.yml `instant_confirmation`), else takes requests."""
        return self.spa.get("instant_confirmation", "no").strip().lower() in ("yes", "true", "on")

    @property
    def zone_now(self) -> datetime:
        return self.now.replace(tzinfo=ZoneInfo(self.hours.timezone))

    @property
    def sender_phone(self) -> Optional[str]:
        """The number an SMS or WhatsApp message came from, as an E.164 number, if it is one."""
        if self.channel not in PHONE_CHANNELS:
            return None
        number = self.sender.split(":", 1)[-1] if self.sender.startswith("whatsapp:") else self.sender
        contact = parse_contact(number, region_from_phone(self.spa.get("phone", "")))
        return contact.value if contact.kind == "phone" else None


def spa_now(hours: OpeningHours) -> datetime:
    """The spa's wall-clock time: preferred times are times on the spa's calendar. Tests replace it."""
    return local_now(hours)


def situation(tracker: Tracker) -> Situation:
    catalogue = queries.catalogue()
    profile = profile_from(tracker)
    spa = queries.settings("spa")
    hours = opening_hours_from_settings(spa)
    return Situation(
        catalogue=catalogue, profile=profile, screening=screen(profile, catalogue.severities), spa=spa,
        hours=hours, now=spa_now(hours),
        channel=tracker.get_latest_input_channel() or "", sender=tracker.sender_id or "",
    )


def offer_context(where: Situation, service: Optional[str]) -> Optional[offers.Context]:
    """What offering times needs for this service and this person, or None before the service
    is known. Who may do it follows the intake: pregnancy needs a prenatal-trained therapist..."""
    technique, minutes = parse_service(service)
    if not technique:
        return None
    rules = diary.team_rules()
    return offers.Context(
        spa=diary.load_spa(where.hours, where.spa), rules=rules, hours=where.hours,
        service=diary.service_for(technique, minutes or 60, rules),
        certifications=rules.required_for(list(where.profile.conditions) + list(where.screening.relative)),
        now=where.zone_now)


def chosen_slot(where: Situation, slots: Dict[str, Any]) -> Optional[Any]:
    context_service = parse_service(slots.get(SERVICE))
    if not context_service[0] or slots.get(SLOT) in (None, offers.WAITLIST):
        return None
    rules = diary.team_rules()
    return diary.parse_slot_value(slots.get(SLOT), context_service[1] or 60, rules.buffer_minutes)


def wall_iso(moment: datetime, where: Situation) -> str:
    """An aware time as the naive spa wall-clock ISO text booking_time has always held."""
    return moment.astimezone(ZoneInfo(where.hours.timezone)).replace(tzinfo=None).isoformat(timespec="minutes")


def time_answer(tracker: Tracker, where: Situation, slots: Dict[str, Any], intent: str, text: str,
                is_payload: bool) -> Dict[str, Any]:
    """An answer to "when?": a free time picked from the buttons, a time typed that is free, or
    words that change which times are offered ("Saturday morning", "with Maria")."""
    picked = slot_entity(tracker)
    if picked == offers.WAITLIST:
        return {SLOT: offers.WAITLIST, TIME: None, PROBLEM: None}
    if picked:
        technique, minutes = parse_service(slots.get(SERVICE))
        slot = diary.parse_slot_value(picked, minutes or 60, 0)
        if slot is None:
            return {PROBLEM: UNCLEAR}
        return {SLOT: picked, TIME: wall_iso(slot.start, where), WISH: None, PROBLEM: None}
    if is_payload and not text.startswith("/book_session"):
        return {PROBLEM: UNCLEAR}
    if is_payload:
        return {PROBLEM: None}
    context = offer_context(where, slots.get(SERVICE))
    if context is None:
        return {TIME_TEXT: text}
    found = offers.answer(context, text)
    if found.problem == "ambiguous" and found.needs == "day" and slots.get(WISH):
        # "Friday" and then "at 3 pm": the day asked for before, with this time.
        combined = offers.answer(context, f"{slots[WISH]} {text}")
        if combined.slot is not None or combined.problem not in ("ambiguous", "unparsed"):
            found, text = combined, f"{slots[WISH]} {text}"
    if found.slot is not None:
        return {SLOT: diary.slot_value(found.slot), TIME: wall_iso(found.slot.start, where), TIME_TEXT: text,
                WISH: None, PROBLEM: None}
    if found.problem in ("unparsed", None) and found.wish_text is None:
        return {PROBLEM: free_text_problem(intent) if intent != "book_session" else "unparsed"}
    if found.problem == "ambiguous":
        return {PROBLEM: NEEDS_DAY if found.needs == "day" else NEEDS_TIME}
    if found.problem == CLOSED:  # the times offered start from the one asked for
        return {PROBLEM: CLOSED, TIME_TEXT: text, WISH: text}
    if found.problem in ("past", "too_far"):
        return {PROBLEM: found.problem, TIME_TEXT: text, WISH: None}
    return {WISH: found.wish_text, TIME_TEXT: text, PROBLEM: found.problem}


def slot_entity(tracker: Tracker) -> Optional[str]:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == SLOT and entity.get("value"):
            return str(entity["value"])
    return None


def hold_changes(where: Situation, merged: Dict[str, Any]) -> Dict[str, Any]:
    """Hold the chosen time while the summary is shown. Taken in the meantime: back to "when?"
    with fresh times. A hold that ran out is simply taken again when the time is still free."""
    slot = chosen_slot(where, merged)
    if slot is None:
        return {}
    code = merged.get(HOLD)
    if code:
        held = appointment_store.get(code)
        if held is not None and held.status == "held" and held.hold_expires_at > where.zone_now:
            return {}
    technique, minutes = parse_service(merged.get(SERVICE))
    contact = merged.get(CONTACT) or ""
    try:
        held = diary.hold(slot, diary.service_for(technique or "", minutes or 60), sender_id=where.sender,
                          channel=where.channel or "unknown",
                          service_name=describe_service(merged.get(SERVICE), where.catalogue),
                          name=None if where.at_kiosk else merged.get(NAME),
                          phone=contact if contact and "@" not in contact else None,
                          email=contact if "@" in contact else None, now=where.zone_now)
    except SlotTaken:
        return {TIME: None, SLOT: None, HOLD: None, CONFIRMED: None, PROBLEM: TAKEN_MEANWHILE, REQUESTED: TIME}
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


# --- the service: technique and session length -------------------------------------------------

def session_lengths(catalogue: Catalogue) -> List[int]:
    return [length.minutes for length in catalogue.session_lengths]


def suitable_techniques(where: Situation) -> List[TechniqueInfo]:
    """Techniques the person may book: none the safety preface would warn about for them."""
    return [t for t in where.catalogue.techniques if not unsuitable(t.id, where)]


def unsuitable(technique_id: str, where: Situation) -> bool:
    mention = [{"entity": "technique", "value": technique_id}]
    return bool(technique_cautions(mention, where.profile, where.screening, where.catalogue))


def service_value(technique_id: str, minutes: int) -> str:
    return f"{technique_id}:{minutes}"


def parse_service(value: Optional[str]) -> Tuple[Optional[str], Optional[int]]:
    if not value or ":" not in value:
        return None, None
    technique, minutes = value.split(":", 1)
    return technique, int(minutes) if minutes.isdigit() else None


def describe_service(value: Optional[str], catalogue: Catalogue) -> str:
    technique_id, minutes = parse_service(value)
    technique = catalogue.technique(technique_id or "")
    name = technique.name if technique else "Massage"
    return f"{name}, {minutes} minutes" if minutes else name


def minutes_in(tracker: Tracker, catalogue: Catalogue) -> Optional[int]:
    """A session length the spa offers, from the time_available entity or the words."""
    offered = session_lengths(catalogue)
    candidates: List[int] = []
    for entity in own_mentions(tracker.latest_message.get("entities") or [], "time_available"):
        if str(entity["value"]).isdigit():
            candidates.append(int(entity["value"]))
    text = (tracker.latest_message.get("text") or "").lower()
    candidates += [minutes for words, minutes in HOUR_WORDS.items() if words in text]
    candidates += [int(m) for m in MINUTES.findall(text)]
    return next((m for m in candidates if m in offered), None)


def technique_in(tracker: Tracker) -> Optional[str]:
    found = own_mentions(tracker.latest_message.get("entities") or [], "technique")
    return str(found[0]["value"]) if found else None


# --- the validation action ----------------------------------------------------------------------

def reports_health(tracker: Tracker) -> bool:
    """The message tells us about the person's own health: it is not an answer to the question."""
    entities = tracker.latest_message.get("entities") or []
    return any(own_mentions(entities, kind) for kind in ("condition", "red_flag", "unknown_condition"))


def next_slot(slots: Dict[str, Any], where: Situation) -> Optional[str]:
    for slot in ORDER:
        if slot == TIME and slots.get(SLOT) == offers.WAITLIST:
            continue
        if where.at_kiosk and slot in (NAME, CONTACT):
            continue
        if slots.get(slot) is None:
            return slot
    return None


def read_time(text: str, partial: Optional[str], minutes: int, where: Situation) -> PreferredTime:
    """The person's words as a time; a day or time given before is combined with this answer."""
    if partial:
        return combine(partial, text, where.now, where.hours, minutes)
    return parse_preferred_time(text, where.now, where.hours, minutes)


def time_events(result: PreferredTime) -> Dict[str, Any]:
    """Slot changes for a parsed time: kept when it is fine, otherwise the reason to ask again.
    An answer with only a day or only a time is kept to combine with the next one."""
    if result.ok and result.when is not None:
        return {TIME: result.when.isoformat(timespec="minutes"), TIME_TEXT: result.text, TIME_PARTIAL: None,
                PROBLEM: None}
    if result.status == "ambiguous":
        return {TIME_PARTIAL: result.text, PROBLEM: NEEDS_DAY if result.needs == "day" else NEEDS_TIME}
    if result.status == "closed":
        return {TIME_TEXT: result.text, TIME_PARTIAL: None, PROBLEM: CLOSED}
    if result.status == "unparsed":
        return {PROBLEM: result.status}
    return {TIME_PARTIAL: None, PROBLEM: result.status}


def free_text_problem(intent: str) -> str:
    """An answer that could not be read: a question or small talk is answered, then asked again."""
    if intent.startswith("ask_") or intent in ("out_of_scope",):
        return QUESTION
    if intent in SMALL_TALK_INTENTS:
        return SMALL_TALK
    return UNCLEAR


def booking_form_changes(tracker: Tracker, where: Situation) -> Optional[Dict[str, Any]]:
    """Slot changes for the latest message in the booking form; None lets the rules take over.

    Decides everything the form does with an answer: stop for safety, cancel, fill the requested
    slot, or note what was wrong so the next question can say so.
    """
    intent = latest_intent(tracker)
    text = (tracker.latest_message.get("text") or "").strip()
    is_payload = bool(PAYLOAD.match(text))
    # While the form runs a question is always pending; none means the form is just opening.
    requested = tracker.get_slot(REQUESTED)
    activating = requested is None
    slots = {slot: tracker.get_slot(slot) for slot in KEPT_FOR_THE_REQUEST}
    changes: Dict[str, Any] = {PROBLEM: None}

    entities = tracker.latest_message.get("entities") or []
    if crisis_in(entities) or own_mentions(entities, "red_flag") or not where.screening.allows_massage:
        # Dropped here: after a crisis or a red flag the submit action says only the crisis reply
        # or the urgent message.
        return {**{slot: None for slot in KEPT_FOR_THE_REQUEST}, STAGE: STOPPED, REQUESTED: None}
    if not activating and intent in INTERRUPTIONS and not answers_the_question(requested, text, slots, where):
        return None
    if intent == "cancel_booking":
        return {STAGE: CANCELLED, PROBLEM: None, REQUESTED: None}

    if activating:
        changes.update({READY: False, STAGE: None, CONFIRMED: None, CONSENT: None})
        changes.update(prefill(tracker, where, slots))
    elif reports_health(tracker):
        # The next question leads with what the safety preface says about it.
        changes[PROBLEM] = CONDITION
    elif intent == "change_booking" and requested not in (TIME, CONFIRMED):
        changes.update(change_answer(tracker, where, text))
    elif requested == SERVICE:
        changes.update(service_answer(tracker, where, slots, intent))
    elif requested == TIME:
        changes.update(time_answer(tracker, where, slots, intent, text, is_payload))
    elif requested == NAME:
        name = None if is_payload else parse_name(text)
        if name:
            changes[NAME] = name
        else:
            changes[PROBLEM] = free_text_problem(intent) if intent.startswith("ask_") else "no_name"
    elif requested == CONTACT:
        changes.update(contact_answer(tracker, where, slots, intent, text, is_payload))
    elif requested == CONSENT:
        if intent == "affirm":
            changes[CONSENT] = True
        elif intent == "deny":
            return {CONSENT: False, STAGE: DECLINED, PROBLEM: None, REQUESTED: None}
        else:
            changes[PROBLEM] = free_text_problem(intent) if intent != "nlu_fallback" else UNCLEAR
    elif requested == CONFIRMED:
        changes.update(confirm_answer(tracker, where, intent, text))
        if changes.get(STAGE) == CANCELLED:
            return {STAGE: CANCELLED, PROBLEM: None, REQUESTED: None}

    merged = {**slots, **changes}
    if merged.get(HOLD) and merged.get(SLOT) is None:
        release_hold(merged[HOLD], where.zone_now)
        changes[HOLD] = merged[HOLD] = None
    changes[REQUESTED] = next_slot(merged, where)
    if changes[REQUESTED] == TIME and requested != TIME and not merged.get(PROBLEM) and merged.get(TIME_TEXT) \
            and not merged.get(WISH):
        changes.update(earlier_time_answer(tracker, where, merged, intent))
        merged = {**slots, **changes}
        changes[REQUESTED] = next_slot(merged, where)
    if changes[REQUESTED] == CONFIRMED:
        changes.update(hold_changes(where, merged))
    return changes


def earlier_time_answer(tracker: Tracker, where: Situation, slots: Dict[str, Any], intent: str) -> Dict[str, Any]:
    """The words of the booking request ("can I come tomorrow at 4?", "the earliest you can fit
    me in") answer "when?" as soon as the service is known: a free time is taken, a wish shapes
    the times offered, a time that cannot be kept is explained."""
    changes = time_answer(tracker, where, slots, intent, slots[TIME_TEXT], False)
    if changes.get(PROBLEM) in (QUESTION, SMALL_TALK, UNCLEAR, "unparsed"):
        return {}
    return changes


def earlier_time_problem(slots: Dict[str, Any], where: Situation) -> Dict[str, Any]:
    """A time given with the booking request that cannot be kept ("Sunday at 3") is explained when
    the time question comes, even if the massage was asked about first."""
    words = slots.get(TIME_TEXT)
    if not words or slots.get(TIME_PARTIAL):
        return {}
    result = parse_preferred_time(words, where.now, where.hours, parse_service(slots.get(SERVICE))[1] or 60)
    return time_events(result) if result.status in ("closed", "past", "too_far", "ambiguous") else {}


def answers_the_question(requested: Optional[str], text: str, slots: Dict[str, Any], where: Situation) -> bool:
    """A phone number or a time is an answer even when it reads like "call me" or "talk to you"."""
    if requested == CONTACT:
        return parse_contact(text, region_from_phone(where.spa.get("phone", ""))).ok
    if requested == TIME:
        minutes = parse_service(slots[SERVICE])[1] or 60
        return read_time(text, slots[TIME_PARTIAL], minutes, where).status != "unparsed"
    return False


def prefill(tracker: Tracker, where: Situation, slots: Dict[str, Any]) -> Dict[str, Any]:
    """What the conversation already says: the recommendation, and the words of the booking request."""
    changes: Dict[str, Any] = {}
    technique = technique_in(tracker) or slots.get(TECHNIQUE)
    minutes = minutes_in(tracker, where.catalogue)
    if technique and unsuitable(technique, where):
        technique = None
    recommendation = current_recommendation(tracker, where.catalogue)
    if not technique and not slots.get(SERVICE) and recommendation is not None:
        technique = recommendation.techniques[0].id
        minutes = minutes or recommendation.minutes
    if technique and minutes:
        changes.update({SERVICE: service_value(technique, minutes), TECHNIQUE: None})
    elif technique:
        changes[TECHNIQUE] = technique
    if slots.get(TIME) is None:
        request_text = latest_booking_words(tracker)
        if request_text:
            # Read against the diary once the service is known (earlier_time_answer).
            changes.update({TIME_TEXT: request_text, WISH: None, SLOT: None})
    return changes


def latest_booking_words(tracker: Tracker) -> Optional[str]:
    """The words of the person's booking request ("can I book for Saturday 10am"): this message,
    or the one action_advise kept in booking_time_text before the safety checklist."""
    text = (tracker.latest_message.get("text") or "").strip()
    if latest_intent(tracker) == "book_session" and text and not PAYLOAD.match(text):
        return text
    return tracker.get_slot(TIME_TEXT)


def service_answer(tracker: Tracker, where: Situation, slots: Dict[str, Any], intent: str) -> Dict[str, Any]:
    technique = technique_in(tracker) or slots.get(TECHNIQUE)
    minutes = minutes_in(tracker, where.catalogue)
    if technique and unsuitable(technique, where):
        return {TECHNIQUE: None, PROBLEM: UNSUITABLE}
    if technique and minutes:
        return {SERVICE: service_value(technique, minutes), TECHNIQUE: None}
    if technique:
        return {TECHNIQUE: technique}
    return {PROBLEM: free_text_problem(intent) if intent != "book_session" else UNCLEAR}


def contact_answer(tracker: Tracker, where: Situation, slots: Dict[str, Any], intent: str, text: str,
                   is_payload: bool) -> Dict[str, Any]:
    offered = where.sender_phone if not slots.get(CONTACT_OTHER) else None
    if offered and intent == "affirm":
        return {CONTACT: offered}
    if offered and intent == "deny":
        return {CONTACT_OTHER: True}
    if is_payload:
        return {PROBLEM: UNCLEAR}
    contact = parse_contact(text, region_from_phone(where.spa.get("phone", "")))
    if contact.kind and contact.value and not contact.problem:
        return {CONTACT: contact.value}
    if contact.problem == "missing" and intent.startswith("ask_"):
        return {PROBLEM: QUESTION}
    return {PROBLEM: contact.problem or "missing"}


def confirm_answer(tracker: Tracker, where: Situation, intent: str, text: str) -> Dict[str, Any]:
    if intent == "affirm":
        return {CONFIRMED: True}
    if intent == "deny":
        return {STAGE: CANCELLED}
    if intent in ("change_booking", "book_session"):
        return change_answer(tracker, where, text)
    return {PROBLEM: free_text_problem(intent)}


def change_answer(tracker: Tracker, where: Situation, text: str) -> Dict[str, Any]:
    """"Change the time" (or "make it Friday at 3"): clear that part, or fill it at once."""
    part = change_target(tracker, text)
    if part == "service":
        return {SERVICE: None, TECHNIQUE: technique_in(tracker)}
    if part == "contact":
        return {CONTACT: None, CONTACT_OTHER: None, NAME: None} if not where.at_kiosk else {}
    changes: Dict[str, Any] = {TIME: None, TIME_PARTIAL: None, SLOT: None, WISH: None, TIME_TEXT: None}
    if not PAYLOAD.match(text):
        slots = {SERVICE: tracker.get_slot(SERVICE)}
        answer = time_answer(tracker, where, slots, "change_booking", text, False)
        if answer.get(SLOT) or answer.get(WISH):
            changes.update(answer)
    return changes


def change_target(tracker: Tracker, text: str) -> str:
    """Which part of the request the person wants to change: "time", "service" or "contact"."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "booking_change" and entity.get("value") in CHANGE_WORDS:
            return str(entity["value"])
    if technique_in(tracker):
        return "service"
    lowered = text.lower()
    if LENGTH.search(lowered):  # "a 60 minute session", "90 mins" (not "an hour later": that is a time)
        return "service"
    for part in ("contact", "service", "time"):
        if any(re.search(rf"\b{word}\b", lowered) for word in CHANGE_WORDS[part]):
            return part
    return "time"


class ValidateBookingForm(Action):
    """Reads each answer in the booking form. A plain Action rather than a FormValidationAction:
    what an answer means depends on the whole request and on safety, not on one slot at a time."""

    def name(self) -> Text:
        return "validate_booking_form"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        changes = booking_form_changes(tracker, situation(tracker))
        if changes is None:
            return []
        requested = changes.pop(REQUESTED, None)
        return [SlotSet(slot, value) for slot, value in changes.items()] + [SlotSet(REQUESTED, requested)]


# --- the questions ------------------------------------------------------------------------------

class AskBookingSlot(SafeAction, metaclass=ABCMeta):
    """One question of the booking form, after the safety preface like every reply.

    When the last answer was a question or small talk, that is answered first.
    """

    slot = ""
    keeps_its_question = True

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        problem = tracker.get_slot(PROBLEM)
        if problem == QUESTION:
            aside = ActionExplainChoice() if latest_intent(tracker) == "ask_why" else (
                ActionDefaultFallback() if latest_intent(tracker) == "out_of_scope" else ActionAnswerTopic())
            aside.answer(dispatcher, tracker, domain, preface)
        elif problem == SMALL_TALK and latest_intent(tracker) != "goodbye":
            ActionSmallTalk().answer(dispatcher, tracker, domain, preface)
        where = situation(tracker)
        text, buttons = self.ask(tracker, where, problem)
        dispatcher.utter_message(text=text, buttons=buttons or [])
        return []

    @abstractmethod
    def ask(self, tracker: Tracker, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        """The question's text and buttons, saying first what was wrong with the last answer."""


class AskService(AskBookingSlot):
    slot = SERVICE

    def ask(self, tracker: Tracker, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        technique = where.catalogue.technique(tracker.get_slot(TECHNIQUE) or "")
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

    def ask(self, tracker: Tracker, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        service = describe_service(tracker.get_slot(SERVICE), where.catalogue)
        context = offer_context(where, tracker.get_slot(SERVICE))
        if context is None:
            return replies.booking_problem_text(problem, replies.booking_ask_time(service, where.hours.describe())), []
        wish_text = tracker.get_slot(WISH)
        found = offers.offer(context, wish_text)
        lead = self.lead(tracker, where, context, problem, found)
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
    def lead(tracker: Tracker, where: Situation, context: offers.Context, problem: Optional[str],
             found: offers.Offer) -> str:
        """What is said before the times: why the last answer could not be kept."""
        asked = tracker.get_slot(TIME_TEXT) or ""
        if problem == TAKEN:
            return replies.BOOKING_TIME_TAKEN.format(asked=asked.strip().rstrip("?.!"))
        if problem == TAKEN_MEANWHILE:
            return replies.BOOKING_TAKEN_MEANWHILE
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


def slot_title(slot: Any, context: offers.Context, where: Situation) -> str:
    """ "Tuesday 8 December at 10 am with Maria": the time on the spa's clock and the therapist."""
    local = slot.start.astimezone(ZoneInfo(where.hours.timezone)).replace(tzinfo=None)
    return f"{describe_time(local, where.now)} with {context.name_of(slot.therapist_id).split()[0]}"


class AskName(AskBookingSlot):
    slot = NAME

    def ask(self, tracker: Tracker, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        return replies.booking_problem_text(problem, replies.BOOKING_ASK_NAME), []


class AskContact(AskBookingSlot):
    slot = CONTACT

    def ask(self, tracker: Tracker, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        offered = where.sender_phone if not tracker.get_slot(CONTACT_OTHER) else None
        if offered:
            return (replies.booking_problem_text(problem, replies.BOOKING_OFFER_NUMBER.format(
                number=display_contact(offered))),
                [replies.button("Use this number", "/affirm"), replies.button("Give another", "/deny")])
        return replies.booking_problem_text(problem, replies.BOOKING_ASK_CONTACT), []


class AskConsent(AskBookingSlot):
    slot = CONSENT

    def ask(self, tracker: Tracker, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        text = replies.BOOKING_ASK_CONSENT_KIOSK if where.at_kiosk else replies.BOOKING_ASK_CONSENT
        return (replies.booking_problem_text(problem, text),
                [replies.button("Yes", "/affirm"), replies.button("No", "/deny")])


class AskConfirmed(AskBookingSlot):
    slot = CONFIRMED

    def ask(self, tracker: Tracker, where: Situation, problem: Optional[str]) -> Tuple[str, List[Dict[str, str]]]:
        when = tracker.get_slot(TIME)
        waitlist = tracker.get_slot(SLOT) == offers.WAITLIST
        slot = chosen_slot(where, {SERVICE: tracker.get_slot(SERVICE), SLOT: tracker.get_slot(SLOT)})
        time_line = ("waiting list: the team will contact you when a time opens up" if waitlist else
                     describe_time(datetime.fromisoformat(when), where.now) if when else "to be agreed")
        lines = [
            f"- **Massage:** {describe_service(tracker.get_slot(SERVICE), where.catalogue)}",
            f"- **Time:** {time_line}",
        ]
        if slot is not None:
            lines.append(f"- **Therapist:** {diary.team_view().names.get(slot.therapist_id, slot.therapist_id)}")
        if not where.at_kiosk:
            lines.append(f"- **Name:** {tracker.get_slot(NAME)}")
            lines.append(f"- **Contact:** {display_contact(tracker.get_slot(CONTACT) or '')}")
        intake = summary_lines(build_intake(where.profile, where.catalogue))
        if where.instant and tracker.get_slot(HOLD):
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


# --- after the form -----------------------------------------------------------------------------

def reset_events() -> List[Dict[Text, Any]]:
    """The request's details are not kept in the conversation once it is stored or dropped."""
    return [SlotSet(slot, None) for slot in KEPT_FOR_THE_REQUEST] + [SlotSet(READY, False)]


class ActionBookingSubmit(SafeAction):
    """The form ended: store and confirm the request, or say why nothing was stored."""

    def name(self) -> Text:
        return "action_booking_submit"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        where = situation(tracker)
        stage = tracker.get_slot(STAGE)
        if stage in (STOPPED, DECLINED, CANCELLED) or not tracker.get_slot(CONFIRMED) \
                or not where.screening.allows_massage:
            release_hold(tracker.get_slot(HOLD), where.zone_now)
        if not where.screening.allows_massage or stage == STOPPED:
            absolute = [where.catalogue.conditions[c] for c in where.screening.absolute if c not in preface.covered]
            if absolute or not preface.lines:
                dispatcher.utter_message(text=replies.avoid_reply(absolute))
            return reset_events()
        if stage == DECLINED:
            dispatcher.utter_message(text=replies.booking_declined(where.spa))
            return reset_events()
        if stage == CANCELLED or not tracker.get_slot(CONFIRMED):
            dispatcher.utter_message(text=replies.BOOKING_CANCELLED_BEFORE_SENDING)
            return reset_events()
        if where.instant and tracker.get_slot(HOLD):
            return self.book(dispatcher, tracker, where)
        release_hold(tracker.get_slot(HOLD), where.zone_now)
        request = self.store(tracker, where)
        if request is None:
            dispatcher.utter_message(text=replies.booking_not_saved(where.spa))
            return reset_events()
        notes = [where.catalogue.conditions[c].modification for c in where.screening.relative
                 if where.catalogue.conditions[c].modification]
        if tracker.get_slot(SLOT) == offers.WAITLIST:
            dispatcher.utter_message(text=replies.booking_waitlisted(
                request.code, display_contact(request.phone or request.email or "")))
        elif where.at_kiosk:
            dispatcher.utter_message(text=replies.booking_done_kiosk(request.code, notes))
        else:
            dispatcher.utter_message(text=replies.booking_done(
                request.code, tracker.get_slot(NAME) or "", display_contact(request.phone or request.email or ""),
                notes))
        return reset_events()

    def book(self, dispatcher: CollectingDispatcher, tracker: Tracker, where: Situation) -> List[Dict[Text, Any]]:
        """Instant confirmation: the held time becomes the person's appointment, and they get the
        confirmation by email or SMS; the reminder follows the day before (bot.booking.reminders)."""
        code = tracker.get_slot(HOLD)
        try:
            appointment = appointment_store.confirm(code, now=where.zone_now)
        except HoldExpired:
            changes = hold_changes(where, {**{s: tracker.get_slot(s) for s in KEPT_FOR_THE_REQUEST}, HOLD: None})
            if not changes.get(HOLD):
                dispatcher.utter_message(text=replies.BOOKING_HOLD_LOST,
                                         buttons=[replies.button("Choose another time", "/book_session")])
                return reset_events()
            appointment = appointment_store.confirm(changes[HOLD], now=where.zone_now)
        except Exception as failure:  # nothing booked: say so, with the phone number
            logger.error("Confirming an appointment failed (%s).", type(failure).__name__)
            dispatcher.utter_message(text=replies.booking_not_saved(where.spa))
            return reset_events()
        notify_client("confirmed", appointment)
        notes = [where.catalogue.conditions[c].modification for c in where.screening.relative
                 if where.catalogue.conditions[c].modification]
        when = describe_time(appointment.starts_at.astimezone(ZoneInfo(where.hours.timezone)).replace(tzinfo=None),
                             where.now)
        therapist = diary.team_view().first_name(appointment.therapist_id)
        if where.at_kiosk:
            dispatcher.utter_message(text=replies.booking_confirmed_kiosk(appointment.code, when, therapist, notes))
        else:
            contact = display_contact(appointment.phone or appointment.email or "")
            dispatcher.utter_message(text=replies.booking_confirmed(
                appointment.code, when, therapist, contact, notes, where.spa.get("cancellation", "").strip()))
        return reset_events()

    @staticmethod
    def store(tracker: Tracker, where: Situation) -> Optional[Any]:
        technique_id, minutes = parse_service(tracker.get_slot(SERVICE))
        technique = where.catalogue.technique(technique_id or "")
        contact = tracker.get_slot(CONTACT) or ""
        when = tracker.get_slot(TIME)
        words = tracker.get_slot(TIME_TEXT)
        slot = chosen_slot(where, {SERVICE: tracker.get_slot(SERVICE), SLOT: tracker.get_slot(SLOT)})
        if slot is not None:
            words = f"with {diary.team_view().names.get(slot.therapist_id, slot.therapist_id)}"
        elif tracker.get_slot(SLOT) == offers.WAITLIST:
            when, words = None, f"Waiting list: {tracker.get_slot(WISH) or words or 'the next free time'}"
        try:
            request = store.create_request(
                sender_id=where.sender, channel=where.channel or "unknown", technique=technique_id,
                technique_name=technique.name if technique else None, minutes=minutes,
                preferred_at=datetime.fromisoformat(when) if when else None,
                preferred_text=words[:200] if words else None,
                name=None if where.at_kiosk else tracker.get_slot(NAME),
                phone=contact if contact and "@" not in contact else None,
                email=contact if "@" in contact else None,
                intake=build_intake(where.profile, where.catalogue),
            )
        except Exception as failure:  # the person gets the phone number instead; nothing is half-stored
            logger.error("Storing a booking request failed (%s).", type(failure).__name__)
            return None
        try:
            notify_new_request(request)
        except Exception as failure:  # the request is stored; the staff page shows it anyway
            logger.error("Notifying the spa of a booking request failed (%s).", type(failure).__name__)
        return request


class ActionManageBooking(SafeAction):
    """"Change my booking to Friday at 3", "cancel my booking": the latest request of this conversation."""

    def name(self) -> Text:
        return "action_manage_booking"

    def answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any], preface: Preface
    ) -> List[Dict[Text, Any]]:
        where = situation(tracker)
        appointment = appointment_store.upcoming_for(where.sender, where.sender_phone, now=where.zone_now)
        if appointment is not None:
            return AppointmentChange(dispatcher, tracker, where, appointment).run(preface)
        request = store.latest_for_sender(where.sender)
        if request is None or request.status in ("cancelled", "done"):
            dispatcher.utter_message(text=replies.no_open_booking(where.spa),
                                     buttons=[replies.button("Make a booking request", "/book_session")])
            return []
        if latest_intent(tracker) == "cancel_booking":
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
        text = (tracker.latest_message.get("text") or "").strip()
        target = change_target(tracker, text)
        if request.status != "new" or (target == "contact" and request.channel == KIOSK):
            # Confirmed by the team (or made at the kiosk, where reception takes the details).
            dispatcher.utter_message(text=replies.booking_change_by_phone(where.spa))
            return []
        if target == "service":
            return self.change_service(dispatcher, tracker, where, request)
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
        dispatcher: CollectingDispatcher, tracker: Tracker, where: Situation, request: Any
    ) -> List[Dict[Text, Any]]:
        """Another massage or session length for a request the team has not confirmed yet."""
        technique_id = technique_in(tracker) or request.technique
        minutes = minutes_in(tracker, where.catalogue) or request.minutes
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

    def __init__(self, dispatcher: CollectingDispatcher, tracker: Tracker, where: Situation, appointment: Any) -> None:
        self.dispatcher, self.tracker, self.where, self.appointment = dispatcher, tracker, where, appointment

    def run(self, preface: Preface) -> List[Dict[Text, Any]]:
        where, appointment = self.where, self.appointment
        if latest_intent(self.tracker) == "cancel_booking":
            return self.cancel()
        if not where.screening.allows_massage:
            absolute = [where.catalogue.conditions[c] for c in where.screening.absolute if c not in preface.covered]
            if absolute:
                self.dispatcher.utter_message(text=replies.avoid_reply(absolute))
            self.dispatcher.utter_message(text=replies.BOOKING_SUGGEST_CANCEL,
                                          buttons=[replies.button("Cancel my appointment", "/cancel_booking")])
            return []
        context = offer_context(where, service_value(appointment.technique, appointment.minutes))
        if context is None:
            self.dispatcher.utter_message(text=replies.booking_change_by_phone(where.spa))
            return []
        picked = slot_entity(self.tracker)
        if picked:
            slot = diary.parse_slot_value(picked, appointment.minutes, 0)
            return self.move(slot) if slot is not None else self.ask(context, None, None)
        text = (self.tracker.latest_message.get("text") or "").strip()
        found = offers.answer(context, text) if text and not PAYLOAD.match(text) else offers.Answer(problem="unparsed")
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

    def when(self, moment: datetime) -> str:
        local = moment.astimezone(ZoneInfo(self.where.hours.timezone)).replace(tzinfo=None)
        return describe_time(local, self.where.now)

    def late(self) -> str:
        """The spa's cancellation text when the appointment is inside its notice period."""
        hours = self.where.spa.get("cancellation_notice_hours", "").strip()
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
            context = offer_context(self.where, service_value(self.appointment.technique, self.appointment.minutes))
            return self.ask(context, None, replies.BOOKING_TAKEN_MEANWHILE) if context else []
        notify_client("moved", appointment, previous_start=previous)
        therapist = diary.team_view().first_name(appointment.therapist_id)
        self.dispatcher.utter_message(text=replies.appointment_moved(
            appointment.code, self.when(appointment.starts_at), therapist, policy))
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
