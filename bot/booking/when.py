"""When a person would like to come: the spa's opening hours and the times people write.

Everything here works on naive wall-clock times at the spa (see `preferred_at` in
bot/booking/models.py): a request for "Tuesday at 5" means 5 pm on the spa's calendar, wherever
the server runs. `local_now` turns the server's UTC clock into that wall-clock time once, at the
edge, so the rest stays plain arithmetic.

Reading what people write: dateparser 1.2 misreads much of what people type in a chat ("next
Tuesday after 5", "tomorrow morning" and "at 5" come back empty or as the wrong day), so the
phrases below are read here first, and dateparser (future dates, English, relative to `now`)
reads the written dates these patterns miss, such as "3. December".
- a bare hour ("at 5", "after 5", "around 5", "5") means the half of the day the spa is open:
  1 to 7 are afternoon or evening (5 -> 5 pm), 8 to 11 are morning, 12 is noon, unless only the
  other half fits the opening hours; "5am" and "17:00" are taken as written;
- parts of the day become one time inside typical opening hours: morning 10:00, late morning
  11:00, midday/noon/lunchtime 12:00, early afternoon 13:00, afternoon 14:00, late afternoon
  16:00, evening/tonight/after work 17:00 (and early morning or "first thing" 9:00); said the
  same day while that part of the day lasts, the next full hour ("this afternoon" at 3:10 pm is
  4 pm, "tonight" at 6 pm is 7 pm, which a 7 pm close makes "closed");
- "this Friday" and a bare "Friday" are the coming Friday (today if it is Friday, unless the time
  has already gone: "Thursday at 10am" on a Thursday afternoon is next week's); "next Friday"
  is the Friday of next week (Monday-to-Sunday weeks), so on a Thursday "next Friday" is eight
  days away while "next Tuesday" is five;
- a date without a year is this year's, unless that is more than half a year ago (then next
  year's); a past date therefore reads as "past", not as a date a year ahead; "12/3" is month
  first for a spa in the Americas, day first elsewhere;
- a time alone that no open day can fit ("8 pm", "5am") is "closed" straight away, with `when` at
  its next occurrence, instead of asking for a day first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dateparser

OK = "ok"
PAST = "past"
CLOSED = "closed"
AMBIGUOUS = "ambiguous"
UNPARSED = "unparsed"
TOO_FAR = "too_far"
NEEDS_TIME = "time"
NEEDS_DAY = "day"

MAX_TEXT = 200
MAX_DAYS_AHEAD = 90

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")
_DAY_KEYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}
_MONTH_KEYS = {name.lower(): index + 1 for index, name in enumerate(MONTH_NAMES)}
_MONTH_KEYS.update({name[:3].lower(): index + 1 for index, name in enumerate(MONTH_NAMES)})
_MONTH_KEYS.update({"sept": 9})

# Parts of the day and the time each one becomes (see the module docstring).
_PERIODS: Dict[str, time] = {
    "first thing": time(9), "early morning": time(9), "late morning": time(11), "morning": time(10),
    "midday": time(12), "mid-day": time(12), "noon": time(12), "lunchtime": time(12),
    "lunch time": time(12), "lunch": time(12),
    "early afternoon": time(13), "late afternoon": time(16), "afternoon": time(14),
    "early evening": time(17), "evening": time(17), "tonight": time(17), "tonite": time(17),
    "after work": time(17),
}
# When each part of the day is over: "this afternoon" said at 3 pm still means later today.
_PERIOD_ENDS: Dict[str, time] = {
    "first thing": time(10), "early morning": time(10), "late morning": time(12), "morning": time(12),
    "early afternoon": time(15), "late afternoon": time(18), "afternoon": time(17),
    "early evening": time(19), "evening": time(23), "tonight": time(23), "tonite": time(23),
    "after work": time(23),
}
# Which half of the day a bare hour next to a part of the day belongs to.
_PERIOD_PM = {"afternoon", "evening", "tonight", "tonite", "after work"}

_ORDINAL_WORDS = {
    word: index + 1
    for index, word in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
        "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
    )
}
_ORDINAL_WORDS.update(
    {f"twenty{sep}{word}": 20 + n for sep in ("-", " ") for word, n in list(_ORDINAL_WORDS.items())[:9]}
)
_ORDINAL_WORDS.update({"thirtieth": 30, "thirty-first": 31, "thirty first": 31})

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "a couple": 2, "couple of": 2,
    "a few": 3, "a": 1, "an": 1,
}


@dataclass(frozen=True)
class OpeningHours:
    """When the spa takes sessions: one (open, close) pair per weekday, 0 = Monday."""

    days: Mapping[int, Tuple[time, time]]
    timezone: str

    def is_open(self, when: datetime, minutes: int = 60) -> bool:
        """Whether a session starting at `when` (spa wall time) fits: it must start at or after
        opening and end by closing time on an open day, so 6:30 pm does not fit a 7 pm close."""
        window = self.days.get(when.weekday())
        if window is None:
            return False
        opens, closes = window
        start = when.replace(second=0, microsecond=0)
        # A close of 00:00 ("24:00" in the settings) is the end of the day.
        close_at = datetime.combine(start.date() + timedelta(days=1 if closes == time(0) else 0), closes)
        return opens <= start.time() and start + timedelta(minutes=minutes) <= close_at

    def describe(self) -> str:
        """The hours as a person would say them: "Monday to Saturday, 9 am to 7 pm"."""
        if not self.days:
            return "closed every day"
        groups: List[Tuple[List[int], Tuple[time, time]]] = []
        for day in sorted(self.days):
            window = self.days[day]
            if groups and groups[-1][1] == window and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], window))
        # A week that runs over Sunday reads as one run: "Friday to Monday".
        if len(groups) > 1 and groups[0][0][0] == 0 and groups[-1][0][-1] == 6 and groups[0][1] == groups[-1][1]:
            last = groups.pop()
            groups[0] = (last[0] + groups[0][0], last[1])
        # Join runs that share hours but are split by a closed day: "Monday, Wednesday and Friday".
        merged: List[Tuple[List[List[int]], Tuple[time, time]]] = []
        for days, window in groups:
            for entry in merged:
                if entry[1] == window:
                    entry[0].append(days)
                    break
            else:
                merged.append(([days], window))
        parts = []
        for runs, (opens, closes) in merged:
            names = [name for run in runs for name in _run_names(run)]
            parts.append(f"{_join(names)}, {format_clock(opens)} to {format_clock(closes)}")
        return "; ".join(parts)


def _run_names(run: List[int]) -> List[str]:
    if len(run) <= 2:
        return [DAY_NAMES[day] for day in run]
    return [f"{DAY_NAMES[run[0]]} to {DAY_NAMES[run[-1]]}"]


def _join(words: List[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def format_clock(value: time) -> str:
    """A time of day as people say it: "9 am", "5:30 pm", "noon"."""
    if value == time(12):
        return "noon"
    if value == time(0):
        return "midnight"
    suffix = "am" if value.hour < 12 else "pm"
    hour = value.hour % 12 or 12
    return f"{hour} {suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d} {suffix}"


def describe_time(when: datetime, now: Optional[datetime] = None) -> str:
    """How the assistant reads a time back, so the person can spot a misunderstanding:
    "Tuesday 1 December at 5 pm" (with the year when it is not `now`'s year)."""
    year = f" {when.year}" if now is not None and when.year != now.year else ""
    return f"{DAY_NAMES[when.weekday()]} {when.day} {MONTH_NAMES[when.month - 1]}{year} at {format_clock(when.time())}"


# --- opening hours from the spa settings -------------------------------------------------------

_GROUP = re.compile(
    r"^(?P<days>[A-Za-z][A-Za-z ,\-]*?)\s+(?P<open>\d{1,2}(?::\d{2})?)\s*-\s*(?P<close>\d{1,2}(?::\d{2})?)$"
)


def opening_hours_from_settings(spa: Mapping[str, str]) -> OpeningHours:
    """Read `opening_hours` ("Mon-Fri 09:00-19:00; Sat 10:00-16:00") and `timezone` from the spa
    settings, so the hours a spa edits in data/kb/spa.yml are the ones bookings are checked
    against. Raises ValueError saying what is wrong, so a typo fails loudly, not silently."""
    text = (spa.get("opening_hours") or "").strip()
    if not text:
        raise ValueError('spa settings: "opening_hours" is missing (for example "Mon-Sat 09:00-19:00")')
    zone = (spa.get("timezone") or "").strip()
    if not zone:
        raise ValueError('spa settings: "timezone" is missing (an IANA name such as "America/New_York")')
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f'spa settings: "timezone" {zone!r} is not an IANA time zone name') from error
    days: Dict[int, Tuple[time, time]] = {}
    for group in re.split(r"[;\n]+", text):
        group = group.strip()
        if not group:
            continue
        match = _GROUP.match(group)
        if not match:
            raise ValueError(
                f'spa settings: "opening_hours" part {group!r} should look like "Mon-Fri 09:00-19:00"'
            )
        opens, closes = _clock(match["open"], group), _clock(match["close"], group)
        if closes != time(0) and closes <= opens:
            raise ValueError(f'spa settings: "opening_hours" part {group!r} closes before it opens')
        for day in _day_list(match["days"], group):
            if day in days:
                raise ValueError(f'spa settings: "opening_hours" lists {DAY_NAMES[day]} twice')
            days[day] = (opens, closes)
    if not days:
        raise ValueError('spa settings: "opening_hours" names no open day')
    return OpeningHours(days=dict(sorted(days.items())), timezone=zone)


