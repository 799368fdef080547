"""What an answer in the booking form means: the slots it fills, or what was wrong with it.

The form's slot names, the order of its questions, and the reading of each answer into slot
changes live here, apart from Rasa, so every rule can be pinned with plain pytest; the form's
actions (actions/booking_form.py) only read the tracker, call these and speak.
Reading an answer may consult the diary (which times are free) but never writes anything.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from bot.advice.catalogue import Catalogue
from bot.advice.preface import own_mentions
from bot.booking import availability, diary, offers
from bot.booking.contact import parse_contact, parse_name, region_from_phone
from bot.booking.situation import Situation, offer_context, parse_service, service_value, unsuitable, wall_iso
from bot.booking.when import parse_preferred_time

FORM = "booking_form"
REQUESTED = "requested_slot"
READY = "booking_ready"
SERVICE = "booking_service"
TECHNIQUE = "booking_technique"
TIME = "booking_time"
TIME_TEXT = "booking_time_text"
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
KEPT_FOR_THE_REQUEST = (SERVICE, TECHNIQUE, TIME, TIME_TEXT, NAME, CONTACT, CONTACT_OTHER,
                        CONSENT, CONFIRMED, PROBLEM, STAGE, SLOT, HOLD, WISH)

# Why the form ended before a request was stored.
STOPPED, DECLINED, CANCELLED = "stopped", "declined", "cancelled"
# What was wrong with the last answer (booking_problem); the next question says it.
QUESTION, SMALL_TALK, UNCLEAR, UNSUITABLE, CONDITION = "question", "small_talk", "unclear", "unsuitable", "condition"
NEEDS_DAY, NEEDS_TIME, CLOSED = "needs_day", "needs_time", "closed"
TAKEN, TAKEN_MEANWHILE, UNKNOWN_THERAPIST = "taken", "taken_meanwhile", "unknown_therapist"
NEEDS_TRAINING = "needs_training"  # the chosen therapist lacks the training the intake now asks for
NOT_AVAILABLE = "not_available"  # an old button, or a time that no longer fits the service
HOLD_LOST = "hold_lost"  # the person's own hold ran out and someone else took the time

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

Slots = Mapping[str, Any]


@dataclass(frozen=True)
class Said:
    """The person's latest message, as the booking reads it: the words (trimmed), the intent
    NLU gave it and its entities (a button's payload brings its own)."""

    text: str
    intent: str
    entities: Sequence[Mapping[str, Any]] = ()

    @property
    def is_payload(self) -> bool:
        """A button was pressed (or "/intent" typed): the words are not an answer to read."""
        return bool(PAYLOAD.match(self.text))


# --- what the message names ---------------------------------------------------------------------

def slot_entity(said: Said) -> Optional[str]:
    """The free time a button stands for (diary.slot_value), or "waitlist"."""
    for entity in said.entities:
        if entity.get("entity") == SLOT and entity.get("value"):
            return str(entity["value"])
    return None


def technique_in(said: Said) -> Optional[str]:
    found = own_mentions(said.entities, "technique")
    return str(found[0]["value"]) if found else None


def minutes_in(said: Said, catalogue: Catalogue) -> Optional[int]:
    """A session length the spa offers, from the time_available entity or the words."""
    offered = [length.minutes for length in catalogue.session_lengths]
    candidates: List[int] = []
    for entity in own_mentions(said.entities, "time_available"):
        if str(entity["value"]).isdigit():
            candidates.append(int(entity["value"]))
    text = said.text.lower()
    candidates += [minutes for words, minutes in HOUR_WORDS.items() if words in text]
    candidates += [int(m) for m in MINUTES.findall(text)]
    return next((m for m in candidates if m in offered), None)


def reports_health(said: Said) -> bool:
    """The message tells us about the person's own health: it is not an answer to the question."""
    return any(own_mentions(said.entities, kind) for kind in ("condition", "red_flag", "unknown_condition"))


def change_target(said: Said) -> str:
    """Which part of the request the person wants to change: "time", "service" or "contact"."""
    for entity in said.entities:
        if entity.get("entity") == "booking_change" and entity.get("value") in CHANGE_WORDS:
            return str(entity["value"])
    if technique_in(said):
        return "service"
    lowered = said.text.lower()
    if LENGTH.search(lowered):  # "a 60 minute session", "90 mins" (not "an hour later": that is a time)
        return "service"
    for part in ("contact", "service", "time"):
        if any(re.search(rf"\b{word}\b", lowered) for word in CHANGE_WORDS[part]):
            return part
    return "time"


def free_text_problem(intent: str) -> str:
    """An answer that could not be read: a question or small talk is answered, then asked again."""
    if intent.startswith("ask_") or intent in ("out_of_scope",):
        return QUESTION
    if intent in SMALL_TALK_INTENTS:
        return SMALL_TALK
    return UNCLEAR


def latest_booking_words(said: Said, slots: Slots) -> Optional[str]:
    """The words of the person's booking request ("can I book for Saturday 10am"): this message,
    or the one action_advise kept in booking_time_text before the safety checklist."""
    if said.intent == "book_session" and said.text and not said.is_payload:
        return said.text
    return slots.get(TIME_TEXT)


# --- the order of the questions -----------------------------------------------------------------

def next_slot(slots: Slots, where: Situation) -> Optional[str]:
    """The next question to ask: the waiting list needs no time, the kiosk no name or contact."""
    for slot in ORDER:
        if slot == TIME and slots.get(SLOT) == offers.WAITLIST:
            continue
        if where.at_kiosk and slot in (NAME, CONTACT):
            continue
        if slots.get(slot) is None:
            return slot
    return None


def misfit_problem(wrong: Any) -> str:
    """What to tell the person about a chosen time that cannot be booked (availability.Misfit)."""
    if wrong.reason in (availability.THERAPIST_BUSY, availability.ROOM_BUSY):
        return TAKEN_MEANWHILE
    return NEEDS_TRAINING if wrong.reason == availability.CERTIFICATION else NOT_AVAILABLE


def chosen_slot(where: Situation, slots: Slots) -> Optional[Any]:
    """The free time picked from the offered ones, or None (no service yet, or the waiting list)."""
    technique, minutes = parse_service(slots.get(SERVICE))
    if not technique or slots.get(SLOT) in (None, offers.WAITLIST):
        return None
    rules = diary.team_rules()
    return diary.parse_slot_value(slots.get(SLOT), minutes or 60, rules.buffer_minutes)


# --- the answers, question by question ----------------------------------------------------------

def service_answer(said: Said, where: Situation, slots: Slots) -> Dict[str, Any]:
    """A massage and a length; a massage the safety preface warns about for them is refused."""
    technique = technique_in(said) or slots.get(TECHNIQUE)
    minutes = minutes_in(said, where.catalogue)
    if technique and unsuitable(technique, where):
        return {TECHNIQUE: None, PROBLEM: UNSUITABLE}
    if technique and minutes:
        return {SERVICE: service_value(technique, minutes), TECHNIQUE: None}
    if technique:
        return {TECHNIQUE: technique}
    return {PROBLEM: free_text_problem(said.intent) if said.intent != "book_session" else UNCLEAR}


def time_answer(said: Said, where: Situation, slots: Slots, intent: str, text: str,
                is_payload: bool) -> Dict[str, Any]:
    """An answer to "when?": a free time picked from the buttons, a time typed that is free, or
    words that change which times are offered ("Saturday morning", "with Maria").

    `intent`, `text` and `is_payload` are those of the answer being read: the words of the
    booking request are read as an answer too, once the service is known."""
    picked = slot_entity(said)
    if picked == offers.WAITLIST:
        return {SLOT: offers.WAITLIST, TIME: None, PROBLEM: None}
    if picked:
        technique, minutes = parse_service(slots.get(SERVICE))
        slot = diary.parse_slot_value(picked, minutes or 60, 0)
        if slot is None:
            return {PROBLEM: UNCLEAR}
        context = offer_context(where, slots.get(SERVICE), ignore=slots.get(HOLD))
        wrong = offers.misfit(context, slot) if context is not None else None
        if wrong is not None:  # a button offered earlier, before something changed, or a made-up one
            return {SLOT: None, TIME: None, PROBLEM: misfit_problem(wrong)}
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


def earlier_time_answer(said: Said, where: Situation, slots: Slots) -> Dict[str, Any]:
    """The words of the booking request ("can I come tomorrow at 4?", "the earliest you can fit
    me in") answer "when?" as soon as the service is known: a free time is taken, a wish shapes
    the times offered, a time that cannot be kept is explained."""
    changes = time_answer(said, where, slots, said.intent, slots[TIME_TEXT], False)
    if changes.get(PROBLEM) in (QUESTION, SMALL_TALK, UNCLEAR, "unparsed"):
        return {}
    return changes


def answers_the_question(requested: Optional[str], text: str, slots: Slots, where: Situation) -> bool:
    """A phone number or a time is an answer even when it reads like "call me" or "talk to you"."""
    if requested == CONTACT:
        return parse_contact(text, region_from_phone(where.spa.get("phone", ""))).ok
    if requested == TIME:
        minutes = parse_service(slots[SERVICE])[1] or 60
        return parse_preferred_time(text, where.now, where.hours, minutes).status != "unparsed"
    return False


def name_answer(said: Said) -> Dict[str, Any]:
    """A name as the person would like to be greeted; a question instead is answered first."""
    name = None if said.is_payload else parse_name(said.text)
    if name:
        return {NAME: name}
    return {PROBLEM: free_text_problem(said.intent) if said.intent.startswith("ask_") else "no_name"}


def contact_answer(said: Said, where: Situation, slots: Slots) -> Dict[str, Any]:
    """A phone number or an email; by SMS or WhatsApp, "yes" to the number they write from."""
    offered = where.sender_phone if not slots.get(CONTACT_OTHER) else None
    if offered and said.intent == "affirm":
        return {CONTACT: offered}
    if offered and said.intent == "deny":
        return {CONTACT_OTHER: True}
    if said.is_payload:
        return {PROBLEM: UNCLEAR}
    contact = parse_contact(said.text, region_from_phone(where.spa.get("phone", "")))
    if contact.kind and contact.value and not contact.problem:
        return {CONTACT: contact.value}
    if contact.problem == "missing" and said.intent.startswith("ask_"):
        return {PROBLEM: QUESTION}
    return {PROBLEM: contact.problem or "missing"}


def consent_answer(said: Said) -> Dict[str, Any]:
    """Yes to keeping their details and health notes with the request; no ends the form (DECLINED)."""
    if said.intent == "affirm":
        return {CONSENT: True}
    if said.intent == "deny":
        return {CONSENT: False, STAGE: DECLINED}
    return {PROBLEM: free_text_problem(said.intent) if said.intent != "nlu_fallback" else UNCLEAR}


def confirm_answer(said: Said, where: Situation, slots: Slots) -> Dict[str, Any]:
    """At the summary: confirm, cancel (CANCELLED), or change one part of the request."""
    if said.intent == "affirm":
        return {CONFIRMED: True}
    if said.intent == "deny":
        return {STAGE: CANCELLED}
    if said.intent in ("change_booking", "book_session"):
        return change_answer(said, where, slots)
    return {PROBLEM: free_text_problem(said.intent)}


def change_answer(said: Said, where: Situation, slots: Slots) -> Dict[str, Any]:
    """"Change the time" (or "make it Friday at 3"): clear that part, or fill it at once."""
    part = change_target(said)
    if part == "service":
        return {SERVICE: None, TECHNIQUE: technique_in(said)}
    if part == "contact":
        return {CONTACT: None, CONTACT_OTHER: None, NAME: None} if not where.at_kiosk else {}
    changes: Dict[str, Any] = {TIME: None, SLOT: None, WISH: None, TIME_TEXT: None}
    if not said.is_payload:
        answer = time_answer(said, where, {SERVICE: slots.get(SERVICE)}, "change_booking", said.text, False)
        if answer.get(SLOT) or answer.get(WISH):
            changes.update(answer)
    return changes
