"""Which start times the spa can offer: its hours, each therapist's week, the rooms and what is
already booked, worked out as arithmetic on intervals.

Why pure (no I/O, no Rasa, no database): the booking form asks "what can I offer?", the store asks
"does this still fit?" just before it writes, and the benchmark asks both thousands of times; all
three must get the same answer from the same values. The store reads its rows, builds these
values and asks; what is decided here is unit-tested without a server.

Why intervals: per therapist and day the free time is working hours minus breaks, time off and
what is booked (each appointment's end includes its buffer). That gives a handful of ranges of
allowed start times; intersected with the ranges in which a room of the right kind is free, they
are read off the start-time grid directly, never minute by minute. Finding the next free times
for 20 therapists and 8 rooms over 60 days takes a few milliseconds (bench/availability.py).

Time, and daylight saving. Instants are compared as whole seconds since the epoch (UTC); hours,
breaks, closed dates and days off are wall-clock times at the spa, read in its IANA zone with
zoneinfo. The rule that keeps 23-hour and 25-hour days honest:
- A wall-clock boundary (opening, closing, a shift, a break, the edge of a day) is the first
  moment the spa's clocks show that time or later. A boundary in the hour the clocks skip is the
  moment they jump; a boundary in the hour they repeat is its first occurrence. "9 to 5" is eight
  hours every day; a shift over the change is an hour shorter or longer.
- Start times are wall-clock times on the grid (whole multiples of the granularity since local
  midnight: 9:00, 9:15, ...), each offered once: a time the clocks skip is never offered, a time
  they show twice only at its first occurrence. Slots come back as aware datetimes in the spa's
  zone, so 1:30 EDT and 1:30 EST are never confused.
- Lengths are real elapsed minutes: a 60-minute session from 1:30 am on a spring-forward night
  ends at 3:30 am.

What a slot needs: the session (without its buffer) lies within the spa's opening hours and one
of the therapist's shifts on that date; the session and its buffer touch no break, time off or
booked time of the therapist, nor booked time of the room; the therapist does the technique and
holds every required certification; the start is on the grid and at least the notice period
after `now`. The buffer may run past closing time: tidying up after the last client is normal.

Rooms: one `Room` per physical room; "how many of a kind" is how many rooms share the `kind`, so
the database can refuse two appointments in one room at once. A couples session needing two
therapists side by side is outside this module: book its two halves in the same room.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union
from zoneinfo import ZoneInfo

from bot.booking.when import OpeningHours

Range = Tuple[int, int]  # [start, end) in seconds since the epoch, or allowed starts [lo, hi]

DAY_MINUTES = 24 * 60

# Why a proposed appointment does not fit (Misfit.reason), in the order they are checked.
UNKNOWN_THERAPIST = "unknown_therapist"
UNKNOWN_ROOM = "unknown_room"
TECHNIQUE = "technique"
CERTIFICATION = "certification"
ROOM_KIND = "room_kind"
TOO_SOON = "too_soon"
OFF_GRID = "off_grid"
SPA_CLOSED = "spa_closed"
OUTSIDE_OPENING_HOURS = "outside_opening_hours"
THERAPIST_OFF = "therapist_off"
BREAK = "break"
TIME_OFF = "time_off"
THERAPIST_BUSY = "therapist_busy"
ROOM_BUSY = "room_busy"


# --- the spa's values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """One stretch of a therapist's week on one weekday (0 = Monday), in spa wall time. Two
    stretches on a day leave a break between them; an end of 00:00 is midnight at the day's end."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Break:
    """A recurring pause (lunch 13:00-13:30) on the given weekdays, in spa wall time."""

    weekdays: FrozenSet[int]
    start: time
    end: time


@dataclass(frozen=True)
class TimeOff:
    """Time a therapist is away: either whole days (two dates, both included, on the spa's
    calendar) or an exact stretch (two aware datetimes, end excluded), as the store keeps it."""

    start: Union[date, datetime]
    end: Union[date, datetime]