def _clock(text: str, group: str) -> time:
    hour, _, minute = text.partition(":")
    try:
        if int(hour) == 24 and int(minute or 0) == 0:
            return time(0)
        return time(int(hour), int(minute or 0))
    except ValueError as error:
        raise ValueError(f'spa settings: "opening_hours" part {group!r} has an impossible time {text!r}') from error


def _day_key(word: str, group: str) -> int:
    key = word.strip().lower().rstrip(".")
    if key not in _DAY_KEYS:
        raise ValueError(f'spa settings: "opening_hours" part {group!r}: {word.strip()!r} is not a day')
    return _DAY_KEYS[key]


def _day_list(text: str, group: str) -> List[int]:
    result: List[int] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "-" in item:
            first, _, last = item.partition("-")
            start, end = _day_key(first, group), _day_key(last, group)
            day = start
            while True:
                result.append(day)
                if day == end:
                    break
                day = (day + 1) % 7
        else:
            result.append(_day_key(item, group))
    return result


def local_now(hours: OpeningHours, utc_now: Optional[datetime] = None) -> datetime:
    """The spa's wall-clock time now, naive: the `now` every other function here expects."""
    moment = utc_now or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(hours.timezone)).replace(tzinfo=None, second=0, microsecond=0)


# --- suggestions --------------------------------------------------------------------------------


