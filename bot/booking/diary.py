"""The spa's diary as the conversation and the staff page use it: the team's rows read into the
pure values of bot.booking.availability, the next free times asked of it, and a chosen time held
through bot.booking.appointment_store (where the database has the last word on double booking).

Every call reads the rows again (four small queries): an edit on the Team page or a booking made
by another replica a moment ago is seen by the next message, with no cache to invalidate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Dict, FrozenSet, List, Mapping, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.booking import appointment_store, availability
from bot.booking.appointments import Appointment, Room, Therapist, TherapistHours, TherapistTimeOff
from bot.booking.team import Rules, rules as team_rules
from bot.booking.when import OpeningHours
from bot.knowledge.db import get_session


@dataclass(frozen=True)
class TeamView:
    """Who is on the team, for reading names in messages and saying them back."""

    names: Mapping[str, str]  # therapist id -> full name
    genders: Mapping[str, Optional[str]]

    def first_name(self, therapist_id: str) -> str:
        return (self.names.get(therapist_id) or therapist_id).split()[0]


def closed_dates(spa: Mapping[str, str]) -> FrozenSet[date]:
    """spa.yml's `closed_dates` ("2026-12-25, 2027-01-01") as dates; the loader checked them."""
    return frozenset(date.fromisoformat(part) for part in re.split(r"[,\s;]+", spa.get("closed_dates", "")) if part)


def load_spa(hours: OpeningHours, spa: Mapping[str, str], url: Optional[str] = None) -> availability.Spa:
    """The active therapists with their hours and time off, and the rooms, as availability's Spa."""
    with get_session(url) as session:
        therapists = session.execute(select(Therapist).where(Therapist.active.is_(True)).order_by(Therapist.id)).scalars().all()
        hours_rows = session.execute(select(TherapistHours)).scalars().all()
        time_off = session.execute(select(TherapistTimeOff)).scalars().all()
        rooms = session.execute(select(Room).order_by(Room.id)).scalars().all()
    shifts: Dict[str, List[availability.Shift]] = {}
    for row in hours_rows:
        shifts.setdefault(row.therapist_id, []).append(availability.Shift(row.weekday, row.start_time, row.end_time))
    away: Dict[str, List[availability.TimeOff]] = {}
    for row in time_off:
        away.setdefault(row.therapist_id, []).append(availability.TimeOff(row.starts_at, row.ends_at))
    team = tuple(
        availability.Therapist(
            id=t.id, name=t.name, techniques=frozenset(t.techniques or ()),
            shifts=tuple(sorted(shifts.get(t.id, []), key=lambda s: (s.weekday, s.start))),
            certifications=frozenset(t.certifications or ()), gender=t.gender,
            time_off=tuple(away.get(t.id, ())))
        for t in therapists)
    return availability.Spa(hours=hours, therapists=team,
                            rooms=tuple(availability.Room(r.id, r.kind) for r in rooms),
                            closed_dates=closed_dates(spa))


def team_view(url: Optional[str] = None) -> TeamView:
    with get_session(url) as session:
        rows = session.execute(select(Therapist.id, Therapist.name, Therapist.gender)
                               .where(Therapist.active.is_(True))).all()
    return TeamView(names={r.id: r.name for r in rows}, genders={r.id: r.gender for r in rows})


def service_for(technique: str, minutes: int, rules: Optional[Rules] = None) -> availability.Service:
    rules = rules or team_rules()
    return availability.Service(id=f"{technique}:{minutes}", technique=technique, minutes=minutes,
                                buffer_minutes=rules.buffer_minutes, price=Decimal(0), room_kind=rules.room_kind)


def diary(spa: availability.Spa, start: datetime, days: int, url: Optional[str] = None,
          now: Optional[datetime] = None, ignore: Optional[str] = None) -> availability.Diary:
    """What is held or booked from `start` for `days` days (plus a day for sessions across
    midnight), leaving out the appointment coded `ignore`: the person's own hold, or the
    appointment they are moving, is not in their own way."""
    busy = appointment_store.busy_between(start - timedelta(days=1), start + timedelta(days=days + 1),
                                          now=now or start, url=url)
    return availability.Diary.of(
        availability.Booked(b.therapist_id, b.room_id, b.starts_at, b.ends_at) for b in busy if b.code != ignore)


def free_times(spa: availability.Spa, request: availability.Request, url: Optional[str] = None,
               ignore: Optional[str] = None) -> List[availability.Slot]:
    """The next free times for `request`, against what is booked right now."""
    booked = diary(spa, request.now, request.horizon_days, url, now=request.now, ignore=ignore)
    return availability.find_slots(spa, booked, request)


