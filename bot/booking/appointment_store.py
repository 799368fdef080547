"""Holding, confirming, moving and cancelling appointments, where no double booking is possible.

The guarantee lives in the database, not in the code that offers times: on PostgreSQL the
exclusion constraints of migration 0006 refuse any second live appointment over the same
therapist's or room's time, whichever process or replica writes it, and the violation (SQLSTATE
23P01) comes back here as `SlotTaken`. SQLite has no such constraint, so every write runs in a
`BEGIN IMMEDIATE` transaction: it takes the file's write lock before reading, so the overlap check
and the insert (or move) happen with no other writer in between.

Every function opens its own short session (like bot/booking/store.py), so the action server, the
staff page and a reminder job can call them without sharing state. Times are aware datetimes at
this API (any zone; stored as UTC); `now` is a parameter so tests and replays control the clock.
"""
from __future__ import annotations

import functools
import random
import secrets
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from bot.booking.appointments import (
    EX_ROOM_TIME, EX_THERAPIST_TIME, LIVE_STATUSES, Appointment,
)
from bot.booking.models import BookingRequest
from bot.booking.store import InvalidTransition, new_code, normalise_code
from bot.knowledge.db import get_session

HOLD_MINUTES = 5  # how long a time shown in the summary stays reserved for the person
CODE_ATTEMPTS = 5  # a fresh code collides with a concurrent writer's only by rare chance
EXCLUSION_VIOLATION = "23P01"
UNIQUE_VIOLATION = "23505"
# A write that lost a lock race and may simply run again: PostgreSQL's deadlock (two inserts each
# waiting on the other's row under the two exclusion constraints) and serialization failure, and
# SQLite's busy file past its timeout. Nothing was written; the retry decides afresh.
RETRYABLE_STATES = ("40P01", "40001")
WRITE_ATTEMPTS = 6
T = TypeVar("T")

__all__ = [
    "HOLD_MINUTES", "Busy", "HoldExpired", "InvalidTransition", "SlotTaken", "busy_between", "cancel",
    "attach_request", "confirm", "due_reminders", "forget_older_than", "forget_sender", "get", "hold", "mark_done", "mark_no_show", "mark_reminded", "move",
    "release_expired", "upcoming_for", "utcnow",
]


class SlotTaken(Exception):
    """The therapist or the room is held or booked for part of that time: offer another."""

    def __init__(self, resource: Optional[str] = None) -> None:
        self.resource = resource  # "therapist", "room", or None when the database did not say
        super().__init__(f"the {resource or 'therapist or room'} is busy at that time")


class HoldExpired(Exception):
    """The hold ran out before it was confirmed; its time may already be someone else's."""


class Busy(NamedTuple):
    """Time a therapist and a room are taken, as availability needs it."""

    code: str
    therapist_id: str
    room_id: str
    starts_at: datetime
    ends_at: datetime  # includes the buffer
    status: str


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _retried(function: Callable[..., T]) -> Callable[..., T]:
    """Run a write again when the database rolled it back for a lock race (RETRYABLE_STATES or
    SQLite's "database is locked"), after a short random pause; any other error passes through."""
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return function(*args, **kwargs)
            except DBAPIError as error:
                if attempt == WRITE_ATTEMPTS or not _lost_a_race(error):
                    raise
                time.sleep(random.uniform(0.005, 0.02) * attempt)
        raise AssertionError("unreachable")
    return wrapper


def _lost_a_race(error: DBAPIError) -> bool:
    if isinstance(error, IntegrityError):
        return False
    if _sqlstate(error) in RETRYABLE_STATES:
        return True
    return "database is locked" in str(error.orig)


