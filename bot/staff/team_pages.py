"""The owner's team pages at /staff/team: therapists (what they do, their week, their time off)
and the rooms, which are what the booking rules offer times from.

Therapists are never deleted, because appointments point at them: unticking "active" retires one.
A room is removed only while no appointment was ever booked in it; otherwise it stays for the
records (and the page says why). The rules about what may be typed live in team_forms.py; this
module reads and writes the tables (in a worker thread, off the event loop) and renders the pages.
Every handler starts with the owner check, and every change is a POST with the session's CSRF
token answered by a 303 back to a page that confirms it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import delete, func, select

from bot.booking.appointments import LIVE_STATUSES, Appointment, Room, Therapist, TherapistHours, TherapistTimeOff
from bot.knowledge.db import get_session
from bot.staff import exports, render, team_forms
from bot.staff.sessions import Session
from bot.staff.team_forms import (
    CERTIFICATIONS, GENDERS, ROOM_KINDS, WEEKDAYS, Problem, Stretch, TherapistDraft, TimeOffDraft, Week,
)
from bot.staff.web import PREFIX, html, in_thread

logger = logging.getLogger(__name__)

BASE = f"{PREFIX}/team"
# What the page says after a change (the redirect names one of these; no posted text is echoed).
CONFIRMATIONS: Dict[str, str] = {
    "added": "Therapist added.",
    "saved": "Changes saved.",
    "off-added": "Time off added.",
    "off-removed": "Time off removed.",
    "room-added": "Room added.",
    "room-saved": "Room saved.",
    "room-removed": "Room removed.",
}


def routes(page: Any) -> List[Tuple[Callable[..., Any], str, List[str], str]]:
    pages = TeamPages(page)
    return [
        (pages.team, "/team", ["GET"], "staff_team"),
        (pages.new_therapist, "/team/therapists/new", ["GET", "POST"], "staff_team_therapist_new"),
        (pages.therapist, "/team/therapists/<therapist_id>", ["GET", "POST"], "staff_team_therapist"),
        (pages.add_time_off, "/team/therapists/<therapist_id>/time-off", ["POST"], "staff_team_time_off"),
        (pages.remove_time_off, "/team/therapists/<therapist_id>/time-off/<entry:int>/remove", ["POST"],
         "staff_team_time_off_remove"),
        (pages.new_room, "/team/rooms/new", ["GET", "POST"], "staff_team_room_new"),
        (pages.room, "/team/rooms/<room_id>", ["GET", "POST"], "staff_team_room"),
        (pages.remove_room, "/team/rooms/<room_id>/remove", ["POST"], "staff_team_room_remove"),
    ]


# --- the records ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TimeOffRecord:
    id: int
    starts_at: datetime
    ends_at: datetime
    reason: Optional[str]


@dataclass(frozen=True)
class TherapistRecord:
    id: str
    name: str
    gender: Optional[str]
    techniques: Tuple[str, ...]
    certifications: Tuple[str, ...]
    active: bool
    hours: Week
    time_off: Tuple[TimeOffRecord, ...] = ()  # upcoming only


@dataclass(frozen=True)
class RoomRecord:
    id: str
    name: str
    kind: str
    upcoming: int = 0  # held or confirmed appointments not over yet
    booked_ever: int = 0  # any appointment at all: then the room is kept for the records


class RoomInUse(Exception):
    """The room cannot be removed; the message says why, for the owner."""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def read_team(url: Optional[str], now: datetime) -> Tuple[List[TherapistRecord], List[RoomRecord]]:
    """Everyone (active first, then by name) with their week and upcoming time off, and the rooms."""
    with get_session(url) as session:
        therapists = list(session.execute(select(Therapist)).scalars())
        hours = _hours_by_therapist(session.execute(select(TherapistHours)).scalars())
        off = _time_off_by_therapist(session.execute(
            select(TherapistTimeOff).where(TherapistTimeOff.ends_at > now).order_by(TherapistTimeOff.starts_at)
        ).scalars())
        rooms = [_room_record(session, room, now) for room in
                 session.execute(select(Room).order_by(Room.name, Room.id)).scalars()]
    records = [_therapist_record(t, hours.get(t.id, {}), off.get(t.id, ())) for t in therapists]
    return sorted(records, key=lambda r: (not r.active, r.name.casefold(), r.id)), rooms


def read_therapist(url: Optional[str], therapist_id: str, now: datetime) -> Optional[TherapistRecord]:
    with get_session(url) as session:
        therapist = session.get(Therapist, therapist_id)
        if therapist is None:
            return None
        hours = _hours_by_therapist(session.execute(
            select(TherapistHours).where(TherapistHours.therapist_id == therapist_id)).scalars())
        off = session.execute(
            select(TherapistTimeOff)
            .where(TherapistTimeOff.therapist_id == therapist_id, TherapistTimeOff.ends_at > now)
            .order_by(TherapistTimeOff.starts_at)).scalars()
        return _therapist_record(therapist, hours.get(therapist_id, {}), [_time_off_record(o) for o in off])


def save_therapist(url: Optional[str], therapist_id: Optional[str], draft: TherapistDraft) -> Optional[str]:
    """Write the therapist and replace their weekly hours; a new one gets an id made from the
    name. Returns the id, or None when the therapist to edit does not exist."""
    with get_session(url) as session, session.begin():
        if therapist_id is None:
            taken = set(session.execute(select(Therapist.id)).scalars())
            therapist = Therapist(id=team_forms.slug_for(draft.name, taken))
            session.add(therapist)
        else:
            therapist = session.get(Therapist, therapist_id)
            if therapist is None:
                return None
        therapist.name, therapist.gender, therapist.active = draft.name, draft.gender, draft.active
        therapist.techniques, therapist.certifications = list(draft.techniques), list(draft.certifications)
        session.flush()
        session.execute(delete(TherapistHours).where(TherapistHours.therapist_id == therapist.id))
        for weekday, stretches in sorted(draft.hours.items()):
            for stretch in stretches:
                start, end = stretch.as_times()
                session.add(TherapistHours(therapist_id=therapist.id, weekday=weekday, start_time=start, end_time=end))
        return str(therapist.id)


def add_time_off(url: Optional[str], therapist_id: str, draft: TimeOffDraft) -> bool:
    with get_session(url) as session, session.begin():
        if session.get(Therapist, therapist_id) is None:
            return False
        session.add(TherapistTimeOff(therapist_id=therapist_id, starts_at=draft.starts_at, ends_at=draft.ends_at,
                                     reason=draft.reason))
        return True


def remove_time_off(url: Optional[str], therapist_id: str, entry_id: int) -> bool:
    with get_session(url) as session, session.begin():
        removed = session.execute(delete(TherapistTimeOff).where(
            TherapistTimeOff.id == entry_id, TherapistTimeOff.therapist_id == therapist_id))
        return removed.rowcount == 1


def read_room(url: Optional[str], room_id: str, now: datetime) -> Optional[RoomRecord]:
    with get_session(url) as session:
        room = session.get(Room, room_id)
        return None if room is None else _room_record(session, room, now)


def save_room(url: Optional[str], room_id: Optional[str], name: str, kind: str) -> Optional[str]:
    """Add a room (its id made from the name) or rename it and change its kind; the id stays,
    since appointments point at it."""
    with get_session(url) as session, session.begin():
        if room_id is None:
            taken = set(session.execute(select(Room.id)).scalars())
            room = Room(id=team_forms.slug_for(name, taken, fallback="room"))
            session.add(room)
        else:
            room = session.get(Room, room_id)
            if room is None:
                return None
        room.name, room.kind = name, kind
        return str(room.id)


def remove_room(url: Optional[str], room_id: str, now: datetime) -> bool:
    """Remove a room nobody was ever booked into; raises RoomInUse otherwise."""
    with get_session(url) as session, session.begin():
        room = session.get(Room, room_id)
        if room is None:
            return False
        reason = room_kept_because(_room_record(session, room, now))
        if reason:
            raise RoomInUse(reason)
        session.delete(room)
        return True


def room_kept_because(room: RoomRecord) -> str:
    """Why a room cannot be removed, or "" when it can."""
    if room.upcoming:
        count = f"{room.upcoming} upcoming appointment{'' if room.upcoming == 1 else 's'}"
        return f"{room.name} has {count}. Move or cancel them first, then remove the room."
    if room.booked_ever:
        return (f"Past appointments took place in {room.name}, and their records point at it, so it stays. "
                "Rename it or change its kind instead.")
    return ""


def _therapist_record(therapist: Therapist, hours: Week, time_off: Sequence[TimeOffRecord]) -> TherapistRecord:
    return TherapistRecord(
        id=therapist.id, name=therapist.name, gender=therapist.gender,
        techniques=tuple(therapist.techniques or ()), certifications=tuple(therapist.certifications or ()),
        active=bool(therapist.active), hours=hours, time_off=tuple(time_off))


def _hours_by_therapist(rows: Any) -> Dict[str, Week]:
    found: Dict[str, Week] = {}
    for row in rows:
        found.setdefault(row.therapist_id, {}).setdefault(row.weekday, []).append(
            Stretch.from_times(row.start_time, row.end_time))
    for week in found.values():
        for stretches in week.values():
            stretches.sort()
    return found


def _time_off_record(row: TherapistTimeOff) -> TimeOffRecord:
    return TimeOffRecord(row.id, row.starts_at, row.ends_at, row.reason)


def _time_off_by_therapist(rows: Any) -> Dict[str, List[TimeOffRecord]]:
    found: Dict[str, List[TimeOffRecord]] = {}
    for row in rows:
        found.setdefault(row.therapist_id, []).append(_time_off_record(row))
    return found


def _room_record(session: Any, room: Room, now: datetime) -> RoomRecord:
    upcoming = session.execute(select(func.count()).select_from(Appointment).where(
        Appointment.room_id == room.id, Appointment.status.in_(LIVE_STATUSES), Appointment.ends_at > now)).scalar()
    ever = session.execute(select(func.count()).select_from(Appointment).where(Appointment.room_id == room.id)).scalar()
    return RoomRecord(room.id, room.name, room.kind, int(upcoming or 0), int(ever or 0))


# --- what the pages show --------------------------------------------------------------------

@dataclass
class TimeOffForm:
    """The time-off form as last posted (kept when it was refused) and its problems."""

    values: Dict[str, str] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)


def draft_of(record: TherapistRecord) -> TherapistDraft:
    return TherapistDraft(
        name=record.name, gender=record.gender, techniques=list(record.techniques),
        certifications=list(record.certifications), active=record.active, hours=record.hours,
        hours_text={day: team_forms.day_text(record.hours.get(day, ())) for day in range(7)})


def choices(options: Mapping[str, str], chosen: Sequence[str]) -> List[Dict[str, Any]]:
    """Checkboxes: every known option, then any chosen one the list no longer has, so saving the
    form never drops something silently."""
    listed = [{"id": key, "label": label, "checked": key in chosen} for key, label in options.items()]
    return listed + [{"id": key, "label": key, "checked": True} for key in chosen if key not in options]


def time_off_rows(entries: Sequence[TimeOffRecord], zone: ZoneInfo) -> List[Dict[str, Any]]:
    return [{"id": e.id, "when": team_forms.describe_time_off(e.starts_at, e.ends_at, zone), "reason": e.reason or ""}
            for e in entries]


def therapist_row(record: TherapistRecord, technique_names: Mapping[str, str], zone: ZoneInfo) -> Dict[str, Any]:
    """What the team list shows of one therapist."""
    return {
        "id": record.id, "name": record.name, "active": record.active,
        "gender": GENDERS.get(record.gender or "", record.gender or ""),
        "techniques": [technique_names.get(t, t) for t in record.techniques],
        "certifications": [CERTIFICATIONS.get(c, c) for c in record.certifications],
        "hours": team_forms.summarise_week(record.hours),
        "time_off": time_off_rows(record.time_off, zone),
    }


def posted_lists(request: Request) -> Dict[str, List[str]]:
    """Every posted field with all its values (repeated checkboxes) and empty ones kept: Sanic's
    `request.form` drops empty fields, and emptying a day's hours means "not working"."""
    if (request.content_type or "").split(";")[0].strip() == "application/x-www-form-urlencoded":
        return parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: list(values) for name, values in request.form.items()}


