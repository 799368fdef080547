"""Reading the owner's team forms: weekly hours, a therapist's details, time off and rooms.

Pure (no database, no web framework), so every rule about what an owner may type is unit-tested
on its own and the pages only store what these functions accept. Problems come back as messages
for a person, each tied to the id of the form field it is about, so the page can show it next to
that field and link to it from the summary at the top.

Hours are wall-clock minutes since the spa's local midnight (0-1440). The tables keep them as
`time` values, where an end of 00:00 means midnight at the end of the day (bot/booking/availability.py
reads them the same way), so "22:00-24:00" survives the round trip.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Collection, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple
from zoneinfo import ZoneInfo

DAY_MINUTES = 24 * 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SHORT_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The certifications the booking rules know (a prenatal client needs a prenatal-certified
# therapist, and so on), with the labels of data/kb/team.yml.
CERTIFICATIONS: Dict[str, str] = {
    "prenatal": "Prenatal massage",
    "lymphatic_drainage": "Manual lymphatic drainage",
    "oncology": "Oncology massage",
    "sports": "Sports massage",
}
# Recorded only so a client may ask for "a woman therapist"; unspecified is stored as no value.
GENDERS: Dict[str, str] = {"": "Unspecified", "female": "Female", "male": "Male"}
# "active" as a form posts it (a select's "1", or a ticked checkbox's "on"); anything else retires.
ACTIVE_VALUES = ("1", "on", "yes", "true")
ROOM_KINDS: Dict[str, str] = {"treatment": "Treatment room", "couples": "Couples room"}
MAX_NAME = 120
MAX_REASON = 200
MAX_SLUG = 60

_DASHES = re.compile(r"\s*(?:-|–|—|\bto\b)\s*")
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class HoursError(ValueError):
    """A stretch of hours that cannot be read or makes no sense; the message is for the owner."""


@dataclass(frozen=True)
class Problem:
    """A message for the owner; `field` is the id of the form field it belongs to, if any."""

    text: str
    field: Optional[str] = None


class Stretch(NamedTuple):
    """One working stretch of a day, in minutes since local midnight; `end` may be 1440."""

    start: int
    end: int

    def as_times(self) -> Tuple[time, time]:
        """As the hours table keeps it: midnight at the day's end is stored as 00:00."""
        return minutes_to_time(self.start), minutes_to_time(self.end % DAY_MINUTES)

    @classmethod
    def from_times(cls, start: time, end: time) -> "Stretch":
        end_minutes = end.hour * 60 + end.minute
        return cls(start.hour * 60 + start.minute, end_minutes or DAY_MINUTES)


Week = Dict[int, List[Stretch]]


# --- clock times and hours ------------------------------------------------------------------

def minutes_to_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def parse_clock(text: str) -> int:
    """Minutes since midnight from "9", "09:30", "9.30", "9am", "1:30 pm" or "24:00".

    Owners write times the way they say them; anything that is not clearly a time of day is
    refused rather than guessed at, since a wrong guess silently changes who can be booked."""
    found = _CLOCK.match(text.strip().lower())
    if not found:
        raise HoursError(f"“{text.strip()}” is not a time; write it like 9:00 or 9am")
    hours, minutes, meridiem = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if minutes > 59:
        raise HoursError(f"“{text.strip()}” has more than 59 minutes")
    if meridiem:
        if not 1 <= hours <= 12:
            raise HoursError(f"“{text.strip()}”: with am or pm the hour is 1 to 12")
        hours = hours % 12 + (12 if meridiem.startswith("p") else 0)
    total = hours * 60 + minutes
    if total > DAY_MINUTES:
        raise HoursError(f"“{text.strip()}” is outside the day (00:00 to 24:00)")
    return total