def next_open_slots(
    after: datetime, hours: OpeningHours, minutes: int = 60, count: int = 3, step_minutes: int = 60
) -> List[datetime]:
    """The nearest session starts at or after `after`, on the hour from opening time, to offer
    when the asked-for time is closed ("The nearest times: ...")."""
    slots: List[datetime] = []
    if not hours.days or count <= 0:
        return slots
    day = after.date()
    for _ in range(15):
        window = hours.days.get(day.weekday())
        if window is not None:
            start = datetime.combine(day, window[0])
            while start.date() == day:
                if start >= after and hours.is_open(start, minutes):
                    slots.append(start)
                    if len(slots) == count:
                        return slots
                elif start >= after:
                    break
                start += timedelta(minutes=step_minutes)
        day += timedelta(days=1)
    return slots


# --- what people write --------------------------------------------------------------------------


@dataclass(frozen=True)
class PreferredTime:
    """What a person's words about a time came to. `when` is spa wall time, set for ok, past,
    closed and too_far (a day without a time that is past, closed or too far gets its midnight;
    "earlier today" gets `now`).
    `needs` says what an ambiguous answer lacks: "time" or "day"."""

    status: str
    when: Optional[datetime]
    text: str
    needs: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass
class _Reading:
    day: Optional[date] = None
    clock: Optional[time] = None
    earlier: bool = False
    vague_day: bool = False
    # A bare weekday naming today ("Thursday at 10am" on a Thursday afternoon): when the time has
    # gone, the person means next week's.
    today_by_weekday: bool = False
    # An hour written without am/pm, with its minute and part of the day, to be read again once
    # the day is known (a follow-up "5" after "next Tuesday").
    bare_hour: Optional[Tuple[int, int, Optional[str]]] = None


