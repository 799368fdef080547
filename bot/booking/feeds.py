"""Each therapist's appointments as an iCalendar subscription feed, so their day shows in the
calendar app on their phone next to their own plans.

A calendar app subscribing to a feed cannot log in, so the address itself is the key:
/staff/feeds/<therapist id>/<token>.ics, where the token is an HMAC of the therapist's id keyed by
CALENDAR_FEED_SECRET (or, when that is unset, the staff page's secret key). Changing the secret
revokes every feed at once; a wrong token, an unknown or a retired therapist all get the same bare
404, so the address gives nothing away.

What an event says is deliberately little, because a phone's calendar shows on a locked screen and
syncs to other services: the service, the client's first name, the room and the booking code. Never
the intake (conditions, areas, goals) and never a phone number or an email address; the staff page
has those behind its login.

The feed covers 14 days back (so "who did I see on Tuesday" still works) to 120 days ahead, and
holds confirmed appointments, those that were done or missed (marked in the title), and the
therapist's time off. Held appointments are not there (most holds lapse within minutes), nor
cancelled ones, so a cancelled appointment disappears at the next refresh.

bot/booking/caldav_sync.py pushes the same events to a CalDAV server; both build them here.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.booking.appointment_store import utcnow
from bot.booking.appointments import Appointment, Room, Therapist, TherapistTimeOff
from bot.booking.client_notify import first_name, revision, spa_zone, uid_domain
from bot.knowledge import models
from bot.knowledge.db import get_session

SECRET_ENV = "CALENDAR_FEED_SECRET"
MIN_SECRET_CHARS = 16
TOKEN_CHARS = 32  # 192 bits of the HMAC: far beyond guessing, short enough to paste
# Keeps this HMAC apart from anything else the same staff key signs (the session cookie).
TOKEN_CONTEXT = b"calendar-feed\x00"
DAYS_BACK = 14
DAYS_AHEAD = 120
FEED_STATUSES = ("confirmed", "no_show", "done")
STATUS_MARKS = {"no_show": " (no-show)", "done": " (done)"}
KIOSK_CLIENT = "kiosk client"
PRODID = "-//Massage assistant//Therapist calendar//EN"
THERAPIST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

Secret = Union[str, bytes]


# --- the secret address --------------------------------------------------------------------------

def feed_secret(fallback: Optional[Secret] = None) -> bytes:
    """CALENDAR_FEED_SECRET, else `fallback` (the running staff page's key), else the staff key
    from the environment. A dedicated secret lets the owner revoke every feed without logging
    everyone out of the staff page."""
    configured = os.environ.get(SECRET_ENV, "")
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters")
        return configured.encode("utf-8")
    if fallback:
        return _as_bytes(fallback)
    from bot.staff import config as staff_config

    return staff_config.secret_key(os.environ)


def feed_token(therapist_id: str, secret: Optional[Secret] = None) -> str:
    """The secret part of a therapist's feed address: the same for as long as the secret is.
    Without `secret`, the one `feed_secret()` chooses."""
    key = _as_bytes(secret) if secret else feed_secret()
    if not key:
        raise ValueError("calendar feeds need a secret: set CALENDAR_FEED_SECRET or STAFF_SECRET_KEY")
    digest = hmac.new(key, TOKEN_CONTEXT + therapist_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_CHARS]


def token_matches(therapist_id: str, token: str, secret: Optional[Secret] = None) -> bool:
    """In constant time, so the answer's timing does not lead a guesser character by character."""
    return hmac.compare_digest(feed_token(therapist_id, secret).encode("ascii"), token.encode("utf-8"))


def _as_bytes(secret: Secret) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def feed_path(therapist_id: str) -> str:
    """The feed's address on this server, as the day view links to it."""
    return f"/staff/feeds/{therapist_id}/{feed_token(therapist_id)}.ics"


# --- the events ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TherapistFeed:
    """One therapist's events over the window, with what it takes to wrap them in a calendar."""

    therapist_id: str
    therapist_name: str
    spa_name: str
    zone: ZoneInfo
    domain: str  # every UID ends with "@" + this: how the CalDAV sync knows its own events
    starts: datetime
    ends: datetime
    events: Tuple[Event, ...]


def feed_window(now: datetime) -> Tuple[datetime, datetime]:
    now = now.astimezone(timezone.utc)
    return now - timedelta(days=DAYS_BACK), now + timedelta(days=DAYS_AHEAD)


def therapist_feed(therapist_id: str, now: datetime, url: Optional[str] = None) -> Optional[TherapistFeed]:
    """The therapist's events from the database, or None for an unknown or retired therapist."""
    starts, ends = feed_window(now)
    with get_session(url) as session:
        therapist = session.get(Therapist, therapist_id)
        if therapist is None or not therapist.active:
            return None
        spa = _spa_settings(session)
        zone, domain = spa_zone(spa), uid_domain(spa)
        booked = _appointments(session, therapist_id, starts, ends)
        names = _technique_names(session)
        events = [appointment_event(appointment, room, names, zone, domain) for appointment, room in booked]
        events += [time_off_event(block, zone, domain, now) for block in _time_off(session, therapist_id, starts, ends)]
    return TherapistFeed(therapist_id, therapist.name, str(spa.get("name") or "").strip(), zone, domain,
                         starts, ends, tuple(events))


def appointment_event(appointment: Appointment, room_name: Optional[str], technique_names: Mapping[str, str],
                      zone: ZoneInfo, domain: str) -> Event:
    """One appointment as the therapist's calendar shows it. The end is the end of the service
    (the buffer after it is the therapist's, not the client's), and SEQUENCE grows with every
    change so a phone replaces the entry it has when the appointment moves."""
    event = Event()
    event.add("uid", f"{appointment.code}@{domain}")
    event.add("dtstamp", appointment.updated_at)
    event.add("last-modified", appointment.updated_at)
    event.add("sequence", revision(appointment))
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", (appointment.starts_at + timedelta(minutes=appointment.minutes)).astimezone(zone))
    event.add("summary", appointment_summary(appointment, technique_names))
    if room_name:
        event.add("location", room_name)
    event.add("description", f"Booking code: {appointment.code}")
    event.add("status", "CONFIRMED")
    return event


def appointment_summary(appointment: Appointment, technique_names: Mapping[str, str]) -> str:
    """'Deep tissue massage, Ana': what and whom, and only the first name, as the screen is public."""
    service = (appointment.service or "").strip() or technique_names.get(appointment.technique) \
        or appointment.technique.replace("_", " ").replace("-", " ").capitalize()
    client = first_name(appointment.name) or KIOSK_CLIENT
    return f"{service}, {client}{STATUS_MARKS.get(appointment.status, '')}"


def time_off_event(block: TherapistTimeOff, zone: ZoneInfo, domain: str, now: datetime) -> Event:
    """Time off, so the therapist sees why nothing can be booked then. Time off keeps no edit time,
    so DTSTAMP is the feed's own time and SEQUENCE stays 0."""
    event = Event()
    event.add("uid", f"time-off-{block.id}@{domain}")
    event.add("dtstamp", now.astimezone(timezone.utc).replace(microsecond=0))
    event.add("sequence", 0)
    event.add("dtstart", block.starts_at.astimezone(zone))
    event.add("dtend", block.ends_at.astimezone(zone))
    reason = (block.reason or "").strip()
    event.add("summary", f"Blocked: {reason}" if reason else "Blocked")
    event.add("status", "CONFIRMED")
    return event


def calendar_bytes(feed: TherapistFeed, events: Optional[Sequence[Event]] = None) -> bytes:
    """A VCALENDAR of `events` (all the feed's by default) with the spa's VTIMEZONE, so a phone in
    another zone still shows 10:00 for a 10:00 appointment at the spa."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    name = " · ".join(part for part in (feed.therapist_name, feed.spa_name) if part)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", str(feed.zone.key))
    for event in feed.events if events is None else events:
        calendar.add_component(event)
    if hasattr(calendar, "add_missing_timezones"):
        # A year either side of the window covers every event in it, and keeps the VTIMEZONE short.
        calendar.add_missing_timezones(first_date=feed.starts.date() - timedelta(days=366),
                                       last_date=feed.ends.date() + timedelta(days=366))
    return calendar.to_ical()


def therapist_calendar(therapist_id: str, now: datetime, url: Optional[str] = None) -> bytes:
    """The therapist's feed as an .ics file; LookupError for an unknown or retired therapist."""
    feed = therapist_feed(therapist_id, now, url)
    if feed is None:
        raise LookupError(f"no active therapist {therapist_id!r}")
    return calendar_bytes(feed)


def _appointments(session: Session, therapist_id: str, starts: datetime,
                  ends: datetime) -> List[Tuple[Appointment, Optional[str]]]:
    rows = session.execute(
        select(Appointment, Room.name)
        .outerjoin(Room, Room.id == Appointment.room_id)
        .where(Appointment.therapist_id == therapist_id, Appointment.status.in_(FEED_STATUSES),
               Appointment.starts_at >= starts, Appointment.starts_at < ends)
        .order_by(Appointment.starts_at))
    return [(appointment, room) for appointment, room in rows]


def _time_off(session: Session, therapist_id: str, starts: datetime, ends: datetime) -> List[TherapistTimeOff]:
    return list(session.execute(
        select(TherapistTimeOff)
        .where(TherapistTimeOff.therapist_id == therapist_id, TherapistTimeOff.ends_at > starts,
               TherapistTimeOff.starts_at < ends)
        .order_by(TherapistTimeOff.starts_at)).scalars())


def _spa_settings(session: Session) -> Dict[str, str]:
    """The spa's settings from the same database as the appointments (the caller's `url`)."""
    rows = session.execute(select(models.Setting.key, models.Setting.value).where(models.Setting.section == "spa"))
    return {key: value for key, value in rows}


def _technique_names(session: Session) -> Dict[str, str]:
    rows = session.execute(select(models.Technique.id, models.Technique.name))
    return {technique_id: name for technique_id, name in rows}


# --- the staff page's route ---------------------------------------------------------------------

def routes(page: Any) -> List[Tuple[Callable[..., Awaitable[Any]], str, List[str], str]]:
    """GET /staff/feeds/<therapist id>/<token>.ics, for calendar apps: no login, the token is it."""
    from sanic import response
    from sanic.request import Request
    from sanic.response import HTTPResponse

    from bot.staff.web import in_thread

    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

    def not_found() -> HTTPResponse:
        return response.text("Not found", status=404, headers=headers)

    async def calendar_feed(request: Request, therapist_id: str, file: str) -> HTTPResponse:
        token = file[:-len(".ics")] if file.endswith(".ics") else ""
        if not (token and THERAPIST_ID.match(therapist_id)):
            return not_found()
        if not token_matches(therapist_id, token, feed_secret(page.config.secret_key)):
            return not_found()
        feed = await in_thread(therapist_feed, therapist_id, utcnow(), page.database_url)
        if feed is None:
            return not_found()
        return response.raw(calendar_bytes(feed), content_type="text/calendar; charset=utf-8",
                            headers={**headers, "Content-Disposition": f'inline; filename="{therapist_id}.ics"'})

    return [(calendar_feed, "/feeds/<therapist_id>/<file>", ["GET"], "staff_calendar_feed")]
