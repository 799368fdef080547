"""The booking's view of the moment: who is asking, from where, what the spa offers, and its clock.

Shared by the booking form and by changes to an appointment after it (actions/booking_form.py,
actions/appointment_changes.py), and free of Rasa so the booking logic can be tested on its own.
The service a person books is kept in a slot as "<technique id>:<minutes>" (`service_value`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.advice.catalogue import Catalogue, TechniqueInfo
from bot.advice.preface import technique_cautions
from bot.advice.profile import Profile
from bot.advice.safety import Screening, screen
from bot.booking import diary, offers
from bot.booking.contact import parse_contact, region_from_phone
from bot.booking.when import OpeningHours, describe_time, local_now, opening_hours_from_settings
from bot.knowledge import queries

KIOSK = "kiosk"
# Channels whose sender id is the person's phone number.
PHONE_CHANNELS = {"twilio"}


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


def current_situation(profile: Profile, channel: str, sender: str) -> Situation:
    """The situation for this person's message, with the knowledge base and the clock read now."""
    catalogue = queries.catalogue()
    spa = queries.settings("spa")
    hours = opening_hours_from_settings(spa)
    return Situation(
        catalogue=catalogue, profile=profile, screening=screen(profile, catalogue.severities), spa=spa,
        hours=hours, now=spa_now(hours), channel=channel, sender=sender,
    )


# --- the service: technique and session length -------------------------------------------------

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


def session_lengths(catalogue: Catalogue) -> List[int]:
    return [length.minutes for length in catalogue.session_lengths]


def suitable_techniques(where: Situation) -> List[TechniqueInfo]:
    """Techniques the person may book: none the safety preface would warn about for them."""
    return [t for t in where.catalogue.techniques if not unsuitable(t.id, where)]


def unsuitable(technique_id: str, where: Situation) -> bool:
    mention = [{"entity": "technique", "value": technique_id}]
    return bool(technique_cautions(mention, where.profile, where.screening, where.catalogue))


# --- free times --------------------------------------------------------------------------------

def required_certifications(where: Situation) -> FrozenSet[str]:
    """The training a therapist needs for this person, from what they told us (team.yml's
    `certification_for`: pregnancy -> prenatal...)."""
    return diary.team_rules().required_for(list(where.profile.conditions) + list(where.screening.relative))


def offer_context(where: Situation, service: Optional[str], ignore: Optional[str] = None,
                  certifications: Iterable[str] = ()) -> Optional[offers.Context]:
    """What offering times needs for this service and this person, or None before the service
    is known. Who may do it follows the intake: pregnancy needs a prenatal-trained therapist...;
    `certifications` adds what an existing appointment already requires (moving it keeps to it).
    `ignore` is the person's own hold or the appointment being moved: not in their own way."""
    technique, minutes = parse_service(service)
    if not technique:
        return None
    rules = diary.team_rules()
    return offers.Context(
        spa=diary.load_spa(where.hours, where.spa), rules=rules, hours=where.hours,
        service=diary.service_for(technique, minutes or 60, rules),
        certifications=required_certifications(where) | frozenset(certifications),
        now=where.zone_now, ignore=ignore)


def wall_iso(moment: datetime, where: Situation) -> str:
    """An aware time as the naive spa wall-clock ISO text booking_time has always held."""
    return moment.astimezone(ZoneInfo(where.hours.timezone)).replace(tzinfo=None).isoformat(timespec="minutes")


def slot_title(slot: Any, context: offers.Context, where: Situation) -> str:
    """ "Tuesday 8 December at 10 am with Maria": the time on the spa's clock and the therapist."""
    local = slot.start.astimezone(ZoneInfo(where.hours.timezone)).replace(tzinfo=None)
    return f"{describe_time(local, where.now)} with {context.name_of(slot.therapist_id).split()[0]}"