_AMPM = r"(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?)(?![a-z])"
_EXPLICIT = re.compile(r"(?<![\d/:.])(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*" + _AMPM)
_TWENTY_FOUR = re.compile(r"(?<![\d/:.])(?P<hour>[01]?\d|2[0-3])[:h.](?P<minute>[0-5]\d)(?![\d/.])")
_HALF_PAST = re.compile(r"\b(?P<part>half|quarter)\s+(?P<dir>past|to)\s+(?P<hour>\d{1,2})\b")
_PREFIXED_HOUR = re.compile(
    r"(?:\b(?:at|after|around|about|from|say)\b|@|~)\s*(?P<hour>\d{1,2})(?![/.:\d])"
    r"(?!\s*(?:st|nd|rd|th|days?|weeks?|hours?|h\b|mins?|minutes?))(?:\s*(?:o'?\s?clock|ish))?"
)
_OCLOCK = re.compile(r"\b(?P<hour>\d{1,2})\s*(?:o'?\s?clock|ish)\b")
_BARE_HOUR = re.compile(r"^\D*?\b(?P<hour>\d{1,2})\b\D*$")
_IN_UNITS = re.compile(r"\bin\s+(?P<n>\d{1,3})\s+(?P<unit>days?|weeks?|hours?|hrs?|minutes?|mins?)\b")
_FROM_NOW = re.compile(r"\b(?P<n>\d{1,3})\s+(?P<unit>days?|weeks?)\s+(?:(?:from\s+)?(?:now|today)|later)\b")
_WEEKDAY = re.compile(
    r"\b(?:(?P<which>this|next|coming|this\s+coming|on|last|this\s+past)\s+)?(?P<day>"
    + "|".join(sorted(_DAY_KEYS, key=len, reverse=True))
    + r")(?:day)?\b\.?"
)
_MONTHS_RE = "|".join(sorted(_MONTH_KEYS, key=len, reverse=True))
_MONTH_DAY = re.compile(
    r"\b(?P<month>" + _MONTHS_RE + r")\.?\s+(?:the\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year>\d{4}))?"
)
_DAY_MONTH = re.compile(
    r"\b(?:the\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>" + _MONTHS_RE + r")\b\.?"
    r"(?:,?\s+(?P<year>\d{4}))?"
)
_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b")
# 12/3 and 3/12/2026; with dots only when a year makes it a date (10.30 is a time).
_NUMERIC = re.compile(
    r"\b(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<year>\d{2}|\d{4}))?\b"
    r"|\b(?P<a2>\d{1,2})\.(?P<b2>\d{1,2})\.(?P<year2>\d{2}|\d{4})\b"
)
_ORDINAL = re.compile(r"\b(?:on\s+)?the\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b")
_VAGUE_DAY = re.compile(r"\b(?:next|this|coming)\s+week(?:end)?\b|\bweekend\b|\bsoon\b|\basap\b")


def parse_preferred_time(text: str, now: datetime, hours: OpeningHours, minutes: int = 60) -> PreferredTime:
    """Turn what a person wrote about when they would like to come into a checked time, so the
    form can accept it, ask for the missing half, or explain why it cannot be booked.
    `now` is the spa's wall-clock time (see `local_now`)."""
    original = " ".join((text or "").split())[:MAX_TEXT]
    if not original:
        return PreferredTime(UNPARSED, None, original)
    reading = _read(original, now, hours, minutes)
    if reading is None:
        return PreferredTime(UNPARSED, None, original)
    return _judge(reading, original, now, hours, minutes)


