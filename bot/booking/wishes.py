"""What a person asks for when they want to be offered times: a moment, a window, a therapist.

Why this is not `when.parse_preferred_time`: that reads one preferred moment, which suits
"tomorrow at 4" but not most of what people write when they want a choice: "Saturday morning",
"after work on Thursday", "next week", "the earliest you have, with Maria". Those are windows and
preferences, and `availability.Request` takes them as plain values. This module turns a message
into those values (a `Wish`) and reuses when.py's reading of days and clock times, so "Friday",
"the 12th" and "at 4" mean the same thing in both places.

How a message is read:
- a length ("a 60 minute massage", "an hour and a half") is set aside first: it is never a time;
- a clock time ("at 4", "3pm", "10:30", "noon") goes to `parse_preferred_time`; when it is ok it
  is `exact`, otherwise its status (closed, past, too far, ambiguous) is kept for the form to
  explain or ask about. A bare "4" with no day is ambiguous, as in when.py;
- parts of the day are windows, not times: morning runs from the spa's opening to 12:00,
  lunchtime 11:30 to 14:00, afternoon 12:00 to 17:00, evening, "tonight" and "after work" 17:00
  to midnight; "before 11", "after 3pm" and "between 2 and 4" bound the time of day the same way.
  A bare hour as a start reads as when.py reads it ("after 5" is 5 pm); as an end it is the half
  of the day that leaves some opening hours before it ("before 11" is 11 am, "before 8" at a spa
  opening at 9 is 8 pm);
- a named day ("tomorrow", "Friday", "on the 12th", "Dec 12") is that date as `earliest` and
  `latest`; a weekday name also fills `weekdays`, so a form that finds the coming Saturday full
  can drop the dates and offer any Saturday morning;
- "next week" is Monday to Sunday of next week (weeks start on Monday), "this week" today to
  Sunday, "this weekend" the coming Saturday and Sunday; "weekends", "any weekday", "Tuesdays"
  and "Tuesday to Thursday" are weekdays only;
- "earliest", "as soon as possible", "first available", "today if possible", and the flexible
  "any time", "whenever", ask for the soonest time rather than a window; "10 at the earliest" is
  a bound, not that;
- "any therapist", "anyone", "doesn't matter who" leave the choice open; "a woman therapist",
  "male only" and "no men please" ask for a gender ("female"/"male"), while "I'm a woman" only
  describes the person;
- a therapist is named ("with Maria", "maria please", "can I see Sam") as a whole word, so "Sam"
  is not found in "same"; a name of four letters or more may carry one typo when the words around
  it say a person is meant ("with Mraia"), and a name that is also a word ("Will", "May") only
  then. A name after "not", "except" or "anyone but" is not a wish for that person. "with Bob",
  capitalised, when no Bob works here, is kept as `unknown_therapist` so the form can say so
  instead of silently offering someone else.

Days are the spa's calendar days and datetimes are built from wall-clock times with zoneinfo in
the spa's zone, never by adding hours to an aware datetime, so windows stay right over the nights
the clocks change.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple, TypedDict
from zoneinfo import ZoneInfo

from bot.booking.when import (
    _DAY_KEYS,
    _MONTH_KEYS,
    _WEEKDAY,
    AMBIGUOUS,
    CLOSED,
    DAY_NAMES,
    MAX_DAYS_AHEAD,
    MAX_TEXT as WHEN_MAX_TEXT,
    OK,
    PAST,
    TOO_FAR,
    UNPARSED,
    OpeningHours,
    _bare_hour,
    _normalise,
    _read,
    parse_preferred_time,
)

FEMALE = "female"
MALE = "male"

# Long messages are read up to here; the time itself goes to when.py, which reads 200 characters.
MAX_TEXT = 500
# Nearest free times around an exact time that is taken start this long before it, on its day.
EXACT_LEAD = timedelta(hours=2)

_MIDNIGHT = 24 * 60
_LAST_SECOND = time(23, 59, 59)


@dataclass(frozen=True)
class TherapistName:
    """Who can be asked for by name: just what reading a message needs, not the whole
    `availability.Therapist`, so the caller can build it from any list of the team."""

    id: str
    name: str
    gender: Optional[str] = None


@dataclass(frozen=True)
class Wish:
    """What a person asked for, read into the values `availability.Request` takes.

    `exact` is a precise time (aware, spa zone) when one was given, kept when it is closed, past
    or too far so the form can say which time it means; `time_status` is parse_preferred_time's
    status when that time is not ok (with `needs` for ambiguous, where `exact` is None), or
    closed/past/too_far when the days named cannot be offered at all. The window (`earliest`, `latest`, `weekdays`,
    `between`) follows availability.Request: `between` ends are excluded and time(0) is midnight.
    """

    exact: Optional[datetime] = None
    time_status: Optional[str] = None
    needs: Optional[str] = None
    earliest: Optional[datetime] = None
    latest: Optional[datetime] = None
    weekdays: Optional[FrozenSet[int]] = None
    between: Optional[Tuple[time, time]] = None
    earliest_possible: bool = False
    therapist_id: Optional[str] = None
    any_therapist: bool = False
    gender: Optional[str] = None
    unknown_therapist: Optional[str] = None

    @property
    def said_anything(self) -> bool:
        """Whether the message said anything about when or who, so "hmm" can be asked again
        instead of being answered with the first free time."""
        return any((
            self.exact is not None, self.time_status is not None, self.earliest is not None,
            self.latest is not None, self.weekdays is not None, self.between is not None,
            self.earliest_possible, self.therapist_id is not None, self.any_therapist,
            self.gender is not None, self.unknown_therapist is not None,
        ))


class RequestFields(TypedDict):
    """The keyword arguments of availability.Request that a wish decides."""

    earliest: Optional[datetime]
    latest: Optional[datetime]
    weekdays: Optional[FrozenSet[int]]
    between: Optional[Tuple[time, time]]
    therapist_id: Optional[str]
    gender: Optional[str]


def read_wish(
    text: str,
    now: datetime,
    hours: OpeningHours,
    therapists: Sequence[TherapistName],
    minutes: int = 60,
) -> Wish:
    """Read what a person asked for, so the booking form can offer real free times that fit it
    instead of asking for one exact time and refusing it. `now` is aware (a naive `now` is taken
    as the spa's wall-clock time); `minutes` is the session length, which decides whether a time
    fits before closing."""
    zone = ZoneInfo(hours.timezone)
    local = now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)
    wall_now = local.replace(tzinfo=None, second=0, microsecond=0)
    original = " ".join((text or "").split())[:MAX_TEXT]
    who = _read_who(original, therapists)
    timing = _read_timing(who.rest, wall_now, hours, minutes)
    return Wish(
        exact=None if timing.exact is None else timing.exact.replace(tzinfo=zone),
        time_status=timing.status,
        needs=timing.needs,
        earliest=None if timing.first_day is None else datetime.combine(timing.first_day, time(0), tzinfo=zone),
        latest=None if timing.last_day is None else datetime.combine(timing.last_day, _LAST_SECOND, tzinfo=zone),
        weekdays=timing.weekdays,
        between=timing.between,
        earliest_possible=timing.soonest,
        therapist_id=who.therapist_id,
        any_therapist=who.anyone,
        gender=who.gender,
        unknown_therapist=who.unknown,
    )


def to_request_fields(wish: Wish) -> RequestFields:
    """The window and the person to search, as `Request(service=..., now=..., **fields)`.

    An exact time is checked by the caller first; if it is taken, the nearest free times are the
    useful answer, so the window then starts two hours before it on its day and runs on from
    there. A named therapist already settles who, so a gender said alongside is not passed on
    (both are strict in the search, and a clash would offer nothing)."""
    gender = None if wish.therapist_id is not None else wish.gender
    if wish.exact is not None:
        return RequestFields(
            earliest=_lead_up_to(wish.exact), latest=None, weekdays=None, between=None,
            therapist_id=wish.therapist_id, gender=gender,
        )
    return RequestFields(
        earliest=wish.earliest, latest=wish.latest, weekdays=wish.weekdays, between=wish.between,
        therapist_id=wish.therapist_id, gender=gender,
    )


def _lead_up_to(exact: datetime) -> datetime:
    """EXACT_LEAD before `exact` on the wall clock, not before its day's midnight, localised again
    so a change of clocks in between is taken into account."""
    wall = exact.replace(tzinfo=None)
    start = max(wall - EXACT_LEAD, datetime.combine(wall.date(), time(0)))
    return start.replace(tzinfo=exact.tzinfo)


# --- who -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Who:
    therapist_id: Optional[str]
    anyone: bool
    gender: Optional[str]
    unknown: Optional[str]
    rest: str  # the message without what was read here, for reading the time


_ANYONE = re.compile(
    r"\b(?:any\s+(?:therapist|masseuse|masseur|one|body|gender|of\s+(?:them|you))|anyone|anybody|whoever"
    r"|(?:does\s*n[o']?t|doesn't|don'?t|do\s+not)\s+(?:really\s+)?(?:matter|mind|care)\s+(?:about\s+)?who"
    r"|no\s+preference\s+(?:on|for|about|of)?\s*(?:the\s+)?(?:therapist|who)"
    r"|(?:i'?m\s+)?(?:flexible|easy)\s+(?:on|about|with|as\s+to)\s+(?:the\s+)?(?:who|therapist))\b",
    re.IGNORECASE,
)
_GENDER_WORDS = {
    "woman": FEMALE, "women": FEMALE, "female": FEMALE, "lady": FEMALE, "ladies": FEMALE, "girl": FEMALE,
    "man": MALE, "men": MALE, "male": MALE, "guy": MALE, "gentleman": MALE, "gent": MALE, "bloke": MALE,
}
_GENDER = "|".join(sorted(_GENDER_WORDS, key=len, reverse=True))
_GENDER_PHRASE = re.compile(
    r"\b(?:(?:a|an)\s+(?P<a>" + _GENDER + r")(?!'s)"
    r"|(?:prefer|want|like|need|request|rather\s+have)\s+(?P<pref>" + _GENDER + r")"
    r"|(?P<kind>" + _GENDER + r")\s+(?:therapists?|masseuses?|masseurs?|practitioners?|staff|only|one|please))\b",
    re.IGNORECASE,
)
# "I'm a woman" describes the person, not the therapist they want.
_SELF_DESCRIPTION = re.compile(r"(?:\bi'?m|\bi\s+am|\bas|\bis|\bwas|\bbeing)\s+$", re.IGNORECASE)
# "not Sam", "anyone but Sam", "no male therapists": what follows is what the person does not want
# ("but with Maria" is still a wish for Maria).
_NEGATION = re.compile(
    r"(?:(?:\bnot|\bno|\bexcept|\bwithout|\bother\s+than|\bapart\s+from|\bbesides|\binstead\s+of"
    r"|\bdon'?t\s+want|\brather\s+not(?:\s+have)?)\s+(?:(?:a|an|with)\s+)?|\bbut\s+(?:(?:a|an)\s+)?)$",
    re.IGNORECASE,
)
_CUE_BEFORE = re.compile(
    r"(?:\bwith|\bsee|\bbook|\bbooking|\bprefer|\bwant|\brequest|\bhave|\bfor|\bby|\bask\s+for)\s+$", re.IGNORECASE
)
_CUE_AFTER = re.compile(r"^(?:'s)?\s*(?:please|pls|plz|again|if\s+(?:possible|she|he|they))\b", re.IGNORECASE)
_REMOVABLE_CUE = re.compile(r"(?:\bwith|\bsee|\bby)\s+$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*(?:'[A-Za-z]+)?")
# A capitalised word after "with"/"see" is a name only when nothing follows that makes it
# something else ("with Deep Tissue", "with Swedish massage").
_UNKNOWN_NAME = re.compile(
    r"\b(?i:with|see|(?:therapist|masseuse|masseur|someone|person)\s+(?:called|named))\s+"
    r"(?P<name>[A-Z][A-Za-z\-]+)(?=\s*$|\s*[.,!?;:)]|\s+(?i:please|pls|on|at|this|next|tomorrow|today|for|if"
    r"|again|or|and|in|around|about|after|before|instead)\b)"
)
# Words that may follow "with"/"see" capitalised but are never a therapist's name.
_NOT_NAMES = frozenset(
    "i you me him her them us it my your our his their this that the a an any anyone anybody someone "
    "somebody whoever no yes thanks thank please everyone".split()
) | frozenset(_GENDER_WORDS) | frozenset(_DAY_KEYS) | frozenset(_MONTH_KEYS) | frozenset({
    "today", "tomorrow", "tonight", "morning", "afternoon", "evening", "noon", "midday", "weekend", "week",
})
# Names that are also ordinary words count only when the message clearly means a person.
_ORDINARY_WORDS = frozenset(
    "will may june april august mark grace hope joy faith rose summer sunny max bill pat sue dawn "
    "holly ivy jade amber pearl ruby crystal sky river rich frank earnest art jack page".split()
) | frozenset(_DAY_KEYS) | frozenset(_MONTH_KEYS)


def _read_who(text: str, therapists: Sequence[TherapistName]) -> _Who:
    """Who the person would like: a named therapist, anyone, or a therapist of a gender."""
    spans: List[Tuple[int, int]] = []
    anyone = False
    for found in _ANYONE.finditer(text):
        anyone = True
        spans.append(found.span())
    gender = _read_gender(text, spans)
    therapist_id = _find_therapist(text, therapists, spans)
    unknown = None
    if therapist_id is None:
        unknown = _find_unknown_name(text, therapists, spans)
    return _Who(therapist_id, anyone, gender, unknown, _cut(text, spans))


def _read_gender(text: str, spans: List[Tuple[int, int]]) -> Optional[str]:
    """"a woman therapist", "male only", "no men please": the gender asked for, if only one."""
    asked: Set[str] = set()
    for found in _GENDER_PHRASE.finditer(text):
        before = text[: found.start()]
        if _SELF_DESCRIPTION.search(before):
            continue
        word = (found["a"] or found["pref"] or found["kind"]).lower()
        gender = _GENDER_WORDS[word]
        if _NEGATION.search(before):
            gender = MALE if gender == FEMALE else FEMALE
        asked.add(gender)
        spans.append(found.span())
    return asked.pop() if len(asked) == 1 else None


def _find_therapist(text: str, therapists: Sequence[TherapistName], spans: List[Tuple[int, int]]) -> Optional[str]:
    """The first therapist named in the text, as a whole word (full name or first name)."""
    lowered = text.lower()
    for therapist in therapists:
        full = " ".join(therapist.name.lower().split())
        if " " in full:
            found = re.search(r"(?<![a-z])" + re.escape(full) + r"(?![a-z])", lowered)
            if found and not _NEGATION.search(text[: found.start()]):
                spans.append(_with_cue(text, found.span()))
                return therapist.id
    first_names = [_first_name(therapist) for therapist in therapists]
    for found in _WORD.finditer(text):
        word = found.group().lower()
        word = word[:-2] if word.endswith("'s") else word
        if not any(_one_edit_apart(word, name) for name in first_names if name):
            continue
        before, after = text[: found.start()], text[found.end():]
        if _NEGATION.search(before):
            continue
        cued = bool(_CUE_BEFORE.search(before) or _CUE_AFTER.search(after))
        capitalised = found.group()[0].isupper() and not _starts_sentence(before)
        matched = _match_name(word, therapists, cued, capitalised)
        if matched is not None:
            spans.append(_with_cue(text, found.span()))
            return matched
    return None


def _match_name(word: str, therapists: Sequence[TherapistName], cued: bool, capitalised: bool) -> Optional[str]:
    """The one therapist whose first name is `word`, or (when the message clearly means a
    person) within one typo of it; None when no one, or several, would fit."""
    if word in _ORDINARY_WORDS and not (cued or capitalised):
        return None
    exact = [t.id for t in therapists if _first_name(t) == word]
    if exact:
        return exact[0] if len(exact) == 1 else None
    if len(word) < 4 or word in _ORDINARY_WORDS or word in _NOT_NAMES or not (cued or capitalised):
        return None
    close = [t.id for t in therapists if len(_first_name(t)) >= 4 and _one_edit_apart(word, _first_name(t))]
    return close[0] if len(close) == 1 else None


def _find_unknown_name(text: str, therapists: Sequence[TherapistName], spans: List[Tuple[int, int]]) -> Optional[str]:
    """A name asked for that nobody here has ("with Bob"), so the form can say so."""
    first_names = [_first_name(therapist) for therapist in therapists]
    for found in _UNKNOWN_NAME.finditer(text):
        name = found["name"]
        if name.lower() in _NOT_NAMES or _NEGATION.search(text[: found.start()]):
            continue
        if any(_one_edit_apart(name.lower(), first) for first in first_names if first):
            continue  # someone here, but more than one person shares the name: not unknown
        spans.append(found.span())
        return name
    return None


def _first_name(therapist: TherapistName) -> str:
    parts = therapist.name.lower().split()
    return parts[0] if parts else ""


def _starts_sentence(before: str) -> bool:
    return not before.strip() or before.rstrip()[-1] in ".!?"


def _with_cue(text: str, span: Tuple[int, int]) -> Tuple[int, int]:
    """Widen a name's span over "with"/"see"/"by" before it, so what is left reads as time only."""
    cue = _REMOVABLE_CUE.search(text[: span[0]])
    return (cue.start(), span[1]) if cue else span


def _one_edit_apart(left: str, right: str) -> bool:
    """Whether two words differ by at most one insertion, deletion, substitution or swap of
    neighbouring letters: the typos people make in a name ("Mraia", "Prya")."""
    if left == right:
        return True
    if abs(len(left) - len(right)) > 1:
        return False
    if len(left) == len(right):
        diffs = [i for i, (a, b) in enumerate(zip(left, right)) if a != b]
        if len(diffs) == 1:
            return True
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and left[diffs[0]] == right[diffs[1]] and left[diffs[1]] == right[diffs[0]])
    shorter, longer = sorted((left, right), key=len)
    index = next((i for i, (a, b) in enumerate(zip(shorter, longer)) if a != b), len(shorter))
    return shorter[index:] == longer[index + 1:]


