"""Messages to the client about their appointment: booked, moved, cancelled, and the reminder.

Each message goes out by email (with a calendar file, so the time lands in their calendar) when
SMTP is configured (bot/booking/notify.py's SMTP_* settings, whose sender is reused) and the
appointment has an email address, and by SMS or WhatsApp (bot/booking/sms.py) when Twilio is
configured and it has a phone number. Neither is required: with nothing configured nothing is sent.

What the messages say: the time in the spa's own time zone (`timezone` in data/kb/spa.yml), the
booking code, the therapist's first name, the address and, except for a cancellation, the spa's
cancellation notice. Never anything from the intake: an SMS shows on a locked screen, and an
email can be read over a shoulder, so health details stay between the client and the therapist.

`notify_client` returns at once and sends from a worker thread, so the action server's event
loop never waits for a mail server or Twilio; `send_to_client` sends in the calling thread (the
reminder job). Failures are logged with the code and the error's type only, and never raised:
a message that did not go out must not undo a booking that did.
"""
from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Set, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import select

from bot.booking.appointments import Appointment, Therapist
from bot.booking.notify import SmtpSettings, deliver, smtp_settings
from bot.booking.sms import send_sms, sms_settings
from bot.booking.when import describe_time

logger = logging.getLogger(__name__)

CONFIRMED, MOVED, CANCELLED, REMINDER = "confirmed", "moved", "cancelled", "reminder"
KINDS = (CONFIRMED, MOVED, CANCELLED, REMINDER)
SMS_LIMIT = 320  # two SMS segments: longer texts arrive split, or cost more, on many phones
UID_FALLBACK_DOMAIN = "massage-assistant"
PRODID = "-//Massage assistant//Appointments//EN"
CALENDAR_FILE = "appointment.ics"
# How to answer a text. Not "reply CANCEL": Twilio takes a bare CANCEL (like STOP) as "never text
# me again" and blocks every later message to that number, reminders included.
REPLY_TO_CHANGE = "Reply here to cancel or change the time."
REPLY_TO_REBOOK = "Reply here to book again."

Booked = Union[Appointment, Mapping[str, Any]]


class ClientMessage(NamedTuple):
    """One notice in its three forms: the email's subject and body, and the text message."""

    subject: str
    body: str
    sms: str


# --- the calendar file -------------------------------------------------------------------------

def appointment_ics(
    appointment: Booked,
    spa: Mapping[str, Any],
    therapist_name: Optional[str],
    method: str = "REQUEST",
    sequence: int = 0,
) -> bytes:
    """An iCalendar file for the appointment, in the spa's time zone with its VTIMEZONE, so a
    calendar shows 10:00 at the spa whatever zone the phone is in. The UID is the same for every
    version of one appointment, so a move (higher `sequence`) or a CANCEL updates the entry the
    client already has instead of adding a second one."""
    fields = _fields(appointment)
    start, end = fields["starts_at"], service_end(fields)
    zone = spa_zone(spa)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"{fields['code']}@{uid_domain(spa)}")
    event.add("dtstamp", datetime.now(timezone.utc).replace(microsecond=0))
    event.add("dtstart", start.astimezone(zone))
    event.add("dtend", end.astimezone(zone))
    event.add("summary", summary(fields, spa))
    if spa.get("address"):
        event.add("location", spa["address"])
    event.add("description", "\n".join(_calendar_notes(fields, spa, therapist_name)))
    event.add("status", "CANCELLED" if method.upper() == "CANCEL" else "CONFIRMED")
    event.add("sequence", sequence)
    _add_people(event, fields, spa)
    calendar.add_component(event)
    # A window around the appointment keeps the VTIMEZONE short and covers any later move.
    calendar.add_missing_timezones(first_date=date(start.year - 1, 1, 1), last_date=date(start.year + 2, 1, 1))
    return calendar.to_ical()


def _calendar_notes(fields: Mapping[str, Any], spa: Mapping[str, Any], therapist_name: Optional[str]) -> List[str]:
    notes = [f"Booking code: {fields['code']}"]
    first = first_name(therapist_name)
    if first:
        notes.append(f"Therapist: {first}")
    if spa.get("phone"):
        notes.append(f"To cancel or move it, call {spa['phone']}.")
    return notes


def _add_people(event: Event, fields: Mapping[str, Any], spa: Mapping[str, Any]) -> None:
    """ORGANIZER and ATTENDEE: calendar apps (Outlook in particular) only treat a REQUEST or a
    CANCEL as an update to an invitation when both are there."""
    if spa.get("email"):
        organizer = vCalAddress(f"mailto:{spa['email']}")
        if spa.get("name"):
            organizer.params["cn"] = spa["name"]
        event.add("organizer", organizer)
    if fields.get("email"):
        attendee = vCalAddress(f"mailto:{fields['email']}")
        attendee.params["partstat"] = "ACCEPTED"
        attendee.params["rsvp"] = "FALSE"
        event.add("attendee", attendee)