@_retried
def hold(
    *,
    therapist_id: str,
    room_id: str,
    technique: str,
    minutes: int,
    starts_at: datetime,
    sender_id: str,
    channel: str,
    buffer_minutes: int = 0,
    service: Optional[str] = None,
    name: Optional[str] = None,
    phone: Optional[str] = None,
    email: Optional[str] = None,
    booking_request: Optional[str] = None,
    certifications: Sequence[str] = (),
    hold_minutes: int = HOLD_MINUTES,
    now: Optional[datetime] = None,
    url: Optional[str] = None,
) -> Appointment:
    """Reserve a time while the person reads the summary, so nobody else can take it meanwhile;
    raises SlotTaken when the therapist or the room is already busy for any part of it."""
    if minutes <= 0 or buffer_minutes < 0 or hold_minutes <= 0:
        raise ValueError("minutes and hold_minutes must be positive, buffer_minutes not negative")
    now = _utc(now or utcnow())
    starts_at = _utc(starts_at)
    ends_at = starts_at + timedelta(minutes=minutes + buffer_minutes)
    attempt = 0
    while True:
        attempt += 1
        try:
            with _writing(url) as session:
                _release_expired(session, now)
                _check_free(session, therapist_id, room_id, starts_at, ends_at)
                appointment = Appointment(
                    code=_fresh_code(session), therapist_id=therapist_id, room_id=room_id,
                    technique=technique, service=service, minutes=minutes, starts_at=starts_at,
                    ends_at=ends_at, status="held", hold_expires_at=now + timedelta(minutes=hold_minutes),
                    sender_id=sender_id, channel=channel, name=name, phone=phone, email=email,
                    booking_request=booking_request, certifications=sorted(certifications) or None,
                    created_at=now, updated_at=now,
                )
                session.add(appointment)
            return appointment
        except IntegrityError as error:
            _raise_if_taken(error)
            if _sqlstate(error) != UNIQUE_VIOLATION or attempt == CODE_ATTEMPTS:
                raise