def fits(spa: availability.Spa, service: availability.Service, start: datetime, certifications: FrozenSet[str],
         now: datetime, notice_minutes: int, therapist_id: Optional[str] = None, gender: Optional[str] = None,
         url: Optional[str] = None, ignore: Optional[str] = None) -> Optional[availability.Slot]:
    """A slot at exactly `start` (a time the person named), with the first suitable therapist
    and room that are free then, or None."""
    booked = diary(spa, start, 1, url, now=now, ignore=ignore)
    candidates = availability.therapists_for(spa, service, certifications, therapist_id, gender)
    rooms = [room for room in spa.rooms if room.kind == service.room_kind]
    for therapist in candidates:
        for room in rooms:
            proposal = availability.Proposal(service, start, therapist.id, room.id, certifications)
            if availability.check_slot(spa, booked, proposal, now=now, notice_minutes=notice_minutes) is None:
                end = start + timedelta(minutes=service.minutes)
                return availability.Slot(start, end, end + timedelta(minutes=service.buffer_minutes),
                                         therapist.id, room.id)
    return None


def move_misfit(appointment: Appointment, new_start: datetime, therapist_id: str, hours: OpeningHours,
                spa: Mapping[str, str], url: Optional[str] = None) -> Optional[availability.Misfit]:
    """Why staff cannot move `appointment` to `new_start` with `therapist_id`, or None: the
    therapist must do the technique, hold the training the appointment needs, work then, and
    be free (the appointment itself left out). Short notice is staff's call, so it is not checked."""
    model = load_spa(hours, spa, url)
    buffer = int((appointment.ends_at - appointment.starts_at).total_seconds() // 60) - appointment.minutes
    service = availability.Service(id=f"{appointment.technique}:{appointment.minutes}", technique=appointment.technique,
                                   minutes=appointment.minutes, buffer_minutes=max(buffer, 0),
                                   room_kind=next((r.kind for r in model.rooms if r.id == appointment.room_id),
                                                  "treatment"))
    booked = diary(model, new_start, 1, url, now=new_start, ignore=appointment.code)
    proposal = availability.Proposal(service, new_start, therapist_id, appointment.room_id,
                                     frozenset(appointment.certifications or ()))
    return availability.check_slot(model, booked, proposal)


def hold(slot: availability.Slot, service: availability.Service, *, sender_id: str, channel: str,
         service_name: Optional[str] = None, name: Optional[str] = None, phone: Optional[str] = None,
         email: Optional[str] = None, certifications: FrozenSet[str] = frozenset(), now: Optional[datetime] = None,
         url: Optional[str] = None) -> Appointment:
    """Hold `slot` for the person while they read the summary; raises SlotTaken when someone
    else got there first (offer the next free times)."""
    return appointment_store.hold(
        therapist_id=slot.therapist_id, room_id=slot.room_id, technique=service.technique,
        minutes=service.minutes, buffer_minutes=service.buffer_minutes, starts_at=slot.start,
        sender_id=sender_id, channel=channel, service=service_name, name=name, phone=phone, email=email,
        certifications=sorted(certifications), now=now, url=url)


SLOT_TIME = "%Y%m%dT%H%MZ"


def slot_value(slot: availability.Slot) -> str:
    """A slot as a button's payload carries it: "20261208T1500Z maria room-1" (the start in UTC,
    the therapist, the room), plain enough for the payload check of bot/security/limits.py."""
    start = slot.start.astimezone(timezone.utc)
    return f"{start.strftime(SLOT_TIME)} {slot.therapist_id} {slot.room_id}"


def parse_slot_value(value: Optional[str], minutes: int, buffer_minutes: int) -> Optional[availability.Slot]:
    parts = (value or "").split()
    if len(parts) != 3:
        return None
    try:
        start = datetime.strptime(parts[0], SLOT_TIME).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    end = start + timedelta(minutes=minutes)
    return availability.Slot(start, end, end + timedelta(minutes=buffer_minutes), parts[1], parts[2])


def aware_now(hours: OpeningHours, utc_now: Optional[datetime] = None) -> datetime:
    """Now in the spa's zone, aware, to the minute."""
    moment = utc_now or datetime.now(timezone.utc)
    return moment.astimezone(ZoneInfo(hours.timezone)).replace(second=0, microsecond=0)