@dataclass(frozen=True)
class Therapist:
    """Who can be booked, for what, and when they work. `gender` is whatever the spa records
    (compared case-insensitively), for "a woman therapist please"."""

    id: str
    name: str
    techniques: FrozenSet[str]
    shifts: Tuple[Shift, ...]
    certifications: FrozenSet[str] = frozenset()
    gender: Optional[str] = None
    breaks: Tuple[Break, ...] = ()
    time_off: Tuple[TimeOff, ...] = ()


@dataclass(frozen=True)
class Room:
    """One physical room. `kind` matches `Service.room_kind` ("single", "couples")."""

    id: str
    kind: str


@dataclass(frozen=True)
class Service:
    """What is booked: a technique for `minutes`, then `buffer_minutes` to turn the room."""

    id: str
    technique: str
    minutes: int
    buffer_minutes: int = 0
    price: Decimal = Decimal(0)
    room_kind: str = "single"


@dataclass(frozen=True)
class Spa:
    """Everything about the spa that changes slowly: hours, zone, holidays, team and rooms."""

    hours: OpeningHours
    therapists: Tuple[Therapist, ...]
    rooms: Tuple[Room, ...]
    closed_dates: FrozenSet[date] = frozenset()

    @cached_property
    def _plan(self) -> "_SpaPlan":
        return _SpaPlan.of(self)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.hours.timezone)


@dataclass(frozen=True)
class Booked:
    """Time already taken: a confirmed appointment, a hold, or staff blocking a therapist or a
    room (either id may be None). `end` includes the buffer after the service."""

    therapist_id: Optional[str]
    room_id: Optional[str]
    start: datetime
    end: datetime


class Diary:
    """What is booked, per therapist and per room, as sorted, merged ranges. Build it once per
    read of the appointments (`Diary.of`) and ask it many questions."""

    def __init__(self, by_therapist: Mapping[str, List[Range]], by_room: Mapping[str, List[Range]]) -> None:
        self._therapists = {key: _Ranges(value) for key, value in by_therapist.items()}
        self._rooms = {key: _Ranges(value) for key, value in by_room.items()}

    @classmethod
    def of(cls, booked: Iterable[Booked]) -> "Diary":
        by_therapist: Dict[str, List[Range]] = {}
        by_room: Dict[str, List[Range]] = {}
        for item in booked:
            span = (_seconds(item.start), _seconds(item.end))
            if span[1] <= span[0]:
                continue
            if item.therapist_id is not None:
                by_therapist.setdefault(item.therapist_id, []).append(span)
            if item.room_id is not None:
                by_room.setdefault(item.room_id, []).append(span)
        return cls(by_therapist, by_room)

    def therapist(self, therapist_id: str) -> "_Ranges":
        return self._therapists.get(therapist_id, _EMPTY)

    def room(self, room_id: str) -> "_Ranges":
        return self._rooms.get(room_id, _EMPTY)


