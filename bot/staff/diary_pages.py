"""The diary for reception and owners: the day view at /staff/day and one appointment's page at
/staff/appointments/<code>.

The day view is a real table (one column per therapist or per room, one row per quarter hour of
the spa's opening hours) so it reads well with a screen reader, works with the keyboard alone and
prints on a landscape page. It shows what is needed to run the day (time, service, the client's
first name, status); never anything from the intake, which stays on the booking request's page.

Times: appointments and time off are stored as UTC instants; people read and type the spa's wall
clock (`timezone` in the spa settings). The rows are made by stepping through real time from the
opening instant, each labelled with its wall-clock time, so a day on which the clocks change still
has one row per quarter hour that exists (spring forward skips an hour, falling back repeats one),
and an appointment lands in the row of the instant it starts.

Listed in STAFF_PAGES (bot/staff/web.py): every handler starts with `staff_session` or
`staff_post`, so anyone logged in may use these pages and every change carries the CSRF token.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import delete, select

from bot.booking import appointment_store, availability, client_notify
from bot.booking.appointment_store import HoldExpired, InvalidTransition, SlotTaken
from bot.booking.appointments import LIVE_STATUSES, Appointment, Room, Therapist, TherapistHours, TherapistTimeOff
from bot.booking.diary import move_misfit
from bot.booking.feeds import feed_path
from bot.booking.when import OpeningHours, describe_time, format_clock, opening_hours_from_settings
from bot.knowledge.db import get_session
from bot.knowledge.front_desk import closed_dates
from bot.staff import render
from bot.staff.web import CODE, PREFIX, StaffPage, html, in_thread

logger = logging.getLogger(__name__)

DAY_URL = f"{PREFIX}/day"
APPOINTMENTS_URL = f"{PREFIX}/appointments"
STEP = timedelta(minutes=15)
BY_THERAPIST, BY_ROOM = "therapist", "room"
# Cancelled appointments have given their time back, so the day view leaves them out.
SHOWN_STATUSES = ("held", "confirmed", "no_show", "done")
STATUS_LABELS = {"held": "on hold", "confirmed": "confirmed", "no_show": "no-show", "done": "done",
                 "cancelled": "cancelled"}
KIOSK_CLIENT = "Kiosk client"
MAX_REASON = 200  # the column's length
DAY_CONFIRMATIONS = {
    "blocked": "Blocked. That time is no longer offered for booking.",
    "freed": "Freed. That time can be booked again.",
}
APPOINTMENT_CONFIRMATIONS = {
    "moved": "Moved. The client is being told the new time.",
    "cancelled": "Cancelled. The time is free again, and the client is being told.",
    "no_show": "Marked as a no-show.",
    "done": "Marked as done.",
}


def routes(page: StaffPage) -> List[Tuple[Any, str, List[str], str]]:
    pages = DiaryPages(page)
    return [
        (pages.day, "/day", ["GET"], "staff_day"),
        (pages.block, "/day/block", ["POST"], "staff_day_block"),
        (pages.free, "/day/block/<block_id:int>/delete", ["POST"], "staff_day_free"),
        (pages.appointment, "/appointments/<code>", ["GET"], "staff_appointment"),
        (pages.move, "/appointments/<code>/move", ["POST"], "staff_appointment_move"),
        (pages.cancel, "/appointments/<code>/cancel", ["POST"], "staff_appointment_cancel"),
        (pages.no_show, "/appointments/<code>/no-show", ["POST"], "staff_appointment_no_show"),
        (pages.done, "/appointments/<code>/done", ["POST"], "staff_appointment_done"),
    ]


# --- the spa's clock ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SpaClock:
    """The spa's time zone, opening hours and closed dates: everything that turns a date on the
    spa's calendar into the instants the database stores."""

    zone: ZoneInfo
    hours: OpeningHours
    closed: FrozenSet[date] = frozenset()

    @classmethod
    def from_settings(cls, spa: Mapping[str, str]) -> "SpaClock":
        """Raises ValueError when the opening hours or the time zone are missing or unreadable."""
        hours = opening_hours_from_settings(spa)
        return cls(ZoneInfo(hours.timezone), hours, frozenset(closed_dates(spa.get("closed_dates") or "")))

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.zone)

    def today(self, now: Optional[datetime] = None) -> date:
        return self.local(now or datetime.now(timezone.utc)).date()

    def instant(self, day: date, clock: time) -> Optional[datetime]:
        """The UTC instant of a wall-clock time on a day, or None when the clocks skip it (a time
        inside the hour lost when daylight saving starts)."""
        wall = datetime.combine(day, clock, tzinfo=self.zone)
        moment = wall.astimezone(timezone.utc)
        if moment.astimezone(self.zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
            return None
        return moment

    def day_bounds(self, day: date) -> Tuple[datetime, datetime]:
        """From the day's local midnight to the next one, as UTC instants (23 or 25 hours apart on
        the days the clocks change)."""
        start = datetime.combine(day, time(0), tzinfo=self.zone).astimezone(timezone.utc)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(timezone.utc)
        return start, end

    def opening(self, day: date) -> Optional[Tuple[datetime, datetime]]:
        """When the spa opens and closes that day (UTC), or None on a closed day."""
        window = self.hours.days.get(day.weekday())
        if day in self.closed or window is None:
            return None
        opens, closes = window
        start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(timezone.utc)
        if closes == time(0):  # "24:00": open until the end of the day
            return start, self.day_bounds(day)[1]
        return start, datetime.combine(day, closes, tzinfo=self.zone).astimezone(timezone.utc)

    def clock_text(self, instant: datetime) -> str:
        return format_clock(self.local(instant).time())

    def span_text(self, start: datetime, end: datetime) -> str:
        return f"{self.clock_text(start)}–{self.clock_text(end)}"

    def describe(self, instant: datetime) -> str:
        return describe_time(self.local(instant).replace(tzinfo=None))

    def row_labels(self, instants: Sequence[datetime]) -> List[Tuple[str, bool]]:
        """Each row's wall-clock time, and whether it starts an hour. When the clocks go back the
        same times come twice, so those rows also name the zone ("1:30 am EDT", "1:30 am EST")."""
        local = [self.local(moment) for moment in instants]
        texts = [format_clock(moment.time()) for moment in local]
        return [(f"{text} {moment.tzname()}" if texts.count(text) > 1 else text, moment.minute == 0)
                for text, moment in zip(texts, local)]


def day_title(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def read_date(text: Optional[str]) -> Optional[date]:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def read_clock(text: Optional[str]) -> Optional[time]:
    """A time typed in a time field ("14:30"); browsers without one send the same form."""
    try:
        return time.fromisoformat((text or "").strip())
    except ValueError:
        return None


def first_name(name: Optional[str]) -> str:
    """What the day view calls the client: enough to greet them, less to read over a shoulder."""
    words = (name or "").split()
    return words[0] if words else KIOSK_CLIENT


# --- the grid (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """Something that takes time in one column: an appointment or a blocked stretch."""

    column: str
    starts_at: datetime
    ends_at: datetime
    view: Mapping[str, Any]


@dataclass
class Cell:
    """One table cell; `entries` share it when they overlap (each entry is still shown once)."""

    rowspan: int = 1
    entries: List[Mapping[str, Any]] = field(default_factory=list)
    off: bool = False  # nobody works here at this time (therapist columns only)


@dataclass(frozen=True)
class Row:
    label: str
    on_the_hour: bool
    cells: List[Cell]  # only the cells this row starts; the others are covered by a rowspan


def row_instants(first: datetime, end: datetime) -> List[datetime]:
    """Quarter-hour steps of real time, so a daylight-saving change neither loses nor invents
    a row."""
    rows, moment = [], first
    while moment < end:
        rows.append(moment)
        moment += STEP
    return rows


def grid_span(anchor: datetime, window: Optional[Tuple[datetime, datetime]], entries: Sequence[Entry],
              day: Tuple[datetime, datetime]) -> Optional[Tuple[datetime, datetime]]:
    """The stretch the rows cover: the opening hours, widened in quarter hours (counted from
    `anchor`) to show any appointment outside them, and kept inside the day."""
    starts = [e.starts_at for e in entries] + ([window[0]] if window else [])
    ends = [e.ends_at for e in entries] + ([window[1]] if window else [])
    if not starts:
        return None
    first = anchor + STEP * math.floor((min(starts) - anchor) / STEP)
    last = anchor + STEP * math.ceil((max(ends) - anchor) / STEP)
    return max(first, day[0]), min(last, day[1])


def stack_column(entries: Sequence[Entry], first: datetime, end: datetime) -> Dict[int, Cell]:
    """One column's cells by the row they start in: each entry in the row it starts in, spanning
    the rows it lasts (cut to the grid). Entries that overlap share one cell, so the table stays
    rectangular and each is still shown once."""
    cells: Dict[int, Cell] = {}
    group_top, group_bottom = -1, -1
    for entry in sorted(entries, key=lambda e: (e.starts_at, e.ends_at)):
        start, stop = max(entry.starts_at, first), min(entry.ends_at, end)
        if stop <= start:
            continue
        top = math.floor((start - first) / STEP)
        bottom = max(top + 1, math.ceil((stop - first) / STEP))
        if top < group_bottom:
            group_bottom = max(group_bottom, bottom)
        else:
            group_top, group_bottom = top, bottom
            cells[top] = Cell()
        cell = cells[group_top]
        cell.entries.append(entry.view)
        cell.rowspan = group_bottom - group_top
    return cells


def build_rows(instants: Sequence[datetime], labels: Sequence[Tuple[str, bool]], columns: Sequence[str],
               entries: Sequence[Entry], working: Callable[[str, datetime], bool]) -> List[Row]:
    """The table's body: per row, the cells that start there (a rowspan from above covers the
    rest), with the free time nobody works marked as such."""
    if not instants:
        return []
    first, end = instants[0], instants[-1] + STEP
    stacks = [stack_column([e for e in entries if e.column == column], first, end) for column in columns]
    hidden = [{r for top, cell in stack.items() for r in range(top + 1, top + cell.rowspan)} for stack in stacks]
    rows = []
    for index, moment in enumerate(instants):
        cells = []
        for column, stack, covered in zip(columns, stacks, hidden):
            if index in stack:
                cells.append(stack[index])
            elif index not in covered:
                cells.append(Cell(off=not working(column, moment)))
        text, on_the_hour = labels[index]
        rows.append(Row(text, on_the_hour, cells))
    return rows


# --- reading and writing the diary --------------------------------------------------------------


@dataclass(frozen=True)
class Diary:
    """What one day's page reads from the database, in one short session."""

    therapists: List[Therapist]
    rooms: List[Room]
    hours: Dict[str, List[TherapistHours]]
    time_off: List[TherapistTimeOff]
    appointments: List[Appointment]


def read_diary(start: datetime, end: datetime, url: Optional[str]) -> Diary:
    with get_session(url) as session:
        therapists = list(session.execute(select(Therapist).order_by(Therapist.name, Therapist.id)).scalars())
        rooms = list(session.execute(select(Room).order_by(Room.name, Room.id)).scalars())
        hours: Dict[str, List[TherapistHours]] = {}
        for stretch in session.execute(select(TherapistHours)).scalars():
            hours.setdefault(stretch.therapist_id, []).append(stretch)
        time_off = list(session.execute(
            select(TherapistTimeOff)
            .where(TherapistTimeOff.starts_at < end, TherapistTimeOff.ends_at > start)
            .order_by(TherapistTimeOff.starts_at, TherapistTimeOff.id)).scalars())
        appointments = list(session.execute(
            select(Appointment)
            .where(Appointment.status.in_(SHOWN_STATUSES), Appointment.starts_at < end, Appointment.ends_at > start)
            .order_by(Appointment.starts_at, Appointment.id)).scalars())
    return Diary(therapists, rooms, hours, time_off, appointments)


def read_team(url: Optional[str]) -> Tuple[List[Therapist], Dict[str, str]]:
    """The therapists (for the move form) and every room's name."""
    with get_session(url) as session:
        therapists = list(session.execute(select(Therapist).order_by(Therapist.name, Therapist.id)).scalars())
        rooms = {room.id: room.name for room in session.execute(select(Room)).scalars()}
    return therapists, rooms


def add_time_off(therapist_id: str, starts_at: datetime, ends_at: datetime, reason: Optional[str],
                 url: Optional[str]) -> int:
    with get_session(url) as session, session.begin():
        entry = TherapistTimeOff(therapist_id=therapist_id, starts_at=starts_at, ends_at=ends_at, reason=reason)
        session.add(entry)
        session.flush()
        return entry.id


def remove_time_off(block_id: int, url: Optional[str]) -> Optional[datetime]:
    """Delete a blocked stretch; returns when it started (to go back to its day), None if gone."""
    with get_session(url) as session, session.begin():
        entry = session.get(TherapistTimeOff, block_id)
        if entry is None:
            return None
        started = entry.starts_at
        session.execute(delete(TherapistTimeOff).where(TherapistTimeOff.id == block_id))
        return started


def works_at(hours: Sequence[TherapistHours], local: datetime) -> bool:
    """Weekly hours are wall-clock times, so they are compared with the wall clock."""
    clock = local.time()
    return any(h.weekday == local.weekday() and h.start_time <= clock and (clock < h.end_time or h.end_time == time(0))
               for h in hours)


def tell_client(kind: str, appointment: Appointment, previous_start: Optional[datetime] = None) -> None:
    """Let the client know their appointment changed (sent from its own thread, never raises)."""
    client_notify.notify_client(kind, appointment, previous_start=previous_start)


def feed_link(therapist_id: str) -> Optional[str]:
    """The therapist's calendar feed; without a secret to sign the address with (no
    CALENDAR_FEED_SECRET or staff secret key) the day view simply has no feed links."""
    try:
        return feed_path(therapist_id)
    except ValueError as problem:
        logger.warning("Day view: no calendar feed links (%s).", problem)
        return None


# --- what the pages show ------------------------------------------------------------------------


def day_url(day: date, by: str = BY_THERAPIST, **extra: str) -> str:
    return f"{DAY_URL}?{urlencode({'date': day.isoformat(), 'by': by, **extra})}"


def service_name(appointment: Appointment) -> str:
    return appointment.service or appointment.technique.replace("_", " ").capitalize()


def appointment_entry(appointment: Appointment, column: str, clock: SpaClock, other: str) -> Entry:
    """An appointment in the grid. Its time is the service itself; the cell also spans the buffer
    after it, since the therapist and the room are busy until then."""
    service_ends = appointment.starts_at + timedelta(minutes=appointment.minutes)
    view = {
        "kind": "appointment", "code": appointment.code, "href": f"{APPOINTMENTS_URL}/{appointment.code}",
        "time": clock.span_text(appointment.starts_at, service_ends), "service": service_name(appointment),
        "client": first_name(appointment.name), "status": appointment.status,
        "status_label": STATUS_LABELS.get(appointment.status, appointment.status), "other": other,
    }
    return Entry(column, appointment.starts_at, appointment.ends_at, view)


def blocked_entry(entry: TherapistTimeOff, clock: SpaClock, therapist: str) -> Entry:
    view = {"kind": "blocked", "id": entry.id, "time": clock.span_text(entry.starts_at, entry.ends_at),
            "reason": entry.reason or "", "therapist": therapist}
    return Entry(entry.therapist_id, entry.starts_at, entry.ends_at, view)


def day_columns(diary: Diary, by: str, entries: Sequence[Entry]) -> List[Dict[str, Any]]:
    """One column per room, or per active therapist (and per retired one with something that
    day, so nothing on the diary is hidden)."""
    if by == BY_ROOM:
        return [{"id": room.id, "name": room.name, "feed": None} for room in diary.rooms]
    busy = {entry.column for entry in entries}
    return [{"id": t.id, "name": t.name, "feed": feed_link(t.id)}
            for t in diary.therapists if t.active or t.id in busy]


def day_entries(diary: Diary, by: str, clock: SpaClock) -> List[Entry]:
    therapists = {t.id: t.name for t in diary.therapists}
    rooms = {r.id: r.name for r in diary.rooms}
    if by == BY_ROOM:
        return [appointment_entry(a, a.room_id, clock, therapists.get(a.therapist_id, a.therapist_id))
                for a in diary.appointments]
    return ([appointment_entry(a, a.therapist_id, clock, rooms.get(a.room_id, a.room_id)) for a in diary.appointments]
            + [blocked_entry(t, clock, therapists.get(t.therapist_id, t.therapist_id)) for t in diary.time_off])


def day_context(day: date, by: str, clock: SpaClock, diary: Diary) -> Dict[str, Any]:
    """Everything day.html shows apart from the forms' values."""
    bounds = clock.day_bounds(day)
    opening = clock.opening(day)
    entries = day_entries(diary, by, clock)
    columns = day_columns(diary, by, entries)
    shown = {column["id"] for column in columns}
    entries = [entry for entry in entries if entry.column in shown]
    span = grid_span(opening[0] if opening else bounds[0], opening, entries, bounds)
    instants = row_instants(*span) if span and columns else []
    hours = diary.hours

    def working(column: str, moment: datetime) -> bool:
        return by == BY_ROOM or works_at(hours.get(column, ()), clock.local(moment))

    rows = build_rows(instants, clock.row_labels(instants), [c["id"] for c in columns], entries, working)
    title = day_title(day)
    return {
        "day": day.isoformat(), "title": title, "by": by, "columns": columns, "rows": rows,
        "caption": f"{'Rooms' if by == BY_ROOM else 'Therapists'} on {title}",
        "closed": opening is None,
        "hours": clock.span_text(*opening) if opening else "",
        "previous_url": day_url(day - timedelta(days=1), by), "next_url": day_url(day + timedelta(days=1), by),
        "previous_title": day_title(day - timedelta(days=1)), "next_title": day_title(day + timedelta(days=1)),
        "therapist_url": day_url(day, BY_THERAPIST), "room_url": day_url(day, BY_ROOM),
        "therapists": [{"id": t.id, "name": t.name} for t in diary.therapists if t.active],
        "has_therapists": bool(diary.therapists), "has_rooms": bool(diary.rooms),
    }


def appointment_context(appointment: Appointment, clock: SpaClock, therapists: Sequence[Therapist],
                        rooms: Mapping[str, str]) -> Dict[str, Any]:
    """Everything appointment.html shows of one appointment (never health details: those stay
    with the booking request it came from)."""
    names = {t.id: t.name for t in therapists}
    service_ends = appointment.starts_at + timedelta(minutes=appointment.minutes)
    busy_minutes = int((appointment.ends_at - appointment.starts_at) / timedelta(minutes=1))
    local = clock.local(appointment.starts_at)
    return {
        "code": appointment.code, "service": service_name(appointment), "minutes": appointment.minutes,
        "buffer": busy_minutes - appointment.minutes, "when": clock.describe(appointment.starts_at),
        "until": clock.clock_text(service_ends), "free_at": clock.clock_text(appointment.ends_at),
        "therapist": names.get(appointment.therapist_id, appointment.therapist_id),
        "room": rooms.get(appointment.room_id, appointment.room_id),
        "status": appointment.status, "status_label": STATUS_LABELS.get(appointment.status, appointment.status),
        "hold_until": clock.clock_text(appointment.hold_expires_at)
        if appointment.status == "held" and appointment.hold_expires_at else "",
        "name": appointment.name or "", "phone": appointment.phone or "", "email": appointment.email or "",
        "channel": appointment.channel, "booking_request": appointment.booking_request or "",
        "day_url": day_url(local.date()), "day_title": day_title(local.date()),
        "movable": appointment.status in LIVE_STATUSES,
        "confirmed": appointment.status == "confirmed",
        "therapists": [{"id": t.id, "name": t.name} for t in therapists
                       if t.active or t.id == appointment.therapist_id],
    }


def move_defaults(appointment: Appointment, clock: SpaClock) -> Dict[str, str]:
    local = clock.local(appointment.starts_at)
    return {"date": local.date().isoformat(), "time": f"{local:%H:%M}", "therapist": appointment.therapist_id}


# --- reading the forms --------------------------------------------------------------------------


def form_values(request: Request, names: Sequence[str]) -> Dict[str, str]:
    return {name: (request.form.get(name) or "").strip() for name in names}


def read_block(form: Mapping[str, str], day: date, clock: SpaClock,
               therapist_ids: Sequence[str]) -> Tuple[Optional[Tuple[datetime, datetime]], Dict[str, str]]:
    """The stretch to block, or what is wrong with the form, field by field."""
    errors: Dict[str, str] = {}
    if form.get("therapist") not in therapist_ids:
        errors["therapist"] = "Choose whose time to block."
    start, end = read_clock(form.get("start")), read_clock(form.get("end"))
    starts_at = clock.instant(day, start) if start else None
    ends_at = clock.instant(day, end) if end else None
    if start is None:
        errors["start"] = "Enter the start time, for example 12:30."
    elif starts_at is None:
        errors["start"] = "That time does not exist on this day: the clocks change then."
    if end is None:
        errors["end"] = "Enter the end time, for example 13:30."
    elif ends_at is None:
        errors["end"] = "That time does not exist on this day: the clocks change then."
    elif starts_at is not None and ends_at <= starts_at:
        errors["end"] = "The end time must be after the start time, on the same day."
    if len(form.get("reason", "")) > MAX_REASON:
        errors["reason"] = f"Keep the reason to {MAX_REASON} characters or fewer."
    if errors or starts_at is None or ends_at is None:
        return None, errors
    return (starts_at, ends_at), {}


def read_move(form: Mapping[str, str], clock: SpaClock, therapist_ids: Sequence[str],
              now: datetime) -> Tuple[Optional[datetime], Dict[str, str]]:
    """The new start, or what is wrong with the form, field by field. A time in the past is
    refused: the client would be told of a time that has gone."""
    errors: Dict[str, str] = {}
    day, clock_time = read_date(form.get("date")), read_clock(form.get("time"))
    if form.get("therapist") not in therapist_ids:
        errors["therapist"] = "Choose a therapist."
    if day is None:
        errors["date"] = "Enter the date, for example 2027-03-02."
    if clock_time is None:
        errors["time"] = "Enter the time, for example 14:30."
    if day is None or clock_time is None:
        return None, errors
    new_start = clock.instant(day, clock_time)
    if new_start is None:
        errors["time"] = "That time does not exist on that day: the clocks change then."
    elif new_start <= now:
        errors["time"] = "That time has already passed. Choose a time to come."
    return (None if errors else new_start), errors


def why_not(outcome: str, appointment: Appointment, clock: SpaClock, now: datetime) -> str:
    """Why the store refused a status change, in reception's words."""
    status = STATUS_LABELS.get(appointment.status, appointment.status)
    if outcome == "cancelled":
        return f"This appointment is {status}, so it cannot be cancelled any more."
    what = "a no-show" if outcome == "no_show" else "done"
    if appointment.status != "confirmed":
        return f"Only a confirmed appointment can be marked as {what}; this one is {status}."
    if appointment.starts_at > now:
        return (f"It cannot be marked as {what} before it begins "
                f"({clock.describe(appointment.starts_at)}).")
    return f"It cannot be marked as {what} now. Reload the page to see where it stands."


# --- the handlers -------------------------------------------------------------------------------


class DiaryPages:
    def __init__(self, page: StaffPage) -> None:
        self.page = page

    @property
    def url(self) -> Optional[str]:
        return self.page.database_url

    async def settings(self) -> Tuple[Dict[str, str], Optional[SpaClock]]:
        """The spa's settings, and its clock when the opening hours and time zone can be read."""
        spa = await self.page.spa()
        try:
            return spa, SpaClock.from_settings(spa)
        except ValueError as problem:
            logger.error("Day view: %s", problem)
            return spa, None

    def no_clock(self, session: Any) -> HTTPResponse:
        return self.page.message("Opening hours needed", "The diary places every time on the spa's own clock, so it "
                                 "needs the spa's opening hours and time zone. The owner sets them on the Content "
                                 "page.", 503, session)

    def not_found(self, session: Any) -> HTTPResponse:
        return self.page.message("Not found", "There is no appointment with that code.", 404, session)

    async def find(self, code: str) -> Optional[Appointment]:
        if not CODE.match(code or ""):
            return None
        return await in_thread(appointment_store.get, code, url=self.url)

    # -- the day view ------------------------------------------------------------------------

    async def day(self, request: Request) -> HTTPResponse:
        session = self.page.staff_session(request)
        if isinstance(session, HTTPResponse):
            return session
        spa, clock = await self.settings()
        if clock is None:
            return self.no_clock(session)
        asked = request.args.get("date")
        day = read_date(asked) or clock.today()
        by = request.args.get("by") if request.args.get("by") in (BY_THERAPIST, BY_ROOM) else BY_THERAPIST
        notice = DAY_CONFIRMATIONS.get(request.args.get("changed") or "", "")
        return await self.show_day(session, spa, clock, day, by, notice=notice,
                                   unreadable_date=bool(asked) and read_date(asked) is None)

    async def show_day(self, session: Any, spa: Mapping[str, str], clock: SpaClock, day: date, by: str,
                       form: Optional[Mapping[str, str]] = None, errors: Optional[Mapping[str, str]] = None,
                       status: int = 200, notice: str = "", unreadable_date: bool = False) -> HTTPResponse:
        diary = await in_thread(read_diary, *clock.day_bounds(day), self.url)
        context = day_context(day, by, clock, diary)
        body = render.render("day.html", session=session, spa=render.spa_details(spa), notice=notice,
                             unreadable_date=unreadable_date, form=form or {}, errors=errors or {}, **context)
        return html(body, status=status)

    async def block(self, request: Request) -> HTTPResponse:
        session = await self.page.staff_post(request)
        if isinstance(session, HTTPResponse):
            return session
        spa, clock = await self.settings()
        if clock is None:
            return self.no_clock(session)
        form = form_values(request, ("date", "by", "therapist", "start", "end", "reason"))
        by = form["by"] if form["by"] in (BY_THERAPIST, BY_ROOM) else BY_THERAPIST
        day = read_date(form["date"])
        if day is None:
            return self.page.message("Day missing", "The form did not say which day to block. Go back, reload "
                                     "the day view and try again.", 400, session)
        therapists, _ = await in_thread(read_team, self.url)
        stretch, errors = read_block(form, day, clock, [t.id for t in therapists])
        if stretch is None:
            return await self.show_day(session, spa, clock, day, by, form=form, errors=errors, status=400)
        await in_thread(add_time_off, form["therapist"], *stretch, form["reason"] or None, self.url)
        logger.info("Day view: time blocked for therapist %s.", form["therapist"])
        return response.redirect(day_url(day, by, changed="blocked"), status=303)

    async def free(self, request: Request, block_id: int) -> HTTPResponse:
        session = await self.page.staff_post(request)
        if isinstance(session, HTTPResponse):
            return session
        spa, clock = await self.settings()
        if clock is None:
            return self.no_clock(session)
        started = await in_thread(remove_time_off, block_id, self.url)
        if started is None:
            return self.page.message("Already free", "That blocked time has been freed already.", 404, session)
        logger.info("Day view: blocked time %d freed.", block_id)
        by = request.form.get("by") if request.form.get("by") in (BY_THERAPIST, BY_ROOM) else BY_THERAPIST
        day = read_date(request.form.get("date")) or clock.local(started).date()
        return response.redirect(day_url(day, by, changed="freed"), status=303)

    # -- one appointment ---------------------------------------------------------------------

    async def appointment(self, request: Request, code: str) -> HTTPResponse:
        session = self.page.staff_session(request)
        if isinstance(session, HTTPResponse):
            return session
        found = await self.find(code)
        if found is None:
            return self.not_found(session)
        spa, clock = await self.settings()
        if clock is None:
            return self.no_clock(session)
        notice = APPOINTMENT_CONFIRMATIONS.get(request.args.get("changed") or "", "")
        return await self.show_appointment(session, spa, clock, found, notice=notice)

    async def show_appointment(self, session: Any, spa: Mapping[str, str], clock: SpaClock,
                               appointment: Appointment, form: Optional[Mapping[str, str]] = None,
                               errors: Optional[Mapping[str, str]] = None, problem: str = "",
                               status: int = 200, notice: str = "") -> HTTPResponse:
        therapists, rooms = await in_thread(read_team, self.url)
        body = render.render("appointment.html", session=session, spa=render.spa_details(spa),
                             a=appointment_context(appointment, clock, therapists, rooms),
                             form=form or move_defaults(appointment, clock), errors=errors or {},
                             problem=problem, notice=notice)
        return html(body, status=status)

    async def appointment_post(self, request: Request, code: str) -> Union[HTTPResponse, Tuple[Any, Appointment,
                                                                                             Dict[str, str], SpaClock]]:
        """A form post about one appointment: the session, the appointment, the spa's settings and
        clock, or the response (login, CSRF refused, not found, no opening hours) to send instead."""
        session = await self.page.staff_post(request)
        if isinstance(session, HTTPResponse):
            return session
        appointment = await self.find(code)
        if appointment is None:
            return self.not_found(session)
        spa, clock = await self.settings()
        if clock is None:
            return self.no_clock(session)
        return session, appointment, spa, clock

    async def move(self, request: Request, code: str) -> HTTPResponse:
        posted = await self.appointment_post(request, code)
        if isinstance(posted, HTTPResponse):
            return posted
        session, appointment, spa, clock = posted
        form = form_values(request, ("date", "time", "therapist"))
        therapists, _ = await in_thread(read_team, self.url)
        allowed = [t.id for t in therapists if t.active or t.id == appointment.therapist_id]
        new_start, errors = read_move(form, clock, allowed, appointment_store.utcnow())
        if new_start is None:
            return await self.show_appointment(session, spa, clock, appointment, form, errors, status=400)
        wrong = await in_thread(move_misfit, appointment, new_start, form["therapist"],
                                opening_hours_from_settings(spa), spa, self.url)
        if wrong is not None and wrong.reason not in (availability.THERAPIST_BUSY, availability.ROOM_BUSY):
            return await self.show_appointment(session, spa, clock, appointment, form,
                                               {"time": f"That time does not work: {wrong.detail}."}, status=409)
        try:
            moved = await in_thread(appointment_store.move, appointment.code, new_start,
                                    therapist_id=form["therapist"], url=self.url)
        except SlotTaken:
            name = next((t.name for t in therapists if t.id == form["therapist"]), "the therapist")
            return await self.show_appointment(session, spa, clock, appointment, form,
                                               {"time": f"That time is taken for {name} or the room."}, status=409)
        except HoldExpired:
            current = await self.find(code) or appointment
            return await self.show_appointment(session, spa, clock, current, problem=(
                "This hold ran out before it was confirmed, so its time is free again. Book a new time "
                "with the client."), status=409)
        except InvalidTransition:
            status = STATUS_LABELS.get(appointment.status, appointment.status)
            return await self.show_appointment(session, spa, clock, appointment, form, problem=(
                f"This appointment is {status}, so it cannot be moved."), status=409)
        except LookupError:
            return self.not_found(session)
        if (moved.starts_at, moved.therapist_id) == (appointment.starts_at, appointment.therapist_id):
            return response.redirect(f"{APPOINTMENTS_URL}/{moved.code}", status=303)
        tell_client("moved", moved, previous_start=appointment.starts_at)
        logger.info("Staff moved appointment %s.", moved.code)
        return response.redirect(f"{APPOINTMENTS_URL}/{moved.code}?changed=moved", status=303)

    async def cancel(self, request: Request, code: str) -> HTTPResponse:
        return await self.change_status(request, code, "cancelled", appointment_store.cancel)

    async def no_show(self, request: Request, code: str) -> HTTPResponse:
        return await self.change_status(request, code, "no_show", appointment_store.mark_no_show)

    async def done(self, request: Request, code: str) -> HTTPResponse:
        return await self.change_status(request, code, "done", appointment_store.mark_done)

    async def change_status(self, request: Request, code: str, outcome: str,
                            operation: Callable[..., Appointment]) -> HTTPResponse:
        """Cancel, no-show or done; a refusal is explained on the appointment's page."""
        posted = await self.appointment_post(request, code)
        if isinstance(posted, HTTPResponse):
            return posted
        session, appointment, spa, clock = posted
        try:
            changed = await in_thread(operation, appointment.code, url=self.url)
        except InvalidTransition:
            problem = why_not(outcome, appointment, clock, appointment_store.utcnow())
            return await self.show_appointment(session, spa, clock, appointment, problem=problem, status=409)
        except LookupError:
            return self.not_found(session)
        if outcome == "cancelled" and appointment.status != "cancelled":
            tell_client("cancelled", changed)
        logger.info("Staff changed appointment %s to %s.", changed.code, changed.status)
        return response.redirect(f"{APPOINTMENTS_URL}/{changed.code}?changed={outcome}", status=303)
