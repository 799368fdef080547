"""Reading what people ask for when they want to be offered times: an exact time, a window of
days and hours, the soonest time, a therapist by name, anyone, or a gender.

`NOW` is Monday 7 December 2026, 10 am in New York. The spa is open Monday to Saturday, 9 am to
7 pm. The team is Maria (female), Sam (male) and Priya (female). The coming days are Tuesday 8,
Wednesday 9, Thursday 10, Friday 11, Saturday 12 and (closed) Sunday 13 December; next week is
Monday 14 to Sunday 20.
"""
from __future__ import annotations

from dataclasses import fields
from datetime import datetime, time, timedelta
from typing import Any, Dict, NamedTuple, Sequence
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.booking.availability import Request, Room, Service, Spa, Therapist, find_slots, shifts
from bot.booking.when import OpeningHours, opening_hours_from_settings
from bot.booking.wishes import FEMALE, MALE, TherapistName, Wish, read_wish, to_request_fields

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=NEW_YORK)
HOURS = opening_hours_from_settings({"opening_hours": "Mon-Sat 09:00-19:00", "timezone": "America/New_York"})
TEAM = (
    TherapistName("maria", "Maria", FEMALE),
    TherapistName("sam", "Sam", MALE),
    TherapistName("priya", "Priya", FEMALE),
)
MIDNIGHT = time(0)


def read(text: str, now: datetime = NOW, hours: OpeningHours = HOURS,
         team: Sequence[TherapistName] = TEAM) -> Wish:
    return read_wish(text, now, hours, team)