def uid_domain(spa: Mapping[str, Any]) -> str:
    email = str(spa.get("email") or "")
    domain = email.rpartition("@")[2].strip().lower()
    return domain if "@" in email and domain else UID_FALLBACK_DOMAIN


def revision(appointment: Booked) -> int:
    """A SEQUENCE that grows with every change without storing a counter: seconds from booking
    to the last update. Calendars ignore an update whose SEQUENCE is not higher than the one
    they hold, so a move must never reuse the booking's number."""
    fields = _fields(appointment)
    created, updated = fields.get("created_at"), fields.get("updated_at")
    if not (isinstance(created, datetime) and isinstance(updated, datetime)):
        return 0
    return max(0, int((updated - created).total_seconds()))


# --- the words ---------------------------------------------------------------------------------

def client_texts(
    kind: str,
    appointment: Booked,
    spa: Mapping[str, Any],
    therapist_name: Optional[str],
    previous_start: Optional[datetime] = None,
) -> ClientMessage:
    """The subject, email body and SMS for one kind of notice ("confirmed", "moved", "cancelled"
    or "reminder"), with every time said as the spa's clock shows it."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}; expected one of {', '.join(KINDS)}")
    fields = _fields(appointment)
    words = _Words(fields, spa, therapist_name, previous_start)
    return ClientMessage(words.subject(kind), "\n".join(words.body(kind)) + "\n", words.sms(kind))


class _Words:
    """The pieces every notice is made of, worked out once."""

    def __init__(self, fields: Mapping[str, Any], spa: Mapping[str, Any], therapist_name: Optional[str],
                 previous_start: Optional[datetime]) -> None:
        self.fields, self.spa = fields, spa
        self.code = str(fields["code"])
        self.spa_name = str(spa.get("name") or "").strip()
        self.address = str(spa.get("address") or "").strip()
        self.phone = str(spa.get("phone") or "").strip()
        self.policy = str(spa.get("cancellation") or "").strip()
        self.service = service_name(fields)
        self.therapist = first_name(therapist_name)
        # The message answers the latest change, so its year is the one the client is in.
        said_at = fields.get("updated_at") if isinstance(fields.get("updated_at"), datetime) else None
        self.when = spoken_time(fields["starts_at"], spa, said_at)
        self.before = spoken_time(previous_start, spa, said_at) if previous_start else None

    def subject(self, kind: str) -> str:
        return {
            CONFIRMED: f"Your massage is booked for {self.when} ({self.code})",
            MOVED: f"Your massage has moved to {self.when} ({self.code})",
            CANCELLED: f"Your massage on {self.when} is cancelled ({self.code})",
            REMINDER: f"Reminder: your massage on {self.when} ({self.code})",
        }[kind]

    def body(self, kind: str) -> List[str]:
        name = first_name(self.fields.get("name"))
        lines = [f"Hello {name}," if name else "Hello,", "", self._news(kind), ""]
        if kind != CANCELLED:
            lines += self._details() + [""]
            if self.policy:
                lines += [self.policy, ""]
            lines += [self._how_to_change(), "The attached calendar file adds it to your calendar.", ""]
        else:
            lines += [f"Booking code: {self.code}", "", self._book_again(), ""]
        lines += ["See you soon," if kind != CANCELLED else "Best wishes,", self.spa_name or "Your massage team"]
        return lines

    def sms(self, kind: str) -> str:
        """Short enough for two SMS segments: the optional parts (the cancellation notice, then
        the address) give way first when a long spa name or service would make it longer."""
        core = {
            CONFIRMED: f"your {self.service}{self._with()} is booked for {self.when}.",
            MOVED: f"your {self.service}{self._with()} has moved to {self.when}"
                   + (f" (it was {self.before})." if self.before else "."),
            CANCELLED: f"your {self.service}{self._with()} on {self.when} is cancelled.",
            REMINDER: f"a reminder: your {self.service}{self._with()} is on {self.when}.",
        }[kind]
        opening = f"{self.spa_name}: {core}" if self.spa_name else core[0].upper() + core[1:]
        reply = REPLY_TO_REBOOK if kind == CANCELLED else REPLY_TO_CHANGE
        optional = [] if kind == CANCELLED else [
            part for part in (f"{self.address}." if self.address else "", first_sentence(self.policy)) if part
        ]
        while True:
            text = " ".join([opening, f"Code {self.code}.", *optional, reply])
            if len(text) < SMS_LIMIT or not optional:
                return text
            optional.pop()

    def _news(self, kind: str) -> str:
        service = f"Your {self.service}, {self.fields['minutes']} minutes,{self._with()}"
        if kind == CONFIRMED:
            return f"{service} is booked for {self.when}."
        if kind == MOVED:
            moved_from = f" from {self.before}" if self.before else ""
            return f"{service} has moved{moved_from} to {self.when}."
        if kind == CANCELLED:
            return f"Your {self.service}{self._with()} on {self.when} is cancelled. There is nothing else to do."
        return f"A friendly reminder: {service[0].lower()}{service[1:]} is on {self.when}."

    def _details(self) -> List[str]:
        place = ", ".join(part for part in (self.spa_name, self.address) if part)
        lines = [f"When: {self.when}"]
        if place:
            lines.append(f"Where: {place}")
        if self.therapist:
            lines.append(f"Therapist: {self.therapist}")
        lines.append(f"Booking code: {self.code}")
        return lines

    def _how_to_change(self) -> str:
        call = f", call us on {self.phone}" if self.phone else ""
        return f"To cancel or move it, reply to this email{call}, or tell the assistant your booking code."

    def _book_again(self) -> str:
        link = str(self.spa.get("booking_url") or "").strip()
        where = f" at {link}" if link else ""
        return f"We hope to see you another time: you can book again{where} or just reply to this email."

    def _with(self) -> str:
        return f" with {self.therapist}" if self.therapist else ""


def summary(appointment: Booked, spa: Mapping[str, Any]) -> str:
    """The calendar entry's title, e.g. "Swedish massage, 60 minutes at Harbour Light"."""
    fields = _fields(appointment)
    where = f" at {spa['name']}" if spa.get("name") else ""
    name = service_name(fields)
    return f"{name[0].upper()}{name[1:]}, {fields['minutes']} minutes{where}"