def combine(
    previous: Union[PreferredTime, str], answer: str, now: datetime, hours: OpeningHours, minutes: int = 60
) -> PreferredTime:
    """Read a follow-up answer together with the earlier one ("next Tuesday", then "at 3pm"), so
    the person only has to give the missing half: the answer's day or time wins, the earlier
    message fills in what it leaves out. An answer with both stands alone; an answer that is not
    understood comes back "unparsed" (keep `previous` and ask again). `previous` may be the
    earlier PreferredTime or just its text (as a form slot holds it)."""
    earlier_text = previous if isinstance(previous, str) else previous.text
    earlier_text = " ".join((earlier_text or "").split())
    alone = parse_preferred_time(answer, now, hours, minutes)
    if alone.status == UNPARSED or not earlier_text:
        return alone
    answer_reading = _read(alone.text, now, hours, minutes)
    earlier_reading = _read(earlier_text, now, hours, minutes)
    if answer_reading is None or earlier_reading is None:
        return alone
    if answer_reading.day is not None and answer_reading.clock is not None:
        return alone
    merged = _Reading(
        day=answer_reading.day, clock=answer_reading.clock, earlier=answer_reading.earlier,
        vague_day=answer_reading.vague_day, today_by_weekday=answer_reading.today_by_weekday,
    )
    if merged.day is None and earlier_reading.day is not None:
        merged.day, merged.earlier = earlier_reading.day, earlier_reading.earlier
        merged.today_by_weekday = earlier_reading.today_by_weekday
    elif merged.clock is None and earlier_reading.clock is None:
        return alone  # the earlier message adds nothing: "tomorrow", then "Saturday"
    if merged.clock is None:
        merged.clock = earlier_reading.clock
    elif answer_reading.bare_hour is not None and merged.day is not None:
        merged.clock = _clock_on(answer_reading.bare_hour, merged.day, hours, minutes)
    text = f"{earlier_text} {alone.text}"[:MAX_TEXT]
    return _judge(merged, text, now, hours, minutes)


def _judge(reading: _Reading, text: str, now: datetime, hours: OpeningHours, minutes: int) -> PreferredTime:
    if reading.day is None and reading.clock is None:
        if reading.vague_day:
            return PreferredTime(AMBIGUOUS, None, text, NEEDS_DAY)
        return PreferredTime(UNPARSED, None, text)
    if reading.day is None:
        if not _fits(reading.clock.hour, reading.clock.minute, None, hours, minutes):  # type: ignore[union-attr]
            when = datetime.combine(now.date(), reading.clock)  # type: ignore[arg-type]
            return PreferredTime(CLOSED, when if when >= now else when + timedelta(days=1), text)
        return PreferredTime(AMBIGUOUS, None, text, NEEDS_DAY)
    if reading.clock is None:
        start_of_day = datetime.combine(reading.day, time(0))
        if reading.day < now.date() or reading.earlier:
            return PreferredTime(PAST, now.replace(second=0, microsecond=0) if reading.earlier else start_of_day, text)
        if reading.day.weekday() not in hours.days:
            return PreferredTime(CLOSED, start_of_day, text)
        if (reading.day - now.date()).days > MAX_DAYS_AHEAD:
            return PreferredTime(TOO_FAR, start_of_day, text)
        return PreferredTime(AMBIGUOUS, None, text, NEEDS_TIME)
    when = datetime.combine(reading.day, reading.clock)
    if when < now and reading.today_by_weekday:
        when += timedelta(days=7)
    if when < now or reading.earlier:
        return PreferredTime(PAST, when, text)
    if (when.date() - now.date()).days > MAX_DAYS_AHEAD:
        return PreferredTime(TOO_FAR, when, text)
    if not hours.is_open(when, minutes):
        return PreferredTime(CLOSED, when, text)
    return PreferredTime(OK, when, text)