def at(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def days(first: int, last: int, month: int = 12, year: int = 2026) -> Dict[str, Any]:
    """The whole of the days from `first` to `last`, as a Wish's earliest and latest."""
    return {"earliest": at(first, 0, month=month, year=year),
            "latest": datetime(year, month, last, 23, 59, 59, tzinfo=NEW_YORK)}


def on(day: int, month: int = 12, year: int = 2026) -> Dict[str, Any]:
    return days(day, day, month, year)


class Case(NamedTuple):
    text: str
    wish: Wish


WHEN = [
    # a length is not a time, and "earliest" asks for the soonest
    Case("I'd like a 60 minute Swedish massage, what's the earliest you can fit me in?",
         Wish(earliest_possible=True)),
    Case("an hour and a half massage on the 9th", Wish(**on(9))),
    Case("as soon as possible", Wish(earliest_possible=True)),
    Case("first available please", Wish(earliest_possible=True)),
    Case("whatever is soonest", Wish(earliest_possible=True)),
    Case("today if possible", Wish(earliest_possible=True)),
    Case("any time next week", Wish(earliest_possible=True, **days(14, 20))),
    # exact times, as when.py reads them
    Case("can I come tomorrow at 4?", Wish(exact=at(8, 16), **on(8))),
    Case("Friday 3pm", Wish(exact=at(11, 15), weekdays=frozenset({4}), **on(11))),
    Case("Dec 12 at 10:30", Wish(exact=at(12, 10, 30), **on(12))),
    Case("next Friday 10:30am", Wish(exact=at(18, 10, 30), weekdays=frozenset({4}), **on(18))),
    Case("at noon tomorrow", Wish(exact=at(8, 12), **on(8))),
    Case("in 2 hours", Wish(exact=at(7, 12), **on(7))),
    Case("Saturday afternoon at 3", Wish(exact=at(12, 15), weekdays=frozenset({5}),
                                         between=(time(12), time(17)), **on(12))),
    # exact times that cannot be booked keep their status
    Case("4", Wish(time_status="ambiguous", needs="day")),
    Case("tomorrow at 8pm", Wish(exact=at(8, 20), time_status="closed", **on(8))),
    Case("today at 9", Wish(exact=at(7, 9), time_status="past", **on(7))),
    Case("March 20 at 2", Wish(exact=at(20, 14, month=3, year=2027), time_status="too_far",
                               **on(20, month=3, year=2027))),
    # parts of the day are windows, starting at the spa's opening where they start at all
    Case("Saturday morning", Wish(weekdays=frozenset({5}), between=(time(9), time(12)), **on(12))),
    Case("after work on Thursday", Wish(weekdays=frozenset({3}), between=(time(17), MIDNIGHT), **on(10))),
    Case("lunchtime tomorrow", Wish(between=(time(11, 30), time(14)), **on(8))),
    Case("tonight", Wish(between=(time(17), MIDNIGHT), **on(7))),
    Case("next Tuesday morning or early afternoon",
         Wish(weekdays=frozenset({1}), between=(time(9), time(14)), **on(15))),
    Case("Sunday morning", Wish(time_status="closed", weekdays=frozenset({6}),
                                between=(time(9), time(12)), **on(13))),
    # bounds on the time of day
    Case("before 11", Wish(between=(time(9), time(11)))),
    Case("before 8", Wish(between=(time(9), time(20)))),
    Case("after 3pm", Wish(between=(time(15), MIDNIGHT))),
    Case("between 2 and 4 on Friday", Wish(weekdays=frozenset({4}), between=(time(14), time(16)), **on(11))),
    Case("between 10 and 2", Wish(between=(time(10), time(14)))),
    Case("2-4pm on Wednesday", Wish(weekdays=frozenset({2}), between=(time(14), time(16)), **on(9))),
    Case("tomorrow morning before 11", Wish(between=(time(9), time(11)), **on(8))),
    Case("10 at the earliest on Friday", Wish(weekdays=frozenset({4}), between=(time(10), MIDNIGHT), **on(11))),
    Case("Friday by 5 at the latest", Wish(weekdays=frozenset({4}), between=(time(9), time(17)), **on(11))),
    # days, weeks and kinds of day
    Case("tomorrow", Wish(**on(8))),
    Case("on the 12th", Wish(**on(12))),
    Case("this weekend", Wish(weekdays=frozenset({5, 6}), **days(12, 13))),
    Case("next weekend", Wish(weekdays=frozenset({5, 6}), **days(19, 20))),
    Case("next week", Wish(**days(14, 20))),
    Case("week after next", Wish(**days(21, 27))),
    Case("any weekday", Wish(weekdays=frozenset(range(5)))),
    Case("weekday mornings", Wish(weekdays=frozenset(range(5)), between=(time(9), time(12)))),
    Case("weekends", Wish(weekdays=frozenset({5, 6}))),
    Case("Tuesdays or Thursdays after 5", Wish(weekdays=frozenset({1, 3}), between=(time(17), MIDNIGHT))),
    Case("Tuesday to Thursday", Wish(weekdays=frozenset({1, 2, 3}))),
    # nothing about when
    Case("hmm", Wish()),
    Case("I sat at my desk all day and my back hurts", Wish()),
    Case("", Wish()),
]

WHO = [
    Case("with Maria", Wish(therapist_id="maria")),
    Case("maria please", Wish(therapist_id="maria")),
    Case("can I see Sam", Wish(therapist_id="sam")),
    Case("MARIA", Wish(therapist_id="maria")),
    Case("Priya's hands are magic, is she free Thursday?", Wish(therapist_id="priya", weekdays=frozenset({3}),
                                                               **on(10))),
    Case("with Mraia on Tuesday", Wish(therapist_id="maria", weekdays=frozenset({1}), **on(8))),
    Case("Maria on Saturday afternoon", Wish(therapist_id="maria", weekdays=frozenset({5}),
                                             between=(time(12), time(17)), **on(12))),
    Case("the same time please", Wish()),
    Case("Samantha recommended you", Wish()),
    Case("any therapist", Wish(any_therapist=True)),
    Case("anyone is fine", Wish(any_therapist=True)),
    Case("doesn't matter who", Wish(any_therapist=True)),
    Case("tomorrow, I'm flexible on who", Wish(any_therapist=True, **on(8))),
    Case("anyone but Sam", Wish(any_therapist=True)),
    Case("a woman therapist please", Wish(gender=FEMALE)),
    Case("female therapist", Wish(gender=FEMALE)),
    Case("a lady if possible", Wish(gender=FEMALE)),
    Case("a man", Wish(gender=MALE)),
    Case("male therapist", Wish(gender=MALE)),
    Case("no male therapists please", Wish(gender=FEMALE)),
    Case("I'm a man with a stiff neck", Wish()),
    Case("Saturday at 10am with a male therapist",
         Wish(exact=at(12, 10), gender=MALE, weekdays=frozenset({5}), **on(12))),
    Case("with Bob", Wish(unknown_therapist="Bob")),
    Case("can I see Bob on Friday?", Wish(unknown_therapist="Bob", weekdays=frozenset({4}), **on(11))),
    Case("With Deep Tissue please", Wish()),
]


@pytest.mark.parametrize("case", WHEN, ids=[case.text or "(empty)" for case in WHEN])
def test_when(case: Case) -> None:
    assert read(case.text) == case.wish


@pytest.mark.parametrize("case", WHO, ids=[case.text for case in WHO])
def test_who(case: Case) -> None:
    assert read(case.text) == case.wish


def test_said_anything_tells_a_wish_from_small_talk() -> None:
    assert not read("hmm").said_anything
    assert not read("thanks!").said_anything
    assert read("anyone").said_anything
    assert read("4").said_anything
    assert read("with Bob").said_anything


def test_a_part_of_the_day_already_over_is_past() -> None:
    afternoon = datetime(2026, 12, 7, 13, 0, tzinfo=NEW_YORK)
    assert read("this morning", now=afternoon) == Wish(
        time_status="past", between=(time(9), time(12)), **on(7))


def test_morning_starts_when_the_spa_opens_that_day() -> None:
    late_saturdays = opening_hours_from_settings(
        {"opening_hours": "Mon-Fri 08:00-20:00; Sat 10:00-16:00", "timezone": "America/New_York"})
    assert read("Saturday morning", hours=late_saturdays).between == (time(10), time(12))
    assert read("Friday morning", hours=late_saturdays).between == (time(8), time(12))


def test_a_naive_now_is_the_spas_wall_clock() -> None:
    assert read("tomorrow at 4", now=NOW.replace(tzinfo=None)).exact == at(8, 16)


def test_a_name_that_is_an_ordinary_word_needs_to_be_meant_as_one() -> None:
    team = TEAM + (TherapistName("will", "Will", MALE),)
    assert read("will you have time on Friday", team=team).therapist_id is None
    assert read("with Will on Friday", team=team).therapist_id == "will"


def test_a_first_name_two_people_share_is_not_guessed() -> None:
    team = (TherapistName("maria-l", "Maria Lopez", FEMALE), TherapistName("maria-k", "Maria Kim", FEMALE))
    assert read("with Maria", team=team) == Wish()
    assert read("with Maria Kim please", team=team).therapist_id == "maria-k"


# --- to_request_fields ---------------------------------------------------------------------------


def test_a_window_is_passed_on_as_it_was_read() -> None:
    assert to_request_fields(read("Maria on Saturday afternoon")) == {
        **on(12), "weekdays": frozenset({5}), "between": (time(12), time(17)),
        "therapist_id": "maria", "gender": None,
    }


def test_an_exact_time_searches_from_two_hours_before_it() -> None:
    assert to_request_fields(read("can I come tomorrow at 4?")) == {
        "earliest": at(8, 14), "latest": None, "weekdays": None, "between": None,
        "therapist_id": None, "gender": None,
    }


def test_the_lead_before_an_exact_time_stays_on_its_day() -> None:
    fields_ = to_request_fields(read("tomorrow at 1am"))
    assert fields_["earliest"] == at(8, 0)


def test_a_named_therapist_settles_who_over_a_gender() -> None:
    fields_ = to_request_fields(read("Sam, or any woman therapist"))
    assert (fields_["therapist_id"], fields_["gender"]) == ("sam", None)
    assert to_request_fields(read("a woman therapist please"))["gender"] == FEMALE


def test_the_fields_are_request_keywords() -> None:
    request_fields = {field.name for field in fields(Request)}
    assert set(to_request_fields(Wish())) <= request_fields


# --- daylight saving -----------------------------------------------------------------------------

DAILY = opening_hours_from_settings({"opening_hours": "Mon-Sun 09:00-19:00", "timezone": "America/New_York"})
BEFORE_SPRING_FORWARD = datetime(2027, 3, 12, 10, 0, tzinfo=NEW_YORK)  # clocks go forward Sunday 14 March


def test_a_weekend_over_the_change_of_clocks_keeps_wall_clock_days() -> None:
    wish = read("this weekend", now=BEFORE_SPRING_FORWARD, hours=DAILY)
    assert wish.earliest == datetime(2027, 3, 13, 0, 0, tzinfo=NEW_YORK)
    assert wish.earliest.utcoffset() == timedelta(hours=-5)
    assert wish.latest == datetime(2027, 3, 14, 23, 59, 59, tzinfo=NEW_YORK)
    assert wish.latest.utcoffset() == timedelta(hours=-4)


def test_an_exact_time_after_the_change_is_in_summer_time() -> None:
    wish = read("Sunday at 10am", now=BEFORE_SPRING_FORWARD, hours=DAILY)
    assert wish.exact == datetime(2027, 3, 14, 10, 0, tzinfo=NEW_YORK)
    assert wish.exact.utcoffset() == timedelta(hours=-4)
    assert to_request_fields(wish)["earliest"] == datetime(2027, 3, 14, 8, 0, tzinfo=NEW_YORK)


# --- properties ----------------------------------------------------------------------------------

PHRASES = (
    "with Maria", "Sam", "priya please", "anyone", "a woman therapist", "male therapist", "with Bob",
    "tomorrow", "Friday", "Saturday morning", "after work on Thursday", "next week", "this weekend",
    "on the 12th", "any weekday", "before 11", "after 3pm", "between 2 and 4", "lunchtime", "at 4",
    "3pm", "earliest", "60 minute", "evening", "Tuesdays", "next Friday", "weekends", "hmm", "or",
)

SWEDISH = Service("swedish", "swedish", 60, buffer_minutes=15)
SPA = Spa(
    HOURS,
    tuple(
        Therapist(who.id, who.name, frozenset({"swedish"}), shifts(range(6), time(9), time(19)), gender=who.gender)
        for who in TEAM
    ),
    (Room("r1", "single"), Room("r2", "single")),
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_reads_into_a_sensible_wish(text: str) -> None:
    wish = read(text)
    if wish.earliest is not None and wish.latest is not None:
        assert wish.earliest <= wish.latest
    if wish.between is not None:
        assert wish.between[0] < wish.between[1] or wish.between[1] == MIDNIGHT
    for moment in (wish.exact, wish.earliest, wish.latest):
        assert moment is None or moment.tzinfo == NEW_YORK


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PHRASES), max_size=4).map(" ".join))
def test_every_time_offered_fits_the_wish(text: str) -> None:
    wish = read(text)
    request = Request(service=SWEDISH, now=NOW, horizon_days=21, **to_request_fields(wish))
    for slot in find_slots(SPA, [], request):
        start = slot.start.astimezone(NEW_YORK)
        if wish.exact is not None:
            assert start >= wish.exact - timedelta(hours=2)
            continue
        assert wish.earliest is None or start >= wish.earliest
        assert wish.latest is None or start <= wish.latest
        assert wish.weekdays is None or start.weekday() in wish.weekdays
        if wish.between is not None:
            assert wish.between[0] <= start.time()
            assert wish.between[1] == MIDNIGHT or start.time() < wish.between[1]
        assert wish.therapist_id is None or slot.therapist_id == wish.therapist_id
        if wish.gender is not None and wish.therapist_id is None:
            assert {who.id: who.gender for who in TEAM}[slot.therapist_id] == wish.gender


@given(st.sampled_from(TEAM), st.sampled_from((str.lower, str.upper, str.title)),
       st.sampled_from(("with {}", "{} please", "can I see {}?", "{} on Friday")))
def test_a_name_is_found_however_it_is_written(who: TherapistName, case: Any, template: str) -> None:
    assert read(template.format(case(who.name))).therapist_id == who.id