def service_name(fields: Mapping[str, Any]) -> str:
    """The price list's name for the service as the client saw it, else plain "massage"."""
    return str(fields.get("service") or "").strip() or "massage"


def spoken_time(instant: datetime, spa: Mapping[str, Any], said_at: Optional[datetime] = None) -> str:
    """The spa's wall-clock time in words ("Tuesday 8 December at 10 am"), with the year only
    when it differs from the year at the spa when the message is written (`said_at`)."""
    zone = spa_zone(spa)
    local = instant.astimezone(zone).replace(tzinfo=None)
    now = said_at.astimezone(zone).replace(tzinfo=None) if said_at is not None else None
    return describe_time(local, now=now)


def spa_zone(spa: Mapping[str, Any]) -> ZoneInfo:
    """The spa's time zone; UTC when it is missing or unknown (the knowledge-base loader refuses
    a bad one, so that only happens in a half-configured development setup)."""
    try:
        return ZoneInfo(str(spa.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def service_end(fields: Mapping[str, Any]) -> datetime:
    """When the massage ends for the client: `ends_at` also holds the room-turning buffer."""
    return fields["starts_at"] + timedelta(minutes=int(fields["minutes"]))


def first_name(name: Any) -> Optional[str]:
    words = str(name or "").split()
    return words[0] if words else None


def first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.S)
    return (match.group(1) if match else text.strip()).replace("\n", " ")


# --- sending -----------------------------------------------------------------------------------

def reaches(appointment: Any) -> bool:
    """Whether a message about this appointment can reach the person: an email address and a mail
    server, or a phone number and Twilio. The replies promise only what this allows."""
    def field(name: str) -> Any:
        return appointment.get(name) if isinstance(appointment, Mapping) else getattr(appointment, name, None)

    return bool((field("email") and smtp_settings() is not None) or (field("phone") and sms_settings() is not None))


def notify_client(
    kind: str,
    appointment: Booked,
    *,
    previous_start: Optional[datetime] = None,
    spa: Optional[Mapping[str, Any]] = None,
    therapist_name: Optional[str] = None,
) -> None:
    """Tell the client, without making the caller wait; never raises. The spa's details and the
    therapist's name are read in the worker when not given."""
    try:
        if kind not in KINDS:
            raise ValueError(kind)
        snapshot = dict(_fields(appointment))  # plain values: the worker never touches the ORM object
        _submit(send_to_client, kind, snapshot, previous_start=previous_start, spa=spa,
                therapist_name=therapist_name)
    except Exception as error:  # a notice must never break the booking itself
        logger.error("Could not queue the client notice (%s).", type(error).__name__)


def send_to_client(
    kind: str,
    appointment: Booked,
    *,
    previous_start: Optional[datetime] = None,
    spa: Optional[Mapping[str, Any]] = None,
    therapist_name: Optional[str] = None,
    url: Optional[str] = None,
) -> None:
    """Send the email and the text now, in the calling thread; each failure is logged and the
    other still goes out. `url` is the database to read the therapist's name from."""
    fields = _fields(appointment)
    code = fields.get("code")
    try:
        spa = spa_details() if spa is None else spa
        if not fields.get("service") and fields.get("technique"):
            fields = {**fields, "service": lookup_technique_name(str(fields["technique"]))}
        if therapist_name is None and fields.get("therapist_id"):
            therapist_name = lookup_therapist_name(str(fields["therapist_id"]), url)
        message = client_texts(kind, fields, spa, therapist_name, previous_start)
    except Exception as error:
        logger.error("Could not write the %s notice for appointment %s (%s).", kind, code, type(error).__name__)
        return
    _quietly(f"email the {kind} notice for appointment {code}",
             lambda: _email(kind, fields, spa, therapist_name, message))
    _quietly(f"text the {kind} notice for appointment {code}", lambda: _text(fields, message))


def _email(kind: str, fields: Mapping[str, Any], spa: Mapping[str, Any], therapist_name: Optional[str],
           message: ClientMessage) -> None:
    address = str(fields.get("email") or "").strip()
    base = smtp_settings() if address else None
    if base is None:
        return
    settings = replace(base, recipients=(address,))
    email = build_email(kind, fields, spa, therapist_name, message, settings)
    send_email(email, settings)
    logger.info("Emailed the %s notice for appointment %s.", kind, fields.get("code"))


def _text(fields: Mapping[str, Any], message: ClientMessage) -> None:
    phone = str(fields.get("phone") or "").strip()
    settings = sms_settings() if phone else None
    if settings is None:
        return
    send_sms(phone, message.sms, settings)
    logger.info("Texted a notice for appointment %s.", fields.get("code"))


def build_email(
    kind: str,
    appointment: Booked,
    spa: Mapping[str, Any],
    therapist_name: Optional[str],
    message: ClientMessage,
    settings: SmtpSettings,
) -> EmailMessage:
    """The email with the calendar file attached as text/calendar, whose METHOD lets mail apps
    offer "add to calendar" (or remove the entry, for a cancellation)."""
    fields = _fields(appointment)
    method = "CANCEL" if kind == CANCELLED else "REQUEST"
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = settings.sender
    email["To"] = ", ".join(settings.recipients)
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    if spa.get("email") and spa["email"] != settings.sender:
        email["Reply-To"] = spa["email"]
    email.set_content(message.body)
    ics = appointment_ics(fields, spa, therapist_name, method=method, sequence=revision(fields))
    email.add_attachment(ics, maintype="text", subtype="calendar", filename=CALENDAR_FILE,
                         params={"method": method})
    return email


def send_email(email: EmailMessage, settings: SmtpSettings) -> None:
    """Deliver with notify.py's connection rules; raises what smtplib raises."""
    deliver(email, settings)


def spa_details() -> Dict[str, str]:
    """The spa's name, address, phone, time zone and policies from the knowledge base."""
    from bot.knowledge import queries  # the knowledge layer is only needed when sending

    return queries.settings("spa")


def lookup_technique_name(technique_id: str) -> Optional[str]:
    """The knowledge base's name for a technique ("Swedish massage"), for an appointment stored
    without the price list's service name."""
    from bot.knowledge import queries

    technique = queries.technique(technique_id)
    return technique.name if technique is not None else None


def lookup_therapist_name(therapist_id: str, url: Optional[str] = None) -> Optional[str]:
    from bot.knowledge.db import get_session

    with get_session(url) as session:
        return session.execute(select(Therapist.name).where(Therapist.id == therapist_id)).scalar_one_or_none()


def _quietly(what: str, send: Callable[[], None]) -> None:
    try:
        send()
    except Exception as error:  # by type only: SMTP and Twilio errors quote addresses and numbers
        logger.error("Could not %s (%s).", what, type(error).__name__)


def _fields(appointment: Booked) -> Mapping[str, Any]:
    return appointment.as_dict() if isinstance(appointment, Appointment) else appointment


# --- the worker --------------------------------------------------------------------------------

_lock = threading.Lock()
_pending: Set[Future] = set()
_pool: List[ThreadPoolExecutor] = []


def wait_for_pending(timeout: Optional[float] = None) -> bool:
    """Wait until the notices queued so far are sent or given up (tests, and an orderly
    shutdown); True when none is left."""
    with _lock:
        futures = set(_pending)
    _, not_done = wait(futures, timeout=timeout)
    return not not_done


def _submit(work: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    with _lock:
        if not _pool:
            _pool.append(ThreadPoolExecutor(max_workers=2, thread_name_prefix="client-notice"))
        future = _pool[0].submit(work, *args, **kwargs)
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)