def parse_stretch(text: str) -> Stretch:
    """One "start-end" stretch. An end of midnight (00:00, 12am) means the end of the day."""
    parts = _DASHES.split(text.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise HoursError(f"“{text.strip()}” needs a start and an end, like 09:00-13:00")
    start, end = parse_clock(parts[0]), parse_clock(parts[1])
    if start == DAY_MINUTES:
        raise HoursError(f"“{text.strip()}” starts at the very end of the day")
    end = end or DAY_MINUTES
    if end <= start:
        raise HoursError(f"“{text.strip()}” ends before it starts")
    return Stretch(start, end)


def parse_day(text: str) -> List[Stretch]:
    """A day's stretches, sorted: "09:00-13:00, 13:30-17:00" (the gap is the break). Empty
    means not working. Overlapping stretches are refused: they would hide a typing mistake."""
    pieces = [piece for piece in re.split(r"[,;]", text or "") if piece.strip()]
    stretches = sorted(parse_stretch(piece) for piece in pieces)
    for before, after in zip(stretches, stretches[1:]):
        if after.start < before.end:
            raise HoursError(f"{format_stretch(before)} and {format_stretch(after)} overlap")
    return stretches


def hours_field(weekday: int) -> str:
    return f"hours-{weekday}"


def parse_week(texts: Mapping[int, str]) -> Tuple[Week, List[Problem]]:
    """Every weekday's hours, with a problem for each day that cannot be read (named by day,
    so the owner sees which field to fix)."""
    week: Week = {}
    problems: List[Problem] = []
    for weekday in range(7):
        try:
            week[weekday] = parse_day(texts.get(weekday, ""))
        except HoursError as error:
            problems.append(Problem(f"{WEEKDAYS[weekday]}: {error}.", hours_field(weekday)))
    return week, problems


def clock_text(minutes: int, padded: bool = False) -> str:
    hours = minutes // 60
    return f"{hours:02d}:{minutes % 60:02d}" if padded else f"{hours}:{minutes % 60:02d}"


def format_stretch(stretch: Stretch, padded: bool = False) -> str:
    dash = "-" if padded else "–"
    return f"{clock_text(stretch.start, padded)}{dash}{clock_text(stretch.end, padded)}"


def day_text(stretches: Sequence[Stretch]) -> str:
    """A day's hours as the form field shows them, ready to be edited and read back."""
    return ", ".join(format_stretch(s, padded=True) for s in stretches)


def summarise_week(week: Mapping[int, Sequence[Stretch]]) -> str:
    """"Mon–Fri 9:00–13:00, 13:30–17:00; Sat 10:00–16:00": consecutive days with the same
    hours share one entry, so a whole week reads at a glance in the team list."""
    runs: List[Tuple[int, int, Tuple[Stretch, ...]]] = []
    for weekday in range(7):
        stretches = tuple(week.get(weekday) or ())
        if not stretches:
            continue
        if runs and runs[-1][1] == weekday - 1 and runs[-1][2] == stretches:
            runs[-1] = (runs[-1][0], weekday, stretches)
        else:
            runs.append((weekday, weekday, stretches))
    if not runs:
        return "No regular hours"
    parts = []
    for first, last, stretches in runs:
        days = SHORT_WEEKDAYS[first] if first == last else f"{SHORT_WEEKDAYS[first]}–{SHORT_WEEKDAYS[last]}"
        parts.append(f"{days} {', '.join(format_stretch(s) for s in stretches)}")
    return "; ".join(parts)


# --- a therapist ----------------------------------------------------------------------------

@dataclass
class TherapistDraft:
    """A therapist as the form describes them; `hours_text` keeps what was typed for redisplay."""

    name: str = ""
    gender: Optional[str] = None
    techniques: List[str] = field(default_factory=list)
    certifications: List[str] = field(default_factory=list)
    active: bool = True
    hours: Week = field(default_factory=dict)
    hours_text: Dict[int, str] = field(default_factory=dict)


def first(fields: Mapping[str, Sequence[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0]


def parse_therapist(fields: Mapping[str, Sequence[str]], known_techniques: Collection[str]
                    ) -> Tuple[TherapistDraft, List[Problem]]:
    """The therapist form (every field's values, as a browser posts repeated checkboxes).

    Techniques must be ones the knowledge base knows, since the assistant matches them by id;
    an unknown one can only come from a stale or altered form, so it is refused, not dropped."""
    name = " ".join(first(fields, "name").split())
    texts = {weekday: first(fields, hours_field(weekday)).strip() for weekday in range(7)}
    hours, problems = parse_week(texts)
    if not name:
        problems.insert(0, Problem("Write the therapist's name.", "therapist-name"))
    elif len(name) > MAX_NAME:
        problems.insert(0, Problem(f"The name is longer than {MAX_NAME} characters.", "therapist-name"))
    gender = first(fields, "gender").strip().lower()
    if gender == "unspecified":
        gender = ""
    if gender not in GENDERS:
        problems.append(Problem("Choose female, male or unspecified.", "therapist-gender"))
    techniques = _unique(fields.get("techniques") or ())
    unknown = [t for t in techniques if t not in known_techniques]
    if unknown:
        problems.append(Problem("Unknown technique: " + ", ".join(unknown) + ". Reload the form.", "techniques"))
    certifications = _unique(fields.get("certifications") or ())
    if any(c not in CERTIFICATIONS for c in certifications):
        problems.append(Problem("Unknown certification. Reload the form.", "certifications"))
    draft = TherapistDraft(name=name, gender=gender or None, techniques=techniques, certifications=certifications,
                           active=first(fields, "active").strip().lower() in ACTIVE_VALUES, hours=hours,
                           hours_text=texts)
    return draft, problems


def _unique(values: Sequence[str]) -> List[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def slug_for(name: str, taken: Collection[str], fallback: str = "therapist") -> str:
    """A stable id from a name ("María López" -> "maria-lopez"), unique among `taken`: ids end up
    in appointments and logs, so they are plain ASCII and never change after creation."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_SLUG].strip("-") or fallback
    slug, number = base, 2
    while slug in taken:
        slug = f"{base}-{number}"
        number += 1
    return slug


# --- time off -------------------------------------------------------------------------------

@dataclass(frozen=True)
class TimeOffDraft:
    """Time off as stored: aware UTC instants, end excluded."""

    starts_at: datetime
    ends_at: datetime
    reason: Optional[str]


def local_moment(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The first moment the spa's clocks show `minutes` past midnight on `day`, in UTC.

    Most wall times name one instant; on the night clocks go forward a skipped time becomes the
    moment they jump, and on the night they go back a repeated time is its first showing (the
    rule bot/booking/availability.py applies to hours)."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    first_try = wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
    if first_try.astimezone(zone).replace(tzinfo=None) == wall:
        return first_try
    low, high = sorted((first_try, wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)))
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def parse_date(text: str) -> date:
    if not _DATE.match(text.strip()):
        raise ValueError("not a date")
    return date.fromisoformat(text.strip())


def parse_time_off(fields: Mapping[str, str], zone: ZoneInfo) -> Tuple[Optional[TimeOffDraft], List[Problem]]:
    """Whole days ("from" to "to", both included) or part of a day (a start and an end time).

    Whole days run from local midnight to the local midnight after the last day, so a day on
    which the clocks change is 23 or 25 hours long, as it is for the spa. An empty "to" is the
    same day as "from"; an empty start or end time is that day's midnight."""
    problems: List[Problem] = []
    start_day = _read_date(fields.get("from", ""), "off-from", "Give the first day off.", problems)
    end_text = (fields.get("to") or "").strip()
    end_day = _read_date(end_text, "off-to", "", problems) if end_text else start_day
    start_minutes = _read_time(fields.get("start", ""), "off-start", problems)
    end_minutes = _read_time(fields.get("end", ""), "off-end", problems)
    reason = " ".join((fields.get("reason") or "").split())
    if len(reason) > MAX_REASON:
        problems.append(Problem(f"The reason is longer than {MAX_REASON} characters.", "off-reason"))
    if problems or start_day is None or end_day is None:
        return None, problems
    starts_at = local_moment(start_day, start_minutes or 0, zone)
    if end_minutes in (None, 0, DAY_MINUTES):  # as in the hours, an end of 00:00 is the day's end
        ends_at = local_moment(end_day + timedelta(days=1), 0, zone)
    else:
        ends_at = local_moment(end_day, end_minutes, zone)
    if ends_at <= starts_at:
        field_id = "off-end" if end_minutes is not None and end_day == start_day else "off-to"
        return None, [Problem("The time off ends before it starts.", field_id)]
    return TimeOffDraft(starts_at, ends_at, reason or None), []


def describe_time_off(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> str:
    """Time off on the spa's calendar: whole days as dates ("Sat 14 Mar 2027 – Sun 15 Mar 2027"),
    anything else with its times, so the owner reads it as it was entered."""
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.time() == time() and end.time() == time():
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return f"{_day_label(start.date())}, all day"
        return f"{_day_label(start.date())} – {_day_label(last)}"
    if start.date() == end.date():
        return f"{_day_label(start.date())}, {_clock_of(start)}–{_clock_of(end)}"
    return f"{_day_label(start.date())} {_clock_of(start)} – {_day_label(end.date())} {_clock_of(end)}"


def _clock_of(moment: datetime) -> str:
    return clock_text(moment.hour * 60 + moment.minute)


def _day_label(day: date) -> str:
    return f"{SHORT_WEEKDAYS[day.weekday()]} {day.day} {SHORT_MONTHS[day.month - 1]} {day.year}"


def _read_date(text: str, field_id: str, missing: str, problems: List[Problem]) -> Optional[date]:
    if not text.strip():
        problems.append(Problem(missing, field_id))
        return None
    try:
        return parse_date(text)
    except ValueError:
        problems.append(Problem(f"“{text.strip()}” is not a date; write it like 2027-03-14.", field_id))
        return None


def _read_time(text: str, field_id: str, problems: List[Problem]) -> Optional[int]:
    if not text.strip():
        return None
    try:
        return parse_clock(text)
    except HoursError as error:
        problems.append(Problem(f"{error}.", field_id))
        return None


# --- a room ---------------------------------------------------------------------------------

def parse_room(fields: Mapping[str, str]) -> Tuple[Tuple[str, str], List[Problem]]:
    """(name, kind) of the room form; the kind decides which services can use the room."""
    name = " ".join((fields.get("name") or "").split())
    kind = (fields.get("kind") or "").strip()
    problems = []
    if not name:
        problems.append(Problem("Write the room's name.", "room-name"))
    elif len(name) > MAX_NAME:
        problems.append(Problem(f"The name is longer than {MAX_NAME} characters.", "room-name"))
    if kind not in ROOM_KINDS:
        problems.append(Problem("Choose a treatment room or a couples room.", "room-kind"))
    return (name, kind), problems