def _read(text: str, now: datetime, hours: OpeningHours, minutes: int) -> Optional[_Reading]:
    """Find a day and a time of day in the text, each optional; None when there is neither."""
    rest = " " + _normalise(text) + " "
    reading = _Reading()
    hour_minute: Optional[Tuple[int, int, Optional[str]]] = None  # hour, minute, "am"/"pm"/None

    # Relative moments that fix both day and time.
    match = _IN_UNITS.search(rest)
    if match and match["unit"].startswith(("h", "m")):
        amount = int(match["n"])
        delta = timedelta(hours=amount) if match["unit"].startswith("h") else timedelta(minutes=amount)
        moment = now + delta
        return _Reading(day=moment.date(), clock=moment.time().replace(second=0, microsecond=0))

    if re.search(r"\b(?:right\s+)?now\b|\bimmediately\b", rest) and not re.search(r"\bfrom\s+now\b", rest):
        return _Reading(day=now.date(), clock=now.time().replace(second=0, microsecond=0))

    # The time of day.
    period: Optional[str] = None
    period_today = False
    for name in sorted(_PERIODS, key=len, reverse=True):
        found = re.search(r"\b(?P<this>this\s+)?" + re.escape(name) + r"\b", rest)
        if found:
            period, period_today = name, bool(found["this"]) or name in ("tonight", "tonite")
            rest = rest[: found.start()] + " " + rest[found.end():]
            break
    for pattern, kind in ((_EXPLICIT, "explicit"), (_HALF_PAST, "half"), (_TWENTY_FOUR, "24h")):
        found = pattern.search(rest)
        if not found:
            continue
        hour = int(found["hour"])
        if kind == "explicit":
            minute = int(found["minute"] or 0)
            ampm = "am" if found["ampm"].startswith("a") else "pm"
            if not 1 <= hour <= 12 or minute > 59:
                return None
            hour_minute = (hour % 12 + (12 if ampm == "pm" else 0), minute, ampm)
        elif kind == "half":
            offset = 30 if found["part"] == "half" else 15
            if found["dir"] == "to":
                hour, offset = hour - 1, 60 - offset
            hour_minute = (hour, offset, None)
        else:
            minute = int(found["minute"])
            hour_minute = (hour, minute, "24h" if hour >= 13 or hour == 0 or found["hour"].startswith("0") else None)
        rest = rest[: found.start()] + " " + rest[found.end():]
        break

    # The day.
    day, rest, reading.today_by_weekday = _read_day(rest, now, hours)
    if day is _INVALID:
        return None
    reading.day = day  # type: ignore[assignment]
    if re.search(r"\bearlier\s+(?:today|this\s+(?:morning|afternoon|evening))\b", _normalise(text)):
        reading.earlier = True
    if period_today and reading.day is None:
        reading.day = now.date()

    if hour_minute is None:
        found = _PREFIXED_HOUR.search(rest) or _OCLOCK.search(rest)
        if not found:
            leftover = " ".join(rest.split())
            bare = _BARE_HOUR.match(leftover) if leftover else None
            if bare and _only_filler(leftover.replace(bare["hour"], " ")):
                found = bare
        if found:
            hour_minute = (int(found["hour"]), 0, None)
            rest = rest[: found.start()] + " " + rest[found.end():] if found.re is not _BARE_HOUR else ""

    if hour_minute is not None:
        hour, minute, ampm = hour_minute
        if ampm is None:
            reading.bare_hour = (hour, minute, period)
            clock = _clock_on(reading.bare_hour, reading.day, hours, minutes)
            if clock is None:
                return None
            reading.clock = clock
        elif 0 <= hour <= 23 and 0 <= minute <= 59:
            reading.clock = time(hour, minute)
        else:
            return None
    elif period is not None:
        reading.clock = _period_time(period, reading.day, now)

    if reading.day is None and reading.clock is None:
        if _VAGUE_DAY.search(rest):
            reading.vague_day = True
            return reading
        return None
    if reading.day is None and _VAGUE_DAY.search(rest):
        reading.vague_day = True
    return reading


_INVALID = object()


