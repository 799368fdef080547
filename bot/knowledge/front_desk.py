"""Answers to the questions a spa's front desk hears all day, from the spa's own settings.

Each front-desk intent names the settings of the `spa` section (data/kb/spa.yml, or the staff
page's content editor) that answer it. Where the spa has left them empty the answer says so and
gives the way to reach the team: never a guess. Opening hours are worked out for the day asked
about ("are you open now?", "on Sunday?", "tomorrow?") on the spa's own clock. Pure: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.booking.when import DAY_NAMES, OpeningHours, format_clock, local_now, opening_hours_from_settings

# intent -> the settings that answer it, in the order they are said.
FRONT_DESK_SETTINGS: Dict[str, Tuple[str, ...]] = {
    "ask_hours": ("hours",),
    "ask_location": ("address", "directions"),
    "ask_parking": ("parking", "transit"),
    "ask_accessibility": ("accessibility",),
    "ask_gift_cards": ("gift_cards",),
    "ask_packages": ("packages",),
    "ask_couples": ("couples",),
    "ask_payment": ("payment",),
    "ask_age_rules": ("age_policy",),
    "ask_late_arrival": ("late_arrival",),
    "ask_what_to_bring": ("what_to_bring",),
    "ask_facilities": ("facilities",),
    "ask_walk_in": ("walk_ins",),
    "ask_booking_ahead": ("booking_ahead",),
    "ask_waiting_list": ("waiting_list",),
}
FRONT_DESK_INTENTS = frozenset(FRONT_DESK_SETTINGS)
# After these answers the person is most likely to want a time: the reply offers the booking form.
OFFERS_BOOKING = frozenset({"ask_walk_in", "ask_booking_ahead", "ask_waiting_list", "ask_couples", "ask_hours"})
SEXUAL_SERVICES_MIN_CONFIDENCE = 0.6
SEXUAL_SERVICES_REPLY = ("This is a professional therapeutic massage practice: we do not offer sexual services "
                         "of any kind.")

_DAY_WORDS = {
    **{name.lower(): index for index, name in enumerate(DAY_NAMES)},
    "mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4,
}
_DAY = re.compile(r"\b(" + "|".join(sorted(_DAY_WORDS, key=len, reverse=True)) + r")s?\b")
# "sat" and "sun" are days only where they cannot be ordinary words ("the sun", "I sat").
_SHORT_WEEKEND = re.compile(r"\b(?:on|open|this|next|every|r u open)\s+(sat|sun)s?\b")
_NOW = re.compile(r"\b(now|right now|at the moment|currently|still open|open yet)\b")
_TODAY = re.compile(r"\b(today|tonight|this (morning|afternoon|evening))\b")
_TOMORROW = re.compile(r"\b(tomorrow|tmrw|tmr|tomoz|tomorow)\b")
_HOLIDAY = re.compile(
    r"\b(holiday|holidays|christmas|xmas|new year|new years|thanksgiving|easter|july 4|4th of july|fourth of july|"
    r"independence day|labou?r day|memorial day|bank holiday|boxing day|good friday|public holiday)s?\b")
_CLOSE_QUESTION = re.compile(r"\b(close|closing|shut|latest|last appointment|last booking|till|until)\b")


@dataclass(frozen=True)
class FrontDeskAnswer:
    text: str
    offer_booking: bool = False
    known: bool = True  # False: the spa has not filled this in


def answer(intent: str, spa: Mapping[str, str], message: str, now: Optional[datetime] = None,
           contact_line: Callable[[Mapping[str, str]], str] = lambda spa: "") -> Optional[FrontDeskAnswer]:
    """The spa's answer to a front-desk question, or None when `intent` is not one.

    `now` is the spa's wall-clock time (naive), used for "open now?", "today" and "tomorrow".
    """
    keys = FRONT_DESK_SETTINGS.get(intent)
    if keys is None:
        return None
    if intent == "ask_hours":
        text = hours_answer(spa, message, now)
        if text is not None:
            return FrontDeskAnswer(text, offer_booking=True)
    parts = [str(spa.get(key) or "").strip() for key in keys]
    parts = [part for part in parts if part]
    if not parts:
        missing = "I don't have that information here, sorry."
        line = contact_line(spa)
        return FrontDeskAnswer(f"{missing} {line}".strip(), known=False)
    if intent == "ask_location" and spa.get("address"):
        parts[0] = f"We are at {str(spa['address']).strip().rstrip('.')}."
    if intent == "ask_booking_ahead" and spa.get("booking_url"):
        parts.append(f"You can book online at {spa['booking_url']}, or here in the chat.")
    return FrontDeskAnswer("\n\n".join(parts), offer_booking=intent in OFFERS_BOOKING)


def spa_now(spa: Mapping[str, str], utc_now: Optional[datetime] = None) -> Optional[datetime]:
    """The spa's wall-clock time, or None when its hours or time zone cannot be read."""
    try:
        return local_now(opening_hours_from_settings(spa), utc_now)
    except (ValueError, LookupError):
        return None