@_retried
def confirm(code: str, now: Optional[datetime] = None, url: Optional[str] = None) -> Appointment:
    """Turn a live hold into an appointment. A retried confirmation changes nothing; an expired
    hold is released (its time may have been offered to someone else) and raises HoldExpired,
    whether or not a sweep or another person's hold released it first."""
    now = _utc(now or utcnow())
    with _writing(url) as session:
        confirmed = session.execute(
            update(Appointment)
            .where(Appointment.code == normalise_code(code), Appointment.status == "held",
                   Appointment.hold_expires_at > now)
            .values(status="confirmed", hold_expires_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        appointment = _require(session, code)
        if confirmed or appointment.status == "confirmed":
            return appointment
        if not _lapsed(appointment, now):
            raise InvalidTransition(f"{appointment.status} -> confirmed")
        _release_expired(session, now)
    raise HoldExpired(appointment.code)


@_retried
def release_expired(now: Optional[datetime] = None, url: Optional[str] = None) -> int:
    """Cancel the holds nobody confirmed in time, so their time shows as free again; returns how
    many. Holding and moving release them too, so a missed sweep never blocks a booking."""
    now = _utc(now or utcnow())
    with _writing(url) as session:
        return _release_expired(session, now)


def cancel(code: str, now: Optional[datetime] = None, url: Optional[str] = None) -> Appointment:
    """Free the time of a hold or an appointment; cancelling twice is the same as once."""
    return _transition(code, "cancelled", ("held", "confirmed"), now, url)


def mark_no_show(code: str, now: Optional[datetime] = None, url: Optional[str] = None) -> Appointment:
    """Record that the person did not come; only for a confirmed appointment that has begun."""
    return _transition(code, "no_show", ("confirmed",), now, url, started=True)


def mark_done(code: str, now: Optional[datetime] = None, url: Optional[str] = None) -> Appointment:
    """Record that the session took place; only for a confirmed appointment that has begun."""
    return _transition(code, "done", ("confirmed",), now, url, started=True)


@_retried
def move(
    code: str,
    new_start: datetime,
    *,
    therapist_id: Optional[str] = None,
    room_id: Optional[str] = None,
    now: Optional[datetime] = None,
    url: Optional[str] = None,
) -> Appointment:
    """Move a hold or an appointment (its length and buffer kept; optionally to another
    therapist or room) in one step: the new time is checked like a new hold, and on SlotTaken the
    old time is still the person's."""
    now = _utc(now or utcnow())
    new_start = _utc(new_start)
    try:
        with _writing(url) as session:
            appointment = _require(session, code)
            expired = _lapsed(appointment, now)
            _release_expired(session, now)
            if not expired:
                _move(session, appointment, new_start, therapist_id, room_id, now)
    except IntegrityError as error:
        _raise_if_taken(error)
        raise
    if expired:
        raise HoldExpired(appointment.code)
    return appointment


def _move(
    session: Session, appointment: Appointment, new_start: datetime, therapist_id: Optional[str],
    room_id: Optional[str], now: datetime,
) -> None:
    if appointment.status not in LIVE_STATUSES:
        raise InvalidTransition(f"cannot move a {appointment.status} appointment")
    length = appointment.ends_at - appointment.starts_at
    therapist_id = therapist_id or appointment.therapist_id
    room_id = room_id or appointment.room_id
    _check_free(session, therapist_id, room_id, new_start, new_start + length, appointment.id)
    if new_start != appointment.starts_at:
        appointment.reminder_sent_at = None  # the reminder names the new time
    appointment.therapist_id, appointment.room_id = therapist_id, room_id
    appointment.starts_at, appointment.ends_at = new_start, new_start + length
    appointment.updated_at = now


def get(code: str, url: Optional[str] = None) -> Optional[Appointment]:
    with get_session(url) as session:
        return _by_code(session, code)


def upcoming_for(sender_id: str, phone: Optional[str] = None, now: Optional[datetime] = None,
                 url: Optional[str] = None) -> Optional[Appointment]:
    """The person's next confirmed appointment: made in this conversation, or for this phone
    number (a reply by SMS comes from the number given when booking on the website)."""
    now = _utc(now or utcnow())
    who = Appointment.sender_id == sender_id
    if phone:
        who = or_(who, Appointment.phone == phone)
    statement = (select(Appointment).where(who, Appointment.status == "confirmed", Appointment.starts_at > now)
                 .order_by(Appointment.starts_at, Appointment.id).limit(1))
    with get_session(url) as session:
        return session.execute(statement).scalar_one_or_none()


FORGOTTEN = "forgotten:"  # + a random token: a forgotten appointment belongs to no conversation


@_retried
def forget_sender(sender_id: str, url: Optional[str] = None) -> int:
    """ "Forget me": the conversation's appointments lose the name, phone, email and the link to
    the conversation; their times stay booked (the therapist still expects someone) and staff see
    the code. Returns how many were changed."""
    with _writing(url) as session:
        return session.execute(
            update(Appointment).where(Appointment.sender_id == sender_id)
            .values(name=None, phone=None, email=None, sender_id=_forgotten())
            .execution_options(synchronize_session=False)
        ).rowcount or 0


def _forgotten() -> str:
    """A sender id no conversation has or can guess, so "cancel" from anyone finds nothing."""
    return FORGOTTEN + secrets.token_hex(16)


@_retried
def forget_older_than(days: float, now: Optional[datetime] = None, url: Optional[str] = None) -> int:
    """Retention: personal details of appointments that ended more than `days` ago are removed."""
    cutoff = _utc(now or utcnow()) - timedelta(days=days)
    with _writing(url) as session:
        return session.execute(
            update(Appointment).where(Appointment.ends_at < cutoff, Appointment.sender_id.not_like(f"{FORGOTTEN}%"))
            .values(name=None, phone=None, email=None, sender_id=_forgotten())
            .execution_options(synchronize_session=False)
        ).rowcount or 0


@_retried
def attach_request(code: str, request_code: str, url: Optional[str] = None) -> None:
    """Link an appointment to the booking request that carries its intake (the staff page shows it)."""
    with _writing(url) as session:
        session.execute(update(Appointment).where(Appointment.code == normalise_code(code))
                        .values(booking_request=request_code).execution_options(synchronize_session=False))


def busy_between(
    start: datetime, end: datetime, now: Optional[datetime] = None, url: Optional[str] = None
) -> List[Busy]:
    """The held and confirmed time overlapping [start, end), for availability to subtract from
    the therapists' hours; holds past their expiry are left out, since the next hold frees them."""
    now, start, end = _utc(now or utcnow()), _utc(start), _utc(end)
    statement = (
        select(Appointment.code, Appointment.therapist_id, Appointment.room_id, Appointment.starts_at,
               Appointment.ends_at, Appointment.status)
        .where(Appointment.status.in_(LIVE_STATUSES), Appointment.starts_at < end,
               Appointment.ends_at > start,
               or_(Appointment.status == "confirmed", Appointment.hold_expires_at > now))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    with get_session(url) as session:
        return [Busy(*row) for row in session.execute(statement)]


def due_reminders(now: datetime, window: timedelta, url: Optional[str] = None) -> List[Appointment]:
    """Confirmed appointments starting within `window` of `now` whose reminder is not sent yet.
    Several replicas may list the same ones: each sends only what `mark_reminded` lets it claim."""
    now = _utc(now)
    statement = (
        select(Appointment)
        .where(Appointment.status == "confirmed", Appointment.reminder_sent_at.is_(None),
               Appointment.starts_at > now, Appointment.starts_at <= now + window)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    with get_session(url) as session:
        return list(session.execute(statement).scalars())


@_retried
def mark_reminded(code: str, now: Optional[datetime] = None, url: Optional[str] = None) -> bool:
    """Claim the reminder of one appointment; True for exactly one caller, however many replicas
    race, because the claim is a single conditional UPDATE. Claim first, then send: a crash in
    between loses that reminder rather than sending it twice."""
    now = _utc(now or utcnow())
    with _writing(url) as session:
        return session.execute(
            update(Appointment)
            .where(Appointment.code == normalise_code(code), Appointment.status == "confirmed",
                   Appointment.reminder_sent_at.is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount == 1


@contextmanager
def _writing(url: Optional[str]) -> Iterator[Session]:
    """A write transaction. On SQLite it starts with BEGIN IMMEDIATE: the write lock is taken
    before the first read, so a check and the write that depends on it cannot interleave with
    another writer's (a deferred transaction would also fail with "database is locked" when two
    readers both try to upgrade)."""
    with get_session(url) as session, session.begin():
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield session


def _check_free(
    session: Session, therapist_id: str, room_id: str, starts_at: datetime, ends_at: datetime,
    ignore_id: Optional[int] = None,
) -> None:
    """On SQLite, the overlap check the exclusion constraints make on PostgreSQL (which need no
    help: they also catch writers that never pass through here)."""
    if session.connection().dialect.name == "postgresql":
        return
    statement = (
        select(Appointment.therapist_id, Appointment.room_id)
        .where(Appointment.status.in_(LIVE_STATUSES), Appointment.starts_at < ends_at,
               Appointment.ends_at > starts_at,
               or_(Appointment.therapist_id == therapist_id, Appointment.room_id == room_id))
    )
    if ignore_id is not None:
        statement = statement.where(Appointment.id != ignore_id)
    clash = session.execute(statement.limit(1)).first()
    if clash is not None:
        raise SlotTaken("therapist" if clash.therapist_id == therapist_id else "room")


def _release_expired(session: Session, now: datetime) -> int:
    """Cancel lapsed holds, keeping their expiry as the mark of a hold that ran out."""
    return session.execute(
        update(Appointment)
        .where(Appointment.status == "held", Appointment.hold_expires_at <= now)
        .values(status="cancelled", updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount or 0


@_retried
def _transition(
    code: str, status: str, sources: Tuple[str, ...], now: Optional[datetime], url: Optional[str],
    started: bool = False,
) -> Appointment:
    now = _utc(now or utcnow())
    with _writing(url) as session:
        appointment = _require(session, code)
        if appointment.status == status:
            return appointment
        if appointment.status not in sources:
            raise InvalidTransition(f"{appointment.status} -> {status}")
        if started and appointment.starts_at > now:
            raise InvalidTransition(f"{status} before the appointment begins")
        appointment.status, appointment.hold_expires_at, appointment.updated_at = status, None, now
    return appointment


def _lapsed(appointment: Appointment, now: datetime) -> bool:
    """A hold that ran out: still marked held, or already released (a released hold keeps its
    expiry, which tells it apart from one the person or staff cancelled)."""
    if appointment.hold_expires_at is None:
        return False
    if appointment.status == "held":
        return appointment.hold_expires_at <= now
    return appointment.status == "cancelled"


def _fresh_code(session: Session) -> str:
    """A code no appointment and no booking request has, so "cancel K7QX" means one thing."""
    while True:
        code = new_code()
        taken = session.execute(select(Appointment.id).where(Appointment.code == code)).first() or \
            session.execute(select(BookingRequest.id).where(BookingRequest.code == code)).first()
        if taken is None:
            return code


def _by_code(session: Session, code: str) -> Optional[Appointment]:
    return session.execute(
        select(Appointment).where(Appointment.code == normalise_code(code))
    ).scalar_one_or_none()


def _require(session: Session, code: str) -> Appointment:
    appointment = _by_code(session, code)
    if appointment is None:
        raise LookupError(code)
    return appointment


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"an aware datetime is needed, not the naive {value.isoformat()}")
    return value.astimezone(timezone.utc)


def _raise_if_taken(error: IntegrityError) -> None:
    """Translate PostgreSQL's exclusion violation (psycopg2 or asyncpg) into SlotTaken."""
    if _sqlstate(error) == EXCLUSION_VIOLATION:
        constraint = _constraint_name(error)
        resource = {EX_THERAPIST_TIME: "therapist", EX_ROOM_TIME: "room"}.get(constraint or "")
        raise SlotTaken(resource) from error


def _sqlstate(error: DBAPIError) -> Optional[str]:
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        code = getattr(candidate, "pgcode", None) or getattr(candidate, "sqlstate", None)
        if code:
            return str(code)
    return None


def _constraint_name(error: IntegrityError) -> Optional[str]:
    diag = getattr(error.orig, "diag", None)  # psycopg2
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    return getattr(getattr(error.orig, "__cause__", None), "constraint_name", None)  # asyncpg