def _read_day(rest: str, now: datetime, hours: OpeningHours) -> Tuple[object, str, bool]:
    """The day named in the text (a date, _INVALID for an impossible one, or None), the text
    without it, and whether it was a bare weekday naming today."""
    today = now.date()

    def cut(found: "re.Match[str]") -> str:
        return rest[: found.start()] + " " + rest[found.end():]

    found = _IN_UNITS.search(rest) or _FROM_NOW.search(rest)
    if found:
        amount = int(found["n"])
        days = amount * 7 if found["unit"].startswith("week") else amount
        return today + timedelta(days=days), cut(found), False

    relative = (
        (r"\b(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow)\b", 2),
        (r"\b(?:tomorrow|tmrw|tmr|tomorow|tommorow|tommorrow|2moro|2morrow)\b", 1),
        (r"\b(?:the\s+)?day\s+before\s+yesterday\b", -2),
        (r"\byesterday\b|\blast\s+night\b", -1),
        (r"\btoday\b", 0),
    )
    for pattern, offset in relative:
        found = re.search(pattern, rest)
        if found:
            return today + timedelta(days=offset), cut(found), False

    found = _ISO.search(rest)
    if found:
        return _make_date(int(found["year"]), int(found["month"]), int(found["day"])), cut(found), False
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        found = pattern.search(rest)
        if found:
            month = _MONTH_KEYS[found["month"]]
            year = int(found["year"]) if found["year"] else None
            return _dated(today, month, int(found["day"]), year), cut(found), False
    found = _NUMERIC.search(rest)
    if found:
        first, second = int(found["a"] or found["a2"]), int(found["b"] or found["b2"])
        # Month first in the Americas (12/3 is 3 December in New York), day first elsewhere.
        month_first = hours.timezone.startswith("America/")
        month, day_number = (first, second) if month_first else (second, first)
        year = found["year"] or found["year2"]
        year_number = (int(year) + 2000 if len(year) == 2 else int(year)) if year else None
        return _dated(today, month, day_number, year_number), cut(found), False

    found = _WEEKDAY.search(rest)
    if found:
        weekday = _DAY_KEYS[found["day"]]
        which = (found["which"] or "").split()
        if not which and re.search(r"\bnext\s+week\b", rest):
            which = ["next"]
        ahead = (weekday - today.weekday()) % 7
        if which and (which[0] == "last" or which[-1] == "past"):
            return today - timedelta(days=(today.weekday() - weekday) % 7 or 7), cut(found), False
        if which and which[0] == "next":
            if ahead == 0:
                ahead = 7
            if today.weekday() + ahead <= 6:
                ahead += 7
        return today + timedelta(days=ahead), cut(found), ahead == 0 and which[:1] != ["this"]

    found = _ORDINAL.search(rest)
    if found:
        day_number = int(found["day"])
        candidate = _make_date(today.year, today.month, day_number)
        if candidate is _INVALID or candidate < today:  # type: ignore[operator]
            month = today.month % 12 + 1
            candidate = _make_date(today.year + (1 if month == 1 else 0), month, day_number)
        return candidate, cut(found), False

    if re.search(r"[a-z]{3}", rest) and any(key in rest for key in _MONTH_KEYS):
        parsed = dateparser.parse(
            " ".join(rest.split()), languages=["en"],
            settings={"PREFER_DATES_FROM": "future", "RELATIVE_BASE": now, "REQUIRE_PARTS": ["day", "month"]},
        )
        if parsed is not None:
            return parsed.date(), "", False
    return None, rest, False


def _make_date(year: int, month: int, day: int) -> object:
    try:
        return date(year, month, day)
    except ValueError:
        return _INVALID


def _dated(today: date, month: int, day: int, year: Optional[int]) -> object:
    if year is not None:
        return _make_date(year, month, day)
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return _INVALID
    for candidate_year in range(today.year, today.year + 9):
        candidate = _make_date(candidate_year, month, day)
        if candidate is _INVALID:
            if day > 29 or month != 2:
                return _INVALID
            continue
        if candidate >= today or (today - candidate).days <= 183:  # type: ignore[operator]
            return candidate
    return _INVALID


def _period_time(period: str, day: Optional[date], now: datetime) -> time:
    """The time a part of the day stands for; later today, the next full hour while it lasts."""
    default = _PERIODS[period]
    end = _PERIOD_ENDS.get(period)
    if day != now.date() or end is None or now.time() <= default or now.time() >= end or now.hour >= 23:
        return default
    return time(now.hour + 1)