def hours_answer(spa: Mapping[str, str], message: str, now: Optional[datetime]) -> Optional[str]:
    """Opening hours for the day the person asks about, then the week's hours; None when the spa
    has no readable `opening_hours` (the plain `hours` text answers instead)."""
    try:
        hours = opening_hours_from_settings(spa)
    except ValueError:
        return None
    text = " ".join(message.lower().split())
    closed = closed_dates(spa.get("closed_dates") or "")
    lines: List[str] = []
    if now is not None and _NOW.search(text) and not _DAY.search(text):
        lines.append(_open_now(hours, now, closed))
    else:
        day = _asked_day(text, now)
        if day is not None:
            lines.append(_day_hours(hours, day, now, closed))
    if _HOLIDAY.search(text) and str(spa.get("holidays") or "").strip():
        lines.append(str(spa["holidays"]).strip())
    week = f"Our opening hours: {hours.describe()}."
    if not lines or lines[-1] != week:
        lines.append(week)
    return "\n\n".join(lines)


def closed_dates(text: str) -> Sequence[date]:
    """`closed_dates` ("2026-12-25, 2027-01-01"); anything unreadable is skipped here (the
    content editor and the loader report it)."""
    found = []
    for part in re.split(r"[,\s;]+", text or ""):
        try:
            found.append(date.fromisoformat(part))
        except ValueError:
            continue
    return sorted(found)


def _asked_day(text: str, now: Optional[datetime]) -> Optional[object]:
    """A weekday index (0 = Monday) or a date for "today"/"tomorrow"; None when no day is named."""
    if now is not None and _TOMORROW.search(text):
        return (now + timedelta(days=1)).date()
    if now is not None and _TODAY.search(text):
        return now.date()
    match = _DAY.search(text)
    if match:
        return _DAY_WORDS[match.group(1)]
    weekend = _SHORT_WEEKEND.search(text)
    if weekend:
        return 5 if weekend.group(1) == "sat" else 6
    return None


def _day_hours(hours: OpeningHours, day: object, now: Optional[datetime], closed: Sequence[date]) -> str:
    if isinstance(day, date):
        label = "Today" if now is not None and day == now.date() else "Tomorrow"
        label = f"{label} ({DAY_NAMES[day.weekday()]})"
        if day in closed:
            return f"{label} we are closed for the holiday."
        window = hours.days.get(day.weekday())
    else:
        label = f"On {DAY_NAMES[int(day)]}s"
        window = hours.days.get(int(day))
    if window is None:
        return f"{label} we are closed."
    return f"{label} we are open {format_clock(window[0])} to {format_clock(window[1])}."


def _open_now(hours: OpeningHours, now: datetime, closed: Sequence[date]) -> str:
    window = hours.days.get(now.weekday())
    if window is not None and now.date() not in closed and window[0] <= now.time() < window[1]:
        return f"Yes, we are open now, until {format_clock(window[1])} today."
    for ahead in range(0, 15):
        day = now.date() + timedelta(days=ahead)
        window = hours.days.get(day.weekday())
        if window is None or day in closed or (ahead == 0 and now.time() >= window[0]):
            continue
        when = "later today" if ahead == 0 else ("tomorrow" if ahead == 1 else f"on {DAY_NAMES[day.weekday()]}")
        return f"We are closed right now. We open again {when} at {format_clock(window[0])}."
    return "We are closed right now."