def _cut(text: str, spans: Iterable[Tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return " ".join("".join(chars).split())


# --- when ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Timing:
    exact: Optional[datetime] = None  # spa wall time
    status: Optional[str] = None
    needs: Optional[str] = None
    first_day: Optional[date] = None
    last_day: Optional[date] = None
    weekdays: Optional[FrozenSet[int]] = None
    between: Optional[Tuple[time, time]] = None
    soonest: bool = False


# A length is not a time: "a 60 minute massage", "90-min", "an hour and a half" (after
# when._normalise, "an hour" reads "1 hour"). "in 2 hours" and "2 hours from now" are times.
_DURATION = re.compile(
    r"(?<!\bin )\b\d{1,3}(?:\.\d)?\s*-?\s*(?:minutes?|mins?|hours?|hrs?|h)\b"
    r"(?:\s+and\s+(?:a|1)\s+half)?(?!\s+(?:from\s+now|later))"
    r"|\bhalf\s+(?:an?\s+|1\s+)?hour\b"
)
_SOONEST = re.compile(
    r"\b(?:(?:the\s+)?(?:earliest|soonest)(?:\s+possible)?|(?<!see you )(?:as\s+)?soon(?:er)?(?:\s+as\s+(?:possible|poss|you\s+can))?"
    r"|(?:the\s+)?sooner\s+the\s+better|asap|a\.s\.a\.p\b\.?|(?:the\s+)?(?:first|next)\s+(?:available|free|open|opening)"
    r"|as\s+early\s+as\s+(?:possible|you\s+can)|today\s+if\s+(?:possible|you\s+can|poss)"
    r"|right\s+(?:now|away)|straight\s+away|immediately|any\s*time|whenever|i'?m\s+flexible"
    r"|(?<!from )(?<!for )(?<!by )(?<!just )(?<!until )(?<!till )now)\b"
)
# when.py reads "sat" and "sun" as days; in "I sat at my desk" or "out in the sun" they are not.
_NOT_A_DAY = re.compile(r"\b(?P<lead>i|we|you|he|she|they|have|had|just|always|been)\s+sat\b|\bthe\s+sun\b")


def _clock(name: str) -> str:
    """A time of day written after "before", "after", "between"..., with its parts named."""
    return (
        rf"(?:(?P<{name}_word>noon|midday|midnight)"
        rf"|(?P<{name}_hour>\d{{1,2}})(?:[:.](?P<{name}_minute>[0-5]\d))?\s*(?P<{name}_ampm>[ap]\.?\s?m\b\.?)?)"
        r"(?![\d/]|(?:st|nd|rd|th)\b|\s*(?:days?|weeks?|people|persons?|guests?|of\s+us)\b)"
    )


_RANGE = re.compile(
    r"\b(?:between|from)\s+" + _clock("a") + r"\s*(?:and|to|-|until|till|til)\s*" + _clock("b")
    + r"|\b" + _clock("a2") + r"\s*(?:-|to)\s*(?P<b2_hour>\d{1,2})(?:[:.](?P<b2_minute>[0-5]\d))?\s*"
    r"(?P<b2_ampm>[ap]\.?\s?m\b\.?)(?P<b2_word>)"
)
_START_BOUND = re.compile(
    r"\b(?:after|from|not\s+before|later\s+than|no\s+earlier\s+than)\s+" + _clock("t")
    + r"|\b" + _clock("t2") + r"\s+(?:at\s+the\s+earliest|or\s+(?:later|after)|onwards?)\b"
)
_END_BOUND = re.compile(
    r"\b(?:before|until|till|til|by|no\s+later\s+than|not\s+after|up\s+to)\s+" + _clock("t")
    + r"|\b" + _clock("t2") + r"\s+(?:at\s+the\s+latest|or\s+(?:earlier|before|sooner))\b"
)

# A stretch of the day in minutes from midnight, end excluded; a start of None is the opening.
_Span = Tuple[Optional[int], int]

# Parts of the day as windows.
_PARTS: Dict[str, _Span] = {
    "first thing": (None, 10 * 60), "early morning": (None, 10 * 60), "late morning": (10 * 60, 12 * 60),
    "morning": (None, 12 * 60), "before lunch": (None, 11 * 60 + 30), "after lunch": (14 * 60, 17 * 60),
    "lunchtime": (11 * 60 + 30, 14 * 60), "lunch time": (11 * 60 + 30, 14 * 60),
    "lunch break": (11 * 60 + 30, 14 * 60), "lunch hour": (11 * 60 + 30, 14 * 60),
    "lunch": (11 * 60 + 30, 14 * 60), "early afternoon": (12 * 60, 14 * 60),
    "late afternoon": (15 * 60, 17 * 60), "afternoon": (12 * 60, 17 * 60),
    "early evening": (17 * 60, 19 * 60), "evening": (17 * 60, _MIDNIGHT), "tonight": (17 * 60, _MIDNIGHT),
    "tonite": (17 * 60, _MIDNIGHT), "after work": (17 * 60, _MIDNIGHT), "after-work": (17 * 60, _MIDNIGHT),
}
_PART = re.compile(r"\b(?:" + "|".join(re.escape(name) for name in sorted(_PARTS, key=len, reverse=True)) + r")s?\b")

_DAY_NAME = "|".join(sorted(_DAY_KEYS, key=len, reverse=True))
_FULL_DAY_NAME = "|".join(name.lower() for name in DAY_NAMES)
_DAY_SPAN = re.compile(
    r"\b(?P<first>" + _DAY_NAME + r")(?:day)?\s*(?:-|to|through|thru|till|until)\s*(?P<last>" + _DAY_NAME + r")(?:day)?\b"
)
_PLURAL_DAY = re.compile(r"\b(?:(?P<day>" + _FULL_DAY_NAME + r")s|(?:any|every)\s+(?P<any>" + _DAY_NAME + r")(?:day)?)\b")
_WEEKENDS = re.compile(r"\bweekends\b|\b(?:any|a|every)\s+weekend\b")
_WEEKDAYS = re.compile(r"\bweekdays?\b|\bduring\s+the\s+week\b(?!end)|\bin\s+the\s+week\b(?!end)")
_MIDWEEK = re.compile(r"\bmid-?week\b")
# Ranges of whole days, as (first, last) offsets from this week's Monday; "this" ones begin today.
_WEEK_RANGES = (
    (re.compile(r"\bweek\s+after\s+next\b"), (14, 20), None, False),
    (re.compile(r"\bnext\s+weekend\b"), (12, 13), frozenset({5, 6}), False),
    (re.compile(r"(?<!any )(?<!every )(?<!\ba )\bweekend\b"), (5, 6), frozenset({5, 6}), True),
    (re.compile(r"\bnext\s+week\b"), (7, 13), None, False),
    (re.compile(r"\b(?:this|later\s+this|rest\s+of\s+the)\s+week\b"), (0, 6), None, True),
)


def _read_timing(text: str, now: datetime, hours: OpeningHours, minutes: int) -> _Timing:
    """When the person would like to come: an exact time, a window, or the soonest time.
    `now` is the spa's wall-clock time."""
    plain = f" {_normalise(text)} "
    plain = _NOT_A_DAY.sub(lambda m: f" {m['lead'] or ''} ", plain)
    plain = _DURATION.sub(" ", plain)
    bounds, plain = _read_bounds(plain, hours, minutes)
    soonest = bool(_SOONEST.search(plain))
    plain = _SOONEST.sub(" ", plain)
    parts = [_PARTS[_singular(found.group())] for found in _PART.finditer(plain)]
    without_parts = _PART.sub(" ", plain)

    # Both readings see no more than parse_preferred_time does, so they cannot disagree.
    time_text = " ".join(plain.split())[:WHEN_MAX_TEXT]
    reading = _read(time_text, now, hours, minutes) if time_text else None
    clock_text = " ".join(without_parts.split())[:WHEN_MAX_TEXT]
    clock_reading = _read(clock_text, now, hours, minutes) if clock_text else None
    clock_given = clock_reading is not None and clock_reading.clock is not None

    first_day, last_day, weekdays = _read_days(time_text, reading.day if reading else None, now.date())
    between = _between(parts, bounds, weekdays, first_day, last_day, hours)

    exact: Optional[datetime] = None
    status: Optional[str] = None
    needs: Optional[str] = None
    if clock_given:
        preferred = parse_preferred_time(time_text, now, hours, minutes)
        if preferred.status not in (OK, UNPARSED):
            status, needs = preferred.status, preferred.needs
        if preferred.status != AMBIGUOUS:
            exact = preferred.when
    else:
        status = _day_status(first_day, last_day, weekdays, between, now, hours)
    return _Timing(exact, status, needs, first_day, last_day, weekdays, between, soonest)


def _read_bounds(plain: str, hours: OpeningHours, minutes: int) -> Tuple[List[_Span], str]:
    """"between 2 and 4", "after 3pm", "before 11", as (start, end) minutes of the day (a start
    of None is the spa's opening), and the text without them."""
    bounds: List[_Span] = []

    def take_range(found: "re.Match[str]") -> str:
        prefix = "a" if found["a_hour"] or found["a_word"] else "a2"
        window = _clock_pair(found, prefix, "b2" if prefix == "a2" else "b", hours, minutes)
        if window is not None:
            bounds.append(window)
        return " "

    def take(is_end: bool) -> Callable[["re.Match[str]"], str]:
        def replace(found: "re.Match[str]") -> str:
            prefix = "t" if found["t_hour"] or found["t_word"] else "t2"
            value = _clock_value(found, prefix, is_end, hours, minutes)
            if value is not None:
                bounds.append((None, value) if is_end else (value, _MIDNIGHT))
            return " "
        return replace

    plain = _RANGE.sub(take_range, plain)
    plain = _START_BOUND.sub(take(False), plain)
    plain = _END_BOUND.sub(take(True), plain)
    return bounds, plain


def _clock_value(found: "re.Match[str]", prefix: str, is_end: bool, hours: OpeningHours, minutes: int,
                 half: Optional[str] = None) -> Optional[int]:
    """Minutes of the day for one written bound. A bare hour takes the half of the day when.py
    would give a session starting then; as an end ("before 8"), the half that leaves some of the
    open day before it. `half` ("am"/"pm") is a suffix borrowed from the other end of a range."""
    word = found[f"{prefix}_word"]
    if word:
        if word == "midnight":
            return _MIDNIGHT if is_end else None
        return 12 * 60
    hour_text, minute_text = found[f"{prefix}_hour"], found[f"{prefix}_minute"]
    hour, minute = int(hour_text), int(minute_text or 0)
    ampm = found[f"{prefix}_ampm"]
    suffix = ("am" if ampm.startswith("a") else "pm") if ampm else half
    if suffix is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif hour > 23:
        return None
    elif not (hour == 0 or hour >= 13 or (minute_text and hour_text.startswith("0"))):
        resolved = _end_hour(hour, minute, hours) if is_end else _bare_hour(hour, None, None, hours, minutes, minute)
        if resolved is None:
            return None
        hour = resolved
    value = hour * 60 + minute
    return _MIDNIGHT if is_end and value == 0 else value


def _end_hour(hour: int, minute: int, hours: OpeningHours) -> int:
    """"before 11" is 11 am, "before 5" is 5 pm, and "before 8" at a spa that opens at 9 is 8 pm:
    an end only makes sense with some opening hours before it."""
    if hour == 12:
        return 12
    opening = min((_minutes(opens) for opens, _ in hours.days.values()), default=0)
    return hour if 8 <= hour <= 11 and hour * 60 + minute > opening else hour + 12


def _clock_pair(found: "re.Match[str]", first: str, second: str, hours: OpeningHours,
                minutes: int) -> Optional[_Span]:
    """Both ends of "between 2 and 4" / "10-2" / "2-4pm", read so the end comes after the start."""
    end = _clock_value(found, second, True, hours, minutes)
    if end is None:
        return None
    start: Optional[int] = None
    second_ampm = found[f"{second}_ampm"]
    if second_ampm and not found[f"{first}_ampm"] and not found[f"{first}_word"]:
        own = "am" if second_ampm.startswith("a") else "pm"
        for half in (own, "pm" if own == "am" else "am"):
            candidate = _clock_value(found, first, False, hours, minutes, half)
            if candidate is not None and candidate < end:
                start = candidate
                break
    else:
        start = _clock_value(found, first, False, hours, minutes)
    if start is None:
        return None
    if end <= start and not second_ampm and end + 12 * 60 <= _MIDNIGHT and end < 12 * 60:
        end += 12 * 60
    return (start, end) if start < end else None


def _read_days(text: str, day: Optional[date], today: date) -> Tuple[Optional[date], Optional[date], Optional[FrozenSet[int]]]:
    """Which days: one date, a run of dates ("next week"), weekdays ("Tuesdays"), or both."""
    named = _named_weekdays(text)
    first: Optional[date] = None
    last: Optional[date] = None
    weekdays: Optional[FrozenSet[int]] = None
    if named is not None:
        weekdays = named
    elif day is not None:
        first = last = day
        if any(_DAY_KEYS[found["day"]] == day.weekday() for found in _WEEKDAY.finditer(text)):
            weekdays = frozenset({day.weekday()})
    if first is None:
        monday = today - timedelta(days=today.weekday())
        for pattern, (start, end), days, from_today in _WEEK_RANGES:
            if pattern.search(text):
                first = max(today, monday + timedelta(days=start)) if from_today else monday + timedelta(days=start)
                last = monday + timedelta(days=end)
                weekdays = days if weekdays is None else weekdays
                break
    for pattern, days in ((_WEEKENDS, frozenset({5, 6})), (_WEEKDAYS, frozenset(range(5))),
                          (_MIDWEEK, frozenset({1, 2, 3}))):
        if pattern.search(text):
            weekdays = days if weekdays is None else (weekdays & days or weekdays)
    return first, last, weekdays


def _named_weekdays(text: str) -> Optional[FrozenSet[int]]:
    """Weekdays meant as a kind of day rather than one date: "Tuesdays", "any Friday",
    "Tuesday or Thursday", "Monday to Wednesday"."""
    days: Set[int] = set()
    for found in _DAY_SPAN.finditer(text):
        first, last = _DAY_KEYS[found["first"]], _DAY_KEYS[found["last"]]
        days.update((first + offset) % 7 for offset in range((last - first) % 7 + 1))
    for found in _PLURAL_DAY.finditer(text):
        days.add(_DAY_KEYS[found["day"] or found["any"]])
    if days:
        return frozenset(days)
    single = {_DAY_KEYS[found["day"]] for found in _WEEKDAY.finditer(text)}
    return frozenset(single) if len(single) > 1 else None


def _between(parts: Sequence[_Span], bounds: Sequence[_Span], weekdays: Optional[FrozenSet[int]],
             first: Optional[date], last: Optional[date], hours: OpeningHours) -> Optional[Tuple[time, time]]:
    """The time of day asked for: the parts of the day named (together: "morning or early
    afternoon" is 9 to 2), narrowed by any bounds; a bound that leaves nothing wins alone.
    A start left open ("morning", "before 11") is the spa's opening on the days asked about."""
    opening = _opening_floor(hours, _days_in_scope(weekdays, first, last))

    def resolve(span: _Span) -> Tuple[int, int]:
        start, end = span
        return (opening if opening < end else 0) if start is None else start, end

    window: Optional[Tuple[int, int]] = None
    if parts:
        resolved = [resolve(part) for part in parts]
        window = (min(start for start, _ in resolved), max(end for _, end in resolved))
    for bound in map(resolve, bounds):
        if window is None:
            window = bound
            continue
        narrowed = (max(window[0], bound[0]), min(window[1], bound[1]))
        window = narrowed if narrowed[0] < narrowed[1] else bound
    if window is None:
        return None
    return _time_of(window[0]), _time_of(window[1])


def _days_in_scope(weekdays: Optional[FrozenSet[int]], first: Optional[date], last: Optional[date]) -> Set[int]:
    if first is not None and last is not None:
        count = min((last - first).days + 1, 7)
        dated = {(first + timedelta(days=offset)).weekday() for offset in range(max(count, 0))}
        return dated & set(weekdays) if weekdays is not None else dated
    return set(weekdays) if weekdays is not None else set(range(7))


def _opening_floor(hours: OpeningHours, days: Set[int]) -> int:
    """The earliest opening among the days asked about (all open days if none of them opens),
    so "morning" at a spa opening at 10 on Saturdays starts at 10 there."""
    open_days = [hours.days[day][0] for day in days if day in hours.days] or [
        opens for opens, _ in hours.days.values()
    ]
    return min((_minutes(opens) for opens in open_days), default=0)


def _day_status(first: Optional[date], last: Optional[date], weekdays: Optional[FrozenSet[int]],
                between: Optional[Tuple[time, time]], now: datetime, hours: OpeningHours) -> Optional[str]:
    """Why the days asked for cannot be offered at all, in when.py's words: all past, all
    closed, or too far ahead; None when some of them can."""
    if weekdays is not None and not any(day in hours.days for day in weekdays):
        return CLOSED
    if first is None or last is None:
        return None
    today = now.date()
    if last < today:
        return PAST
    if last == today and between is not None and between[1] != time(0) and between[1] <= now.time():
        return PAST
    if (first - today).days > MAX_DAYS_AHEAD:
        return TOO_FAR
    span = _days_in_scope(weekdays, max(first, today), last)
    if not any(day in hours.days for day in span):
        return CLOSED
    return None


def _singular(part: str) -> str:
    """"mornings" is read as "morning" (as in "weekday mornings")."""
    return part if part in _PARTS else part[:-1]


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _time_of(value: int) -> time:
    return time(0) if value >= _MIDNIGHT else time(value // 60, value % 60)