# --- asking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What the person asked for, already read into plain values.

    The window: starts at or after `earliest` and at or before `latest` (aware datetimes), on
    `weekdays` only, and between the wall-clock times `between` (end excluded; an end of 00:00 is
    midnight): "Saturday morning" is weekdays={5}, between=(9:00, 12:00); "after work on Thursday"
    is that Thursday as earliest/latest and between=(17:00, 00:00). The search looks at the
    `horizon_days` calendar days from today (today included) and offers nothing within
    `notice_minutes` of `now`.

    Who: `certifications` the intake requires (pregnancy -> {"prenatal"}), and optionally one
    therapist (`therapist_id`, "with Maria") or a gender ("a woman therapist"). Both are strict:
    ask again without them to offer someone else.

    How many and how spread: up to `count` options, distinct start times. Each day gives at most
    `per_day` of them, at least `min_gap_minutes` apart (default: the session's length), so five
    options are not five quarter-hours of one morning; when the whole horizon gives fewer, the
    gap is kept but the daily cap dropped, then every remaining time is used, earliest first.
    """

    service: Service
    now: datetime
    earliest: Optional[datetime] = None
    latest: Optional[datetime] = None
    weekdays: Optional[FrozenSet[int]] = None
    between: Optional[Tuple[time, time]] = None
    certifications: FrozenSet[str] = frozenset()
    therapist_id: Optional[str] = None
    gender: Optional[str] = None
    granularity_minutes: int = 15
    count: int = 5
    notice_minutes: int = 120
    horizon_days: int = 14
    per_day: Optional[int] = 2
    min_gap_minutes: Optional[int] = None


@dataclass(frozen=True)
class Slot:
    """One time that can be offered: the session runs from `start` to `end` (aware, spa zone);
    therapist and room are taken until `busy_until` (the end plus the buffer), which is the
    `end` to store."""

    start: datetime
    end: datetime
    busy_until: datetime
    therapist_id: str
    room_id: str


@dataclass(frozen=True)
class Proposal:
    """An appointment about to be written, to check against everything else."""

    service: Service
    start: datetime
    therapist_id: str
    room_id: str
    certifications: FrozenSet[str] = frozenset()


@dataclass(frozen=True)
class Misfit:
    """Why a proposal does not fit: `reason` is one of the module's constants, `detail` says it
    in words for the log or the staff page."""

    reason: str
    detail: str


def find_slots(spa: Spa, booked: Union[Diary, Iterable[Booked]], request: Request) -> List[Slot]:
    """The next times that can be offered for `request`, sorted, spread over days and therapists
    (see Request). An empty list means nothing fits within the horizon: say so, and offer the
    waiting list."""
    diary = booked if isinstance(booked, Diary) else Diary.of(booked)
    search = _Search.of(spa, diary, request)
    if search is None:
        return []
    return search.run()


def check_slot(
    spa: Spa,
    booked: Union[Diary, Iterable[Booked]],
    proposal: Proposal,
    now: Optional[datetime] = None,
    notice_minutes: int = 0,
    granularity_minutes: Optional[int] = None,
) -> Optional[Misfit]:
    """None when `proposal` fits, else the first reason it does not, so the store can refuse a
    write that was offered a moment ago and taken since, or a time staff typed by hand. `now`
    and the notice apply when given; so does the grid (staff may book off it)."""
    diary = booked if isinstance(booked, Diary) else Diary.of(booked)
    plan = spa._plan
    service = proposal.service
    therapist = plan.therapists.get(proposal.therapist_id)
    room = plan.rooms.get(proposal.room_id)
    if therapist is None:
        return Misfit(UNKNOWN_THERAPIST, f"no therapist {proposal.therapist_id!r}")
    if room is None:
        return Misfit(UNKNOWN_ROOM, f"no room {proposal.room_id!r}")
    misfit = _check_fitness(therapist.therapist, room, service, proposal.certifications)
    if misfit is not None:
        return misfit
    start = _seconds(proposal.start)
    end = start + service.minutes * 60
    busy_until = end + service.buffer_minutes * 60
    if now is not None and start < _seconds(now) + notice_minutes * 60:
        return Misfit(TOO_SOON, f"starts less than {notice_minutes} minutes from now")
    wall = _wall(plan.zone, start)
    if granularity_minutes is not None and not _on_grid(plan.zone, start, wall, granularity_minutes):
        return Misfit(OFF_GRID, f"{wall:%H:%M} is not on the {granularity_minutes}-minute grid")
    day = _day(plan.zone, wall.date())
    opening = plan.opening(day)
    if opening is None:
        return Misfit(SPA_CLOSED, f"the spa is closed on {wall:%A %Y-%m-%d}")
    if not (opening[0] <= start and end <= opening[1]):
        return Misfit(OUTSIDE_OPENING_HOURS, "the session is not within the opening hours")
    if not any(lo <= start and end <= hi for lo, hi in therapist.shifts_on(day)):
        return Misfit(THERAPIST_OFF, f"{therapist.therapist.name} is not working then")
    if any(_overlaps(span, start, busy_until) for span in therapist.breaks_around(day, busy_until)):
        return Misfit(BREAK, f"{therapist.therapist.name} is on a break then")
    if therapist.time_off.overlaps(start, busy_until):
        return Misfit(TIME_OFF, f"{therapist.therapist.name} is off then")
    if diary.therapist(therapist.therapist.id).overlaps(start, busy_until):
        return Misfit(THERAPIST_BUSY, f"{therapist.therapist.name} is booked then")
    if diary.room(room.id).overlaps(start, busy_until):
        return Misfit(ROOM_BUSY, f"room {room.id} is taken then")
    return None


def shifts(weekdays: Iterable[int], start: time, end: time) -> Tuple[Shift, ...]:
    """The same stretch on several weekdays, the usual way a week is written."""
    return tuple(Shift(weekday, start, end) for weekday in sorted(weekdays))


def therapists_for(spa: Spa, service: Service, certifications: FrozenSet[str] = frozenset(),
                   therapist_id: Optional[str] = None, gender: Optional[str] = None) -> List[Therapist]:
    """Who could do this at all, whatever the time: to say "only Maria is trained for that"
    before looking for times."""
    return [
        entry.therapist for entry in spa._plan.ordered
        if _check_fitness(entry.therapist, None, service, certifications) is None
        and (therapist_id is None or entry.therapist.id == therapist_id)
        and (gender is None or (entry.therapist.gender or "").lower() == gender.lower())
    ]


# --- wall clock and daylight saving -------------------------------------------------------------


def _seconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"an aware datetime is needed, not the naive {moment.isoformat()}")
    return int(moment.timestamp())


def _wall(zone: ZoneInfo, seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, zone).replace(tzinfo=None)


@lru_cache(maxsize=4096)
def _first_showing(zone: ZoneInfo, wall: datetime) -> int:
    """The first moment the spa's clocks show `wall` or later (the module's boundary rule)."""
    first = int(wall.replace(tzinfo=zone, fold=0).timestamp())
    if _wall(zone, first) == wall:
        return first
    other = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    low, high = min(first, other), max(first, other)
    while low < high:
        middle = (low + high) // 2
        if _wall(zone, middle) >= wall:
            high = middle
        else:
            low = middle + 1
    return low


def _on_grid(zone: ZoneInfo, seconds: int, wall: datetime, granularity: int) -> bool:
    minute = wall.hour * 60 + wall.minute
    return (wall.second == 0 and minute % granularity == 0
            and int(wall.replace(tzinfo=zone, fold=0).timestamp()) == seconds)


@dataclass(frozen=True)
class _Day:
    """One calendar date at the spa: where it starts and ends in UTC, and whether its clocks run
    straight (no change that day), when wall minutes are plain arithmetic."""

    zone: ZoneInfo
    date: date
    start: int
    end: int
    regular: bool

    def at(self, minute: int) -> int:
        """The boundary rule for a wall-clock minute of this date (1440 is the next midnight)."""
        if self.regular:
            return self.start + minute * 60
        if minute >= DAY_MINUTES:
            return self.end
        return _first_showing(self.zone, datetime.combine(self.date, time()) + timedelta(minutes=minute))


def _offset(zone: ZoneInfo, seconds: int) -> Optional[timedelta]:
    return datetime.fromtimestamp(seconds, zone).utcoffset()


@lru_cache(maxsize=8192)
def _day(zone: ZoneInfo, on: date) -> _Day:
    start = _first_showing(zone, datetime.combine(on, time()))
    end = _first_showing(zone, datetime.combine(on + timedelta(days=1), time()))
    regular = end - start == DAY_MINUTES * 60 and _offset(zone, start) == _offset(zone, end - 1)
    return _Day(zone, on, start, end, regular)


class _Grid:
    """The start times of one date: wall-clock multiples of the granularity that exist, at their
    first occurrence."""

    def __init__(self, day: _Day, granularity: int) -> None:
        self.step = granularity * 60
        self.day = day
        self.points: Optional[List[int]] = None if day.regular else _irregular_points(day, granularity)

    def ceil(self, seconds: int) -> Optional[int]:
        """The first start time at or after `seconds` on this date, if any."""
        if self.points is not None:
            index = bisect_left(self.points, seconds)
            return self.points[index] if index < len(self.points) else None
        start = self.day.start
        if seconds <= start:
            return start
        point = start + -(-(seconds - start) // self.step) * self.step
        return point if point < self.day.end else None


@lru_cache(maxsize=256)
def _irregular_points(day: _Day, granularity: int) -> List[int]:
    midnight = datetime.combine(day.date, time())
    points = []
    for minute in range(0, DAY_MINUTES, granularity):
        wall = midnight + timedelta(minutes=minute)
        seconds = int(wall.replace(tzinfo=day.zone, fold=0).timestamp())
        if _wall(day.zone, seconds) == wall:
            points.append(seconds)
    return points


# --- interval arithmetic ------------------------------------------------------------------------


class _Ranges:
    """Sorted, merged half-open ranges, with the lookups the search needs."""

    def __init__(self, spans: Iterable[Range]) -> None:
        merged = _merge(spans)
        self.starts = [span[0] for span in merged]
        self.ends = [span[1] for span in merged]

    def within(self, start: int, end: int) -> Iterator[Range]:
        """The ranges that overlap [start, end)."""
        index = bisect_right(self.ends, start)
        while index < len(self.starts) and self.starts[index] < end:
            yield self.starts[index], self.ends[index]
            index += 1

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect_right(self.ends, start)
        return index < len(self.starts) and self.starts[index] < end


def _merge(spans: Iterable[Range]) -> List[Range]:
    merged: List[List[int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


_EMPTY = _Ranges(())


def _overlaps(span: Range, start: int, end: int) -> bool:
    return span[0] < end and start < span[1]


def _start_ranges(window: Range, blocked: Iterable[Range], minutes: int, buffer: int) -> List[Range]:
    """The allowed starts [lo, hi] for a session of `minutes` inside `window`, whose session and
    buffer miss every blocked range (sorted and merged). The buffer may pass the window's end."""
    open_at, close_at = window
    length, tail = minutes * 60, (minutes + buffer) * 60
    limit = close_at + buffer * 60
    ranges: List[Range] = []
    cursor = open_at
    for block_start, block_end in blocked:
        if block_end <= cursor:
            continue
        if block_start > cursor:
            _add_gap(ranges, cursor, min(block_start, limit), close_at, length, tail)
        cursor = max(cursor, block_end)
        if cursor >= limit:
            return ranges
    _add_gap(ranges, cursor, limit, close_at, length, tail)
    return ranges