def posted(request: Request) -> Dict[str, str]:
    return {name: values[0] for name, values in posted_lists(request).items() if values}


def confirmation(request: Request) -> str:
    return CONFIRMATIONS.get(request.args.get("done") or "", "")


# --- the pages ------------------------------------------------------------------------------

class TeamPages:
    def __init__(self, page: Any) -> None:
        self.page = page

    @property
    def url(self) -> Optional[str]:
        return self.page.database_url

    async def owner(self, request: Request) -> Union[Session, HTTPResponse]:
        """The owner's session: GET needs the owner, POST also the form's CSRF token."""
        if request.method == "POST":
            return await self.page.owner_post(request)
        return self.page.owner_session(request)

    async def spa_and_zone(self) -> Tuple[Dict[str, str], ZoneInfo]:
        spa = await self.page.spa()
        return spa, exports.spa_zone(spa.get("timezone")) or ZoneInfo("UTC")

    async def technique_names(self) -> Dict[str, str]:
        """The knowledge base's techniques, in its order: the ids the assistant matches on."""
        from bot.knowledge import queries

        catalogue = await in_thread(queries.catalogue)
        return {t.id: t.name for t in catalogue.techniques}

    def render(self, template: str, session: Session, spa: Mapping[str, str], status: int = 200,
               **context: Any) -> HTTPResponse:
        body = render.render(template, session=session, spa=render.spa_details(spa), **context)
        return html(body, status=status)

    def not_found(self, session: Session, what: str) -> HTTPResponse:
        return self.page.message("Not found", f"There is no {what} with that id.", 404, session)

    # -- the team --

    async def team(self, request: Request) -> HTTPResponse:
        session = self.page.owner_session(request)
        if isinstance(session, HTTPResponse):
            return session
        therapists, rooms = await in_thread(read_team, self.url, utcnow())
        spa, zone = await self.spa_and_zone()
        names = await self.technique_names()
        return self.render(
            "team.html", session, spa, done=confirmation(request),
            therapists=[therapist_row(t, names, zone) for t in therapists],
            rooms=[{"id": r.id, "name": r.name, "kind": ROOM_KINDS.get(r.kind, r.kind), "upcoming": r.upcoming}
                   for r in rooms])

    # -- a therapist --

    async def new_therapist(self, request: Request) -> HTTPResponse:
        return await self.therapist_form(request, None)

    async def therapist(self, request: Request, therapist_id: str) -> HTTPResponse:
        return await self.therapist_form(request, therapist_id)

    async def therapist_form(self, request: Request, therapist_id: Optional[str]) -> HTTPResponse:
        session = await self.owner(request)
        if isinstance(session, HTTPResponse):
            return session
        record = None
        if therapist_id is not None:
            record = await in_thread(read_therapist, self.url, therapist_id, utcnow())
            if record is None:
                return self.not_found(session, "therapist")
        names = await self.technique_names()
        if request.method == "GET":
            draft = draft_of(record) if record else TherapistDraft(hours_text={day: "" for day in range(7)})
            return await self.therapist_page(request, session, record, draft, [], names)
        known = set(names) | set(record.techniques if record else ())
        draft, problems = team_forms.parse_therapist(posted_lists(request), known)
        if problems:
            return await self.therapist_page(request, session, record, draft, problems, names, status=422)
        saved = await in_thread(save_therapist, self.url, therapist_id, draft)
        if saved is None:
            return self.not_found(session, "therapist")
        logger.info("Staff team: an owner %s therapist %s.", "added" if record is None else "changed", saved)
        return response.redirect(f"{BASE}/therapists/{saved}?done={'added' if record is None else 'saved'}",
                                 status=303)

    async def therapist_page(self, request: Request, session: Session, record: Optional[TherapistRecord],
                             draft: TherapistDraft, problems: List[Problem], names: Mapping[str, str],
                             status: int = 200, time_off: Optional[TimeOffForm] = None) -> HTTPResponse:
        spa, zone = await self.spa_and_zone()
        time_off = time_off or TimeOffForm()
        return self.render(
            "team_therapist.html", session, spa, status=status, done=confirmation(request),
            therapist=record, draft=draft, problems=problems,
            action=f"{BASE}/therapists/{record.id}" if record else f"{BASE}/therapists/new",
            genders=list(GENDERS.items()),
            techniques=choices(names, draft.techniques),
            certifications=choices(CERTIFICATIONS, draft.certifications),
            hours=[{"id": team_forms.hours_field(day), "label": WEEKDAYS[day], "value": draft.hours_text.get(day, "")}
                   for day in range(7)],
            time_off=time_off_rows(record.time_off, zone) if record else [],
            off_values=time_off.values, off_problems=time_off.problems, zone=str(zone))

    # -- time off --

    async def add_time_off(self, request: Request, therapist_id: str) -> HTTPResponse:
        session = await self.page.owner_post(request)
        if isinstance(session, HTTPResponse):
            return session
        record = await in_thread(read_therapist, self.url, therapist_id, utcnow())
        if record is None:
            return self.not_found(session, "therapist")
        _, zone = await self.spa_and_zone()
        values = {key: posted(request).get(key, "") for key in ("from", "to", "start", "end", "reason")}
        draft, problems = team_forms.parse_time_off(values, zone)
        if draft is None:
            names = await self.technique_names()
            return await self.therapist_page(request, session, record, draft_of(record), [], names, status=422,
                                             time_off=TimeOffForm(values, problems))
        await in_thread(add_time_off, self.url, therapist_id, draft)
        logger.info("Staff team: an owner added time off for therapist %s.", therapist_id)
        return response.redirect(f"{BASE}/therapists/{therapist_id}?done=off-added#time-off", status=303)

    async def remove_time_off(self, request: Request, therapist_id: str, entry: int) -> HTTPResponse:
        session = await self.page.owner_post(request)
        if isinstance(session, HTTPResponse):
            return session
        if not await in_thread(remove_time_off, self.url, therapist_id, entry):
            return self.page.message("Not found", "That time off was already removed.", 404, session)
        logger.info("Staff team: an owner removed time off of therapist %s.", therapist_id)
        return response.redirect(f"{BASE}/therapists/{therapist_id}?done=off-removed#time-off", status=303)

    # -- rooms --

    async def new_room(self, request: Request) -> HTTPResponse:
        return await self.room_form(request, None)

    async def room(self, request: Request, room_id: str) -> HTTPResponse:
        return await self.room_form(request, room_id)

    async def room_form(self, request: Request, room_id: Optional[str]) -> HTTPResponse:
        session = await self.owner(request)
        if isinstance(session, HTTPResponse):
            return session
        record = None
        if room_id is not None:
            record = await in_thread(read_room, self.url, room_id, utcnow())
            if record is None:
                return self.not_found(session, "room")
        if request.method == "GET":
            values = {"name": record.name, "kind": record.kind} if record else {"name": "", "kind": "treatment"}
            return await self.room_page(session, record, values, [])
        values = {key: posted(request).get(key, "") for key in ("name", "kind")}
        (name, kind), problems = team_forms.parse_room(values)
        if problems:
            return await self.room_page(session, record, values, problems, status=422)
        saved = await in_thread(save_room, self.url, room_id, name, kind)
        if saved is None:
            return self.not_found(session, "room")
        logger.info("Staff team: an owner %s room %s.", "added" if record is None else "changed", saved)
        return response.redirect(f"{BASE}?done={'room-added' if record is None else 'room-saved'}#rooms", status=303)

    async def room_page(self, session: Session, record: Optional[RoomRecord], values: Mapping[str, str],
                        problems: List[Problem], status: int = 200) -> HTTPResponse:
        spa, _ = await self.spa_and_zone()
        return self.render(
            "team_room.html", session, spa, status=status, room=record, values=values, problems=problems,
            kinds=list(ROOM_KINDS.items()), kept_because=room_kept_because(record) if record else "",
            action=f"{BASE}/rooms/{record.id}" if record else f"{BASE}/rooms/new")

    async def remove_room(self, request: Request, room_id: str) -> HTTPResponse:
        session = await self.page.owner_post(request)
        if isinstance(session, HTTPResponse):
            return session
        try:
            removed = await in_thread(remove_room, self.url, room_id, utcnow())
        except RoomInUse as refusal:
            record = await in_thread(read_room, self.url, room_id, utcnow())
            if record is None:
                return self.not_found(session, "room")
            return await self.room_page(session, record, {"name": record.name, "kind": record.kind},
                                        [Problem(str(refusal))], status=409)
        if not removed:
            return self.not_found(session, "room")
        logger.info("Staff team: an owner removed room %s.", room_id)
        return response.redirect(f"{BASE}?done=room-removed#rooms", status=303)
