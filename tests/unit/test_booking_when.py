"""Reading the times people ask for, against the spa's opening hours.

`NOW` is Thursday 26 November 2026, 3 pm at the spa, open Monday to Saturday, 9 am to 7 pm.
"""
from __future__ import annotations

from datetime import datetime, time
from typing import NamedTuple, Optional

import pytest

from bot.booking.when import (
    OpeningHours,
    PreferredTime,
    combine,
    describe_time,
    format_clock,
    local_now,
    next_open_slots,
    opening_hours_from_settings,
    parse_preferred_time,
)

NOW = datetime(2026, 11, 26, 15, 0)  # a Thursday
HOURS = opening_hours_from_settings({"opening_hours": "Mon-Sat 09:00-19:00", "timezone": "America/New_York"})


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


class Case(NamedTuple):
    text: str
    status: str
    when: Optional[datetime] = None
    needs: Optional[str] = None


CASES = [
    # the examples people give
    Case("next Tuesday after 5", "ok", at(1, 17, month=12)),
    Case("can I come next Tuesday after 5 please?", "ok", at(1, 17, month=12)),
    Case("tomorrow morning", "ok", at(27, 10)),
    Case("Saturday 10am", "ok", at(28, 10)),
    Case("Dec 3 at 2:30pm", "ok", at(3, 14, 30, month=12)),
    Case("in two days at 11", "ok", at(28, 11)),
    Case("this Friday 4pm", "ok", at(27, 16)),
    Case("Tuesday 1 December at 5 pm", "ok", at(1, 17, month=12)),
    # bare hours mean the half of the day the spa is open
    Case("tomorrow at 5", "ok", at(27, 17)),
    Case("tomorrow 5", "ok", at(27, 17)),
    Case("tomorrow around 2ish", "ok", at(27, 14)),
    Case("tomorrow 3 o'clock", "ok", at(27, 15)),
    Case("monday at 9", "ok", at(30, 9)),
    Case("tues 11", "ok", at(1, 11, month=12)),
    Case("wed at 1", "ok", at(2, 13, month=12)),
    Case("tomorrow at 12", "ok", at(27, 12)),
    Case("tomorrow at 5am", "closed", at(27, 5)),
    Case("tomorrow at 12am", "closed", at(27, 0)),
    Case("tomorrow 7", "closed", at(27, 19)),
    Case("tomorrow 8", "closed", at(27, 8)),
    Case("tomorrow evening at 6", "ok", at(27, 18)),
    Case("tomorrow 17:00", "ok", at(27, 17)),
    Case("10.30 tomorrow", "ok", at(27, 10, 30)),
    Case("Friday at 16h00", "ok", at(27, 16)),
    Case("half past four tomorrow", "ok", at(27, 16, 30)),
    Case("quarter to 5 tomorrow", "ok", at(27, 16, 45)),
    # parts of the day
    Case("tonight", "ok", at(26, 17)),
    Case("this afternoon", "ok", at(26, 16)),
    Case("this morning please", "past", at(26, 10)),
    Case("tomorrow at noon", "ok", at(27, 12)),
    Case("friday lunchtime", "ok", at(27, 12)),
    Case("friday lunchtime at 1", "ok", at(27, 13)),
    Case("tomorrow morning at 11", "ok", at(27, 11)),
    Case("saturday afternoon at 3", "ok", at(28, 15)),
    Case("saturday late afternoon", "ok", at(28, 16)),
    Case("first thing tomorrow", "ok", at(27, 9)),
    # weekdays: this, next, today's
    Case("next friday at 3", "ok", at(4, 15, month=12)),
    Case("next saturday at 10", "ok", at(5, 10, month=12)),
    Case("next week tuesday at 3", "ok", at(1, 15, month=12)),
    Case("Thursday 5pm", "ok", at(26, 17)),
    Case("Thursday at 10am", "ok", at(3, 10, month=12)),
    Case("this Thursday at 10am", "past", at(26, 10)),
    Case("today at 5", "ok", at(26, 17)),
    # dates, month ends and leap years
    Case("December third at 2pm", "ok", at(3, 14, month=12)),
    Case("the third of December at 2pm", "ok", at(3, 14, month=12)),
    Case("Dec. 3rd, 2026 at 2pm", "ok", at(3, 14, month=12)),
    Case("3. December at 2pm", "ok", at(3, 14, month=12)),
    Case("12/3 3pm", "ok", at(3, 15, month=12)),
    Case("2026-12-04 11:00", "ok", at(4, 11, month=12)),
    Case("the 30th at 10", "ok", at(30, 10)),
    Case("on the 1st at 10am", "ok", at(1, 10, month=12)),
    Case("Monday, December 7th at 9:30 am", "ok", at(7, 9, 30, month=12)),
    Case("jan 5 at 3pm", "ok", at(5, 15, month=1, year=2027)),
    Case("nov 31 at 3", "unparsed"),
    Case("2026-02-29 at 3pm", "unparsed"),
    Case("feb 29", "too_far", at(29, 0, month=2, year=2028)),
    # relative amounts
    Case("in an hour", "ok", at(26, 16)),
    Case("in 3 hours", "ok", at(26, 18)),
    Case("in 4 hours", "closed", at(26, 19)),
    Case("a week from today at 11", "ok", at(3, 11, month=12)),
    Case("day after tomorrow at 4", "ok", at(28, 16)),
    Case("in two weeks at 3pm", "ok", at(10, 15, month=12)),
    # missing halves
    Case("tomorrow", "ambiguous", needs="time"),
    Case("thursday", "ambiguous", needs="time"),
    Case("tomorrow before 5", "ambiguous", needs="time"),
    Case("tomorrow for 2 people", "ambiguous", needs="time"),
    Case("at 5", "ambiguous", needs="day"),
    Case("5", "ambiguous", needs="day"),
    Case("noon", "ambiguous", needs="day"),
    Case("next week", "ambiguous", needs="day"),
    # past
    Case("yesterday", "past", at(25, 0)),
    Case("earlier today", "past", NOW),
    Case("earlier this morning", "past", at(26, 10)),
    Case("last Monday at 10am", "past", at(23, 10)),
    Case("this past Thursday", "past", at(19, 0)),
    Case("tomorrow but earlier than 5", "ambiguous", needs="time"),
    Case("today at 2pm", "past", at(26, 14)),
    Case("nov 20 at 3pm", "past", at(20, 15)),
    # closed: a closed day, outside the hours, or a session that would end after closing
    Case("Sunday", "closed", at(29, 0)),
    Case("Sunday at 2pm", "closed", at(29, 14)),
    Case("8 pm", "closed", at(26, 20)),
    Case("5am", "closed", at(27, 5)),
    Case("Friday 6:30 pm", "closed", at(27, 18, 30)),
    Case("Friday 6pm", "ok", at(27, 18)),
    # too far ahead
    Case("March 1 2027 10am", "too_far", at(1, 10, month=3, year=2027)),
    Case("in 100 days at 3pm", "too_far", at(6, 15, month=3, year=2027)),
    # not a time at all
    Case("", "unparsed"),
    Case("   ", "unparsed"),
    Case("asdkjh qwe", "unparsed"),
    Case("I have 3 kids", "unparsed"),
    Case("<script>alert(1)</script>", "unparsed"),
    Case("mañana a las 5", "unparsed"),
    Case("😀", "unparsed"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.text or "<empty>")
def test_preferred_times(case: Case) -> None:
    result = parse_preferred_time(case.text, NOW, HOURS)
    assert (result.status, result.when, result.needs) == (case.status, case.when, case.needs)


def test_the_text_is_kept_stripped_and_short() -> None:
    assert parse_preferred_time("  tomorrow   at 5  ", NOW, HOURS).text == "tomorrow at 5"
    long = parse_preferred_time("tomorrow at 5 " + "x" * 5000, NOW, HOURS)
    assert len(long.text) == 200


def test_a_longer_session_must_still_end_by_closing_time() -> None:
    assert parse_preferred_time("Friday 6pm", NOW, HOURS, minutes=90).status == "closed"
    assert parse_preferred_time("Friday 6:30 pm", NOW, HOURS, minutes=30).status == "ok"


@pytest.mark.parametrize(
    "text, now, status, when",
    [
        ("tonight", at(26, 18), "closed", at(26, 19)),
        ("tonight", at(26, 17, 10), "ok", at(26, 18)),
        ("this afternoon", at(26, 17, 30), "past", at(26, 14)),
        ("this morning", at(26, 9, 15), "ok", at(26, 10)),
        ("this morning", at(26, 10, 20), "ok", at(26, 11)),
        ("tomorrow afternoon", at(26, 15, 30), "ok", at(27, 14)),
    ],
)
def test_later_the_same_day(text: str, now: datetime, status: str, when: datetime) -> None:
    result = parse_preferred_time(text, now, HOURS)
    assert (result.status, result.when) == (status, when)


def test_a_leap_day_and_a_month_end() -> None:
    leap_eve = datetime(2028, 2, 28, 12, 0)  # a Monday
    assert parse_preferred_time("tomorrow at 10am", leap_eve, HOURS).when == datetime(2028, 2, 29, 10)
    month_end = datetime(2026, 12, 30, 12, 0)
    assert parse_preferred_time("in two days at 11", month_end, HOURS).when == datetime(2027, 1, 1, 11)


class FollowUp(NamedTuple):
    first: str
    answer: str
    status: str
    when: Optional[datetime] = None
    needs: Optional[str] = None


FOLLOW_UPS = [
    FollowUp("next Tuesday", "at 3pm", "ok", at(1, 15, month=12)),
    FollowUp("next Tuesday", "5", "ok", at(1, 17, month=12)),
    FollowUp("tomorrow", "in the morning", "ok", at(27, 10)),
    FollowUp("at 5", "tomorrow", "ok", at(27, 17)),
    FollowUp("noon", "saturday", "ok", at(28, 12)),
    FollowUp("tomorrow", "friday at 2", "ok", at(27, 14)),
    FollowUp("tomorrow", "Saturday at 10am", "ok", at(28, 10)),
    FollowUp("Sunday at 3", "Monday", "ok", at(30, 15)),
    FollowUp("tomorrow", "Saturday", "ambiguous", needs="time"),
    FollowUp("tomorrow", "Sunday", "closed", at(29, 0)),
    FollowUp("next Tuesday", "5am", "closed", at(1, 5, month=12)),
    FollowUp("next Tuesday", "8pm", "closed", at(1, 20, month=12)),
    FollowUp("next week", "at 3", "ambiguous", needs="day"),
    FollowUp("tomorrow", "no idea", "unparsed"),
]


@pytest.mark.parametrize("case", FOLLOW_UPS, ids=lambda case: f"{case.first} + {case.answer}")
def test_a_follow_up_fills_the_missing_half(case: FollowUp) -> None:
    previous = parse_preferred_time(case.first, NOW, HOURS)
    result = combine(previous, case.answer, NOW, HOURS)
    assert (result.status, result.when, result.needs) == (case.status, case.when, case.needs)


def test_a_follow_up_keeps_both_messages_and_accepts_the_earlier_text() -> None:
    result = combine("next Tuesday", "at 3pm", NOW, HOURS)
    assert result == PreferredTime("ok", at(1, 15, month=12), "next Tuesday at 3pm")
    assert combine("tomorrow", "Saturday", NOW, HOURS).text == "Saturday"


def test_opening_hours_from_settings() -> None:
    hours = opening_hours_from_settings(
        {"opening_hours": "Mon-Fri 09:00-19:00; Sat 10:00-16:00", "timezone": "Europe/London"}
    )
    assert hours.days[0] == (time(9), time(19))
    assert hours.days[5] == (time(10), time(16))
    assert 6 not in hours.days
    assert hours.timezone == "Europe/London"
    assert hours.describe() == "Monday to Friday, 9 am to 7 pm; Saturday, 10 am to 4 pm"


@pytest.mark.parametrize(
    "setting, described",
    [
        ("Mon-Sat 09:00-19:00", "Monday to Saturday, 9 am to 7 pm"),
        ("Mon, Wed, Fri 9:30-17:00", "Monday, Wednesday and Friday, 9:30 am to 5 pm"),
        ("Sat-Sun 10:00-12:00", "Saturday and Sunday, 10 am to noon"),
        ("Fri-Mon 12:00-24:00", "Friday to Monday, noon to midnight"),
        ("Mon-Wed 09:00-17:00; Fri 09:00-17:00", "Monday to Wednesday and Friday, 9 am to 5 pm"),
        (
            "Mon 09:00-12:00; Wed-Thu 09:00-12:00; Sat 10:00-14:00",
            "Monday, Wednesday and Thursday, 9 am to noon; Saturday, 10 am to 2 pm",
        ),
        ("Tuesday 08:00-20:00\nThursday 08:00-20:00", "Tuesday and Thursday, 8 am to 8 pm"),
    ],
)
def test_describe_the_hours(setting: str, described: str) -> None:
    assert opening_hours_from_settings({"opening_hours": setting, "timezone": "UTC"}).describe() == described


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"timezone": "America/New_York"}, "opening_hours"),
        ({"opening_hours": "Mon-Sat 09:00-19:00"}, "timezone"),
        ({"opening_hours": "Mon-Sat 09:00-19:00", "timezone": "Mars/Olympus"}, "IANA"),
        ({"opening_hours": "every day 9 to 5", "timezone": "UTC"}, "should look like"),
        ({"opening_hours": "Mon-Sat 19:00-09:00", "timezone": "UTC"}, "closes before it opens"),
        ({"opening_hours": "Mon-Sat 09:00-25:00", "timezone": "UTC"}, "impossible time"),
        ({"opening_hours": "Mon-Fri 09:00-17:00; Fri 10:00-12:00", "timezone": "UTC"}, "Friday twice"),
        ({"opening_hours": "Mon-Funday 09:00-17:00", "timezone": "UTC"}, "not a day"),
    ],
)
def test_bad_settings_say_what_is_wrong(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        opening_hours_from_settings(settings)


@pytest.mark.parametrize(
    "when, minutes, expected",
    [
        (at(27, 9), 60, True),
        (at(27, 8, 59), 60, False),
        (at(27, 18), 60, True),
        (at(27, 18, 30), 60, False),
        (at(27, 18, 30), 30, True),
        (at(29, 12), 60, False),  # Sunday
    ],
)
def test_is_open(when: datetime, minutes: int, expected: bool) -> None:
    assert HOURS.is_open(when, minutes) is expected


def test_the_nearest_open_times() -> None:
    assert next_open_slots(at(26, 18, 30), HOURS) == [at(27, 9), at(27, 10), at(27, 11)]
    assert next_open_slots(at(29, 0), HOURS, count=2) == [at(30, 9), at(30, 10)]
    assert next_open_slots(at(28, 16, 10), HOURS) == [at(28, 17), at(28, 18), at(30, 9)]
    assert next_open_slots(at(28, 16, 10), HOURS, minutes=90) == [at(28, 17), at(30, 9), at(30, 10)]
    assert next_open_slots(at(26, 15), HOURS, count=0) == []


def test_times_read_back() -> None:
    assert describe_time(at(1, 17, month=12)) == "Tuesday 1 December at 5 pm"
    assert describe_time(at(1, 17, 30, month=12)) == "Tuesday 1 December at 5:30 pm"
    assert describe_time(at(5, 12, month=1, year=2027), now=NOW) == "Tuesday 5 January 2027 at noon"
    assert format_clock(time(9, 5)) == "9:05 am"


def test_local_now_is_the_spa_wall_clock() -> None:
    assert local_now(HOURS, datetime(2026, 11, 26, 20, 0, 30)) == NOW
    summer = OpeningHours(HOURS.days, "America/New_York")
    assert local_now(summer, datetime(2026, 7, 1, 19, 0)) == datetime(2026, 7, 1, 15, 0)


@pytest.mark.parametrize(
    "when",
    [at(27, 9), at(27, 12), at(28, 17, 30), at(1, 10, month=12), at(5, 14, month=1, year=2027), at(26, 17)],
)
def test_a_time_read_back_is_read_again_as_the_same_time(when: datetime) -> None:
    """The form offers suggestions as buttons whose text comes back as the answer."""
    result = parse_preferred_time(describe_time(when, NOW), NOW, HOURS)
    assert (result.status, result.when) == ("ok", when)


@pytest.mark.parametrize(
    "text, when",
    [("tomorrow at 9", at(27, 21)), ("tomorrow at 11", at(27, 11)), ("tomorrow at 5", at(27, 17))],
)
def test_a_bare_hour_follows_the_spas_own_hours(text: str, when: datetime) -> None:
    late = opening_hours_from_settings({"opening_hours": "Mon-Sun 11:00-22:00", "timezone": "Europe/Paris"})
    result = parse_preferred_time(text, NOW, late)
    assert (result.status, result.when) == ("ok", when)