def _add_gap(ranges: List[Range], gap_start: int, gap_end: int, close_at: int, length: int, tail: int) -> None:
    last = min(gap_end - tail, close_at - length)
    if gap_start <= last:
        ranges.append((gap_start, last))


def _union(ranges: Iterable[Range]) -> List[Range]:
    """Merge closed ranges of allowed starts."""
    merged: List[List[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _intersect(left: Sequence[Range], right: Sequence[Range]) -> List[Range]:
    """Intersect two sorted lists of closed ranges."""
    result: List[Range] = []
    i = j = 0
    while i < len(left) and j < len(right):
        lo, hi = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if lo <= hi:
            result.append((lo, hi))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return result


def _contains(ranges: Sequence[Range], point: int) -> bool:
    index = bisect_right(ranges, (point, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= point <= ranges[index][1]


# --- the spa, prepared --------------------------------------------------------------------------


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _end_minutes(value: time) -> int:
    return DAY_MINUTES if value == time(0) else _minutes(value)


@dataclass(frozen=True)
class _TherapistPlan:
    therapist: Therapist
    order: int
    shifts: Mapping[int, Tuple[Tuple[int, int], ...]]  # weekday -> merged wall-minute stretches
    breaks: Mapping[int, Tuple[Tuple[int, int], ...]]
    time_off: _Ranges = field(compare=False)

    @classmethod
    def of(cls, therapist: Therapist, order: int, zone: ZoneInfo) -> "_TherapistPlan":
        shifts: Dict[int, List[Tuple[int, int]]] = {}
        for shift in therapist.shifts:
            shifts.setdefault(shift.weekday, []).append((_minutes(shift.start), _end_minutes(shift.end)))
        breaks: Dict[int, List[Tuple[int, int]]] = {}
        for pause in therapist.breaks:
            for weekday in pause.weekdays:
                breaks.setdefault(weekday, []).append((_minutes(pause.start), _end_minutes(pause.end)))
        return cls(
            therapist, order,
            {day: tuple(_merge(spans)) for day, spans in shifts.items()},
            {day: tuple(_merge(spans)) for day, spans in breaks.items()},
            _Ranges(_time_off_span(zone, entry) for entry in therapist.time_off),
        )

    def shifts_on(self, day: _Day) -> List[Range]:
        return [(day.at(start), day.at(end)) for start, end in self.shifts.get(day.date.weekday(), ())]

    def breaks_on(self, day: _Day) -> List[Range]:
        return [(day.at(start), day.at(end)) for start, end in self.breaks.get(day.date.weekday(), ())]

    def breaks_around(self, day: _Day, until: int) -> List[Range]:
        """The day's breaks, and the next day's when a buffer runs past midnight into them."""
        breaks = self.breaks_on(day)
        if until > day.end:
            breaks += self.breaks_on(_day(day.zone, day.date + timedelta(days=1)))
        return breaks


def _time_off_span(zone: ZoneInfo, entry: TimeOff) -> Range:
    if isinstance(entry.start, datetime) and isinstance(entry.end, datetime):
        return _seconds(entry.start), _seconds(entry.end)
    if isinstance(entry.start, datetime) or isinstance(entry.end, datetime):
        raise ValueError("time off is two dates or two datetimes, not one of each")
    return _day(zone, entry.start).start, _day(zone, entry.end).end


@dataclass(frozen=True)
class _SpaPlan:
    zone: ZoneInfo
    opening_minutes: Mapping[int, Tuple[int, int]]
    closed_dates: FrozenSet[date]
    ordered: Tuple[_TherapistPlan, ...]
    therapists: Mapping[str, _TherapistPlan]
    rooms: Mapping[str, Room]
    rooms_by_kind: Mapping[str, Tuple[Room, ...]]

    @classmethod
    def of(cls, spa: Spa) -> "_SpaPlan":
        zone = ZoneInfo(spa.hours.timezone)
        ordered = tuple(_TherapistPlan.of(therapist, index, zone) for index, therapist in enumerate(spa.therapists))
        kinds: Dict[str, List[Room]] = {}
        for room in spa.rooms:
            kinds.setdefault(room.kind, []).append(room)
        return cls(
            zone,
            {day: (_minutes(opens), _end_minutes(closes)) for day, (opens, closes) in spa.hours.days.items()},
            frozenset(spa.closed_dates),
            ordered,
            {entry.therapist.id: entry for entry in ordered},
            {room.id: room for room in spa.rooms},
            {kind: tuple(rooms) for kind, rooms in kinds.items()},
        )

    def opening(self, day: _Day) -> Optional[Range]:
        if day.date in self.closed_dates:
            return None
        window = self.opening_minutes.get(day.date.weekday())
        return None if window is None else (day.at(window[0]), day.at(window[1]))


def _check_fitness(therapist: Therapist, room: Optional[Room], service: Service,
                   certifications: FrozenSet[str]) -> Optional[Misfit]:
    if service.technique not in therapist.techniques:
        return Misfit(TECHNIQUE, f"{therapist.name} does not do {service.technique}")
    missing = sorted(set(certifications) - set(therapist.certifications))
    if missing:
        return Misfit(CERTIFICATION, f"{therapist.name} is not certified for {', '.join(missing)}")
    if room is not None and room.kind != service.room_kind:
        return Misfit(ROOM_KIND, f"room {room.id} is a {room.kind} room, not {service.room_kind}")
    return None


# --- the search ---------------------------------------------------------------------------------


@dataclass
class _DayOptions:
    """One date's allowed start ranges per therapist, and per room."""

    grid: _Grid
    therapists: List[Tuple[_TherapistPlan, List[Range]]]
    rooms: List[Tuple[Room, List[Range]]]

    def next_start(self, ranges: List[Range], after: int) -> Optional[int]:
        index = bisect_left(ranges, (after, after)) - 1
        for lo, hi in ranges[max(index, 0):]:
            if hi < after:
                continue
            point = self.grid.ceil(max(lo, after))
            if point is None:
                return None
            if point <= hi:
                return point
        return None

    def room_at(self, start: int) -> Room:
        return next(room for room, ranges in self.rooms if _contains(ranges, start))


@dataclass
class _Search:
    plan: _SpaPlan
    diary: Diary
    request: Request
    candidates: List[_TherapistPlan]
    rooms: Tuple[Room, ...]
    lower: int
    upper: int
    offered: Dict[str, int] = field(default_factory=dict)
    chosen: Dict[int, Tuple[_TherapistPlan, Room]] = field(default_factory=dict)

    @classmethod
    def of(cls, spa: Spa, diary: Diary, request: Request) -> Optional["_Search"]:
        plan = spa._plan
        if request.count <= 0 or request.granularity_minutes <= 0 or request.service.minutes <= 0:
            return None
        candidates = [plan.therapists[t.id] for t in therapists_for(
            spa, request.service, request.certifications, request.therapist_id, request.gender)]
        rooms = plan.rooms_by_kind.get(request.service.room_kind, ())
        if not candidates or not rooms:
            return None
        now = _seconds(request.now)
        today = _wall(plan.zone, now).date()
        lower = now + request.notice_minutes * 60
        upper = _day(plan.zone, today + timedelta(days=request.horizon_days - 1)).end - 1
        if request.earliest is not None:
            lower = max(lower, _seconds(request.earliest))
        if request.latest is not None:
            upper = min(upper, _seconds(request.latest))
        if lower > upper:
            return None
        return cls(plan, diary, request, candidates, rooms, lower, upper)

    def run(self) -> List[Slot]:
        request = self.request
        gap = 60 * (request.min_gap_minutes if request.min_gap_minutes is not None else request.service.minutes)
        days: List[_DayOptions] = []
        for options in self._days():
            if options is not None:
                days.append(options)
                self._pick(options, request.per_day, gap)
                if len(self.chosen) >= request.count:
                    return self._slots()
        for per_day, spacing in ((None, gap), (None, 0)):
            for options in days:
                self._pick(options, per_day, spacing)
                if len(self.chosen) >= request.count:
                    return self._slots()
        return self._slots()

    def _days(self) -> Iterator[Optional[_DayOptions]]:
        """Each date's options, lazily, so a search that fills up early reads few days."""
        first = _wall(self.plan.zone, self.lower).date()
        last = _wall(self.plan.zone, self.upper).date()
        weekdays = self.request.weekdays
        on = first
        while on <= last:
            if weekdays is None or on.weekday() in weekdays:
                yield self._options(_day(self.plan.zone, on))
            on += timedelta(days=1)

    def _options(self, day: _Day) -> Optional[_DayOptions]:
        opening = self.plan.opening(day)
        if opening is None:
            return None
        bounds = self._bounds(day)
        if bounds is None:
            return None
        service = self.request.service
        rooms = [(room, _start_ranges(opening, self.diary.room(room.id).within(
            opening[0], opening[1] + service.buffer_minutes * 60), service.minutes, service.buffer_minutes))
            for room in self.rooms]
        any_room = _intersect(_union(span for _, ranges in rooms for span in ranges), [bounds])
        if not any_room:
            return None
        therapists = []
        for therapist in self.candidates:
            ranges = _intersect(self._therapist_ranges(therapist, day, opening), any_room)
            if ranges:
                therapists.append((therapist, ranges))
        if not therapists:
            return None
        return _DayOptions(_Grid(day, self.request.granularity_minutes), therapists, rooms)

    def _bounds(self, day: _Day) -> Optional[Range]:
        lo, hi = max(self.lower, day.start), min(self.upper, day.end - 1)
        between = self.request.between
        if between is not None:
            lo = max(lo, day.at(_minutes(between[0])))
            hi = min(hi, day.at(_end_minutes(between[1])) - 1)
        return (lo, hi) if lo <= hi else None

    def _therapist_ranges(self, therapist: _TherapistPlan, day: _Day, opening: Range) -> List[Range]:
        windows = []
        for start, end in therapist.shifts_on(day):
            lo, hi = max(start, opening[0]), min(end, opening[1])
            if hi - lo >= self.request.service.minutes * 60:
                windows.append((lo, hi))
        if not windows:
            return []
        service = self.request.service
        reach = (windows[0][0], windows[-1][1] + service.buffer_minutes * 60)
        blocked = _merge([*therapist.breaks_around(day, reach[1]), *therapist.time_off.within(*reach),
                          *self.diary.therapist(therapist.therapist.id).within(*reach)])
        ranges: List[Range] = []
        for window in windows:
            ranges.extend(_start_ranges(window, blocked, service.minutes, service.buffer_minutes))
        return ranges

    def _pick(self, options: _DayOptions, per_day: Optional[int], spacing: int) -> None:
        """Add this date's options, earliest first, each at least `spacing` from any time
        already chosen on the date, until the day's cap or the count is reached."""
        step = max(spacing, 1)
        taken = sorted(start for start in self.chosen if options.grid.day.start <= start < options.grid.day.end)
        picked = len(taken) if per_day is not None else 0
        after = options.grid.day.start
        while len(self.chosen) < self.request.count and (per_day is None or picked < per_day):
            start, who = self._earliest(options, after)
            if start is None:
                return
            clash = next((t for t in taken if abs(t - start) < step), None)
            if clash is not None:
                after = max(start + 1, clash + step) if spacing else start + 1
                continue
            therapist = min(who, key=lambda entry: (self.offered.get(entry.therapist.id, 0), entry.order))
            self.offered[therapist.therapist.id] = self.offered.get(therapist.therapist.id, 0) + 1
            self.chosen[start] = (therapist, options.room_at(start))
            taken.append(start)
            taken.sort()
            picked += 1
            after = start + step

    def _earliest(self, options: _DayOptions, after: int) -> Tuple[Optional[int], List[_TherapistPlan]]:
        best: Optional[int] = None
        who: List[_TherapistPlan] = []
        for therapist, ranges in options.therapists:
            start = options.next_start(ranges, after)
            if start is None or (best is not None and start > best):
                continue
            if best is None or start < best:
                best, who = start, []
            who.append(therapist)
        return best, who

    def _slots(self) -> List[Slot]:
        zone, service = self.plan.zone, self.request.service
        return [
            Slot(
                start=datetime.fromtimestamp(start, zone),
                end=datetime.fromtimestamp(start + service.minutes * 60, zone),
                busy_until=datetime.fromtimestamp(start + (service.minutes + service.buffer_minutes) * 60, zone),
                therapist_id=therapist.therapist.id,
                room_id=room.id,
            )
            for start, (therapist, room) in sorted(self.chosen.items())
        ]