def _clock_on(
    bare: Tuple[int, int, Optional[str]], day: Optional[date], hours: OpeningHours, minutes: int
) -> Optional[time]:
    hour, minute, period = bare
    resolved = _bare_hour(hour, period, day, hours, minutes, minute)
    if resolved is None or not 0 <= resolved <= 23 or not 0 <= minute <= 59:
        return None
    return time(resolved, minute)


def _bare_hour(
    hour: int, period: Optional[str], day: Optional[date], hours: OpeningHours, minutes: int, minute: int
) -> Optional[int]:
    """Which half of the day an hour written without am/pm means."""
    if hour > 23:
        return None
    if hour == 0 or hour >= 13:
        return hour
    if period is not None:
        if period in _PERIOD_PM or period.endswith(("afternoon", "evening")):
            return hour % 12 + 12
        if period.endswith("morning") or period == "first thing":
            return hour % 12
    if hour == 12:
        return 12
    am, pm = hour, hour + 12
    fits_am, fits_pm = _fits(am, minute, day, hours, minutes), _fits(pm, minute, day, hours, minutes)
    if fits_am != fits_pm:
        return am if fits_am else pm
    return pm if hour <= 7 else am


def _fits(hour: int, minute: int, day: Optional[date], hours: OpeningHours, minutes: int) -> bool:
    """Whether a session at this time fits on `day`, or on any open day when there is no day yet."""
    if day is None:
        # 1 January 2024 was a Monday: one date for each weekday.
        return any(hours.is_open(datetime(2024, 1, 1 + weekday, hour, minute), minutes) for weekday in range(7))
    return hours.is_open(datetime.combine(day, time(hour, minute)), minutes)


_FILLER = {
    "", "at", "on", "about", "around", "after", "from", "by", "for", "please", "pls", "thanks", "thank",
    "you", "ok", "okay", "maybe", "how", "what", "is", "would", "be", "good", "great", "fine", "works",
    "work", "perfect", "i", "can", "could", "come", "do", "lets", "let's", "say", "the", "then", "time",
    "and", "or", "yes", "yeah", "sure", "ish", "o'clock", "oclock", "like", "want", "to", "book", "me",
    "that", "it", "in", "morning", "afternoon", "evening",
}


def _only_filler(text: str) -> bool:
    words = re.findall(r"[a-z']+", text.lower())
    return all(word in _FILLER for word in words)


@lru_cache(maxsize=1)
def _number_patterns() -> List[Tuple["re.Pattern[str]", Any]]:
    """The ordinal and number-word rewrites, compiled once (there are hundreds: compiled per call
    they fall out of the re module's cache and are compiled again on every message)."""
    months = "|".join(_MONTH_KEYS)
    patterns: List[Tuple["re.Pattern[str]", Any]] = []
    for word, number in sorted(_ORDINAL_WORDS.items(), key=lambda item: -len(item[0])):
        # Only next to a month or after "the": "December third", "the third", not "first thing".
        patterns.append((re.compile(r"\b(?P<lead>(?:the|" + months + r")\.?\s+)" + re.escape(word) + r"\b"),
                         lambda m, n=number: f"{m['lead']}{n}th"))
        patterns.append((re.compile(r"\b" + re.escape(word) + r"(?=\s+(?:of\s+)?(?:" + months + r")\b)"),
                         f"{number}th"))
    for word, number in sorted(_NUMBER_WORDS.items(), key=lambda item: -len(item[0])):
        patterns.append((re.compile(r"\b" + re.escape(word)
                                    + r"\b(?=\s+(?:days?|weeks?|hours?|hrs?|minutes?|mins?|o'?clock|pm|am|p\.m|a\.m)\b)"),
                         str(number)))
        if number > 1 and word not in ("a couple", "a few", "couple of", "a couple of"):
            patterns.append((re.compile(r"\b(at|after|around|about|by|from|past|to|before|until|till)\s+"
                                        + re.escape(word) + r"\b"), rf"\1 {number}"))
    return patterns


@lru_cache(maxsize=1024)
def _normalise(text: str) -> str:
    value = text.lower().replace("’", "'")
    value = re.sub(r"[!?,;()\"]", " ", value)
    for pattern, replacement in _number_patterns():
        value = pattern.sub(replacement, value)
    return " ".join(value.split())
