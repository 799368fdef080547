"""Which times the spa can offer: hours, breaks, time off, buffers, rooms, certifications and
daylight saving, first as examples a reader can check by hand, then as properties over random
spas checked against a brute-force, minute-by-minute reading of the same rules.

The example spa is in New York, open Monday to Saturday 9 am to 7 pm, with three therapists:
- Maria (woman, prenatal-certified): Monday to Saturday 9 to 5, lunch 1 to 1:30;
- Sam (man, sports): Monday to Saturday 11 to 7;
- Lee (woman, lymphatic drainage and oncology): Monday to Friday 9 to 3;
two single rooms and one couples room. A Swedish massage is 60 minutes plus 15 to turn the room.
`NOW` is Monday 16 November 2026, 8 am; nothing is offered within two hours of now.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from itertools import accumulate
from typing import Dict, List, Optional, Sequence, Set, Tuple
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.booking.availability import (
    BREAK, CERTIFICATION, OFF_GRID, OUTSIDE_OPENING_HOURS, ROOM_BUSY, ROOM_KIND, SPA_CLOSED, TECHNIQUE,
    THERAPIST_BUSY, THERAPIST_OFF, TIME_OFF, TOO_SOON, UNKNOWN_THERAPIST, Booked, Break, Diary, Proposal,
    Request, Room, Service, Slot, Spa, Therapist, TimeOff, check_slot, find_slots, shifts, therapists_for,
)
from bot.booking.when import OpeningHours

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
MON_SAT = range(6)

MARIA = Therapist(
    "maria", "Maria", frozenset({"swedish", "deep_tissue"}), shifts(MON_SAT, time(9), time(17)),
    certifications=frozenset({"prenatal"}), gender="woman",
    breaks=(Break(frozenset(MON_SAT), time(13), time(13, 30)),),
)
SAM = Therapist("sam", "Sam", frozenset({"swedish", "sports", "deep_tissue"}), shifts(MON_SAT, time(11), time(19)),
                certifications=frozenset({"sports"}), gender="man")
LEE = Therapist("lee", "Lee", frozenset({"swedish", "reflexology"}), shifts(range(5), time(9), time(15)),
                certifications=frozenset({"lymphatic_drainage", "oncology"}), gender="woman")
ROOMS = (Room("room-1", "single"), Room("room-2", "single"), Room("couples", "couples"))
SPA = Spa(OpeningHours({day: (time(9), time(19)) for day in MON_SAT}, "America/New_York"), (MARIA, SAM, LEE), ROOMS,
          closed_dates=frozenset({date(2026, 11, 26)}))
SWEDISH = Service("swedish-60", "swedish", 60, buffer_minutes=15, price=Decimal(95))


def at(day: int, hour: int, minute: int = 0, month: int = 11, zone: ZoneInfo = NEW_YORK, fold: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone, fold=fold)


NOW = at(16, 8)  # Monday


def ask(spa: Spa = SPA, booked: Sequence[Booked] = (), **fields: object) -> List[Slot]:
    fields.setdefault("service", SWEDISH)
    fields.setdefault("now", NOW)
    return find_slots(spa, booked, Request(**fields))  # type: ignore[arg-type]


def every(**fields: object) -> Dict[str, object]:
    """Ask for every free start time, not a spread-out handful."""
    return {"count": 10_000, "per_day": None, "min_gap_minutes": 0, **fields}


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants (Python subtracts wall clocks within one zone)."""
    return end.astimezone(timezone.utc) - start.astimezone(timezone.utc)


def starts(slots: Sequence[Slot]) -> List[datetime]:
    return [slot.start for slot in slots]


def clock(slots: Sequence[Slot]) -> List[str]:
    return [f"{slot.start:%H:%M}" for slot in slots]


def on_day(slots: Sequence[Slot], day: int) -> List[Slot]:
    return [slot for slot in slots if slot.start.day == day]


# --- examples -----------------------------------------------------------------------------------


def test_the_earliest_times_are_spread_over_days_and_therapists() -> None:
    slots = ask()
    assert [(slot.start, slot.therapist_id) for slot in slots] == [
        (at(16, 10), "maria"),  # 8 am now + two hours' notice
        (at(16, 11), "sam"),  # an hour later, with whoever has been offered least
        (at(17, 9), "lee"),  # two a day, then the next day
        (at(17, 10), "maria"),
        (at(18, 9), "lee"),
    ]
    assert all(slot.room_id == "room-1" for slot in slots)
    assert slots[0].end == at(16, 11) and slots[0].busy_until == at(16, 11, 15)


def test_a_pregnant_client_is_only_offered_the_prenatal_certified_therapist() -> None:
    slots = ask(certifications=frozenset({"prenatal"}), count=8)
    assert len(slots) == 8 and {slot.therapist_id for slot in slots} == {"maria"}
    assert [t.id for t in therapists_for(SPA, SWEDISH, frozenset({"prenatal"}))] == ["maria"]


def test_a_client_in_cancer_treatment_gets_the_oncology_trained_therapist_on_weekdays_only() -> None:
    slots = ask(certifications=frozenset({"oncology"}), count=12)
    assert {slot.therapist_id for slot in slots} == {"lee"}
    assert all(slot.start.weekday() < 5 for slot in slots)


def test_nobody_trained_for_it_means_nothing_to_offer() -> None:
    assert ask(certifications=frozenset({"prenatal", "sports"})) == []
    assert ask(service=Service("hot-stone", "hot_stone", 60)) == []


def test_a_fully_booked_day_moves_the_offers_to_the_next_day() -> None:
    full = [Booked(who, None, at(16, 0), at(17, 0)) for who in ("maria", "sam", "lee")]
    slots = ask(booked=full)
    assert slots and all(slot.start.date() == date(2026, 11, 17) for slot in slots[:2])
    assert slots[0].start == at(17, 9)


def test_nothing_free_in_the_next_two_weeks_is_an_empty_answer() -> None:
    taken = [Booked(who, None, at(16, 0), at(30, 23)) for who in ("maria", "sam", "lee")]
    assert ask(booked=taken) == []  # the two weeks from Monday 16 to Sunday 29 November
    later = ask(booked=taken, horizon_days=16)
    assert later and later[0].start.date() == date(2026, 12, 1)


def test_no_session_or_its_buffer_runs_into_the_lunch_break() -> None:
    slots = ask(therapist_id="maria", earliest=at(17, 9), latest=at(17, 19), **every())
    times = clock(slots)
    assert "11:45" in times  # ends 12:45, room turned by 1:00
    assert "12:00" not in times and "12:15" not in times and "13:00" not in times
    assert times[times.index("11:45") + 1] == "13:30"
    assert times[-1] == "16:00"  # Maria's day ends at 5


def test_time_off_by_the_day_and_by_the_hour() -> None:
    days_off = replace(MARIA, time_off=(TimeOff(date(2026, 11, 17), date(2026, 11, 18)),))
    dentist = replace(MARIA, time_off=(TimeOff(at(17, 10), at(17, 12)),))
    spa = replace(SPA, therapists=(days_off,))
    assert ask(spa, therapist_id="maria", earliest=at(17, 0))[0].start == at(19, 9)
    spa = replace(SPA, therapists=(dentist,))
    short = Service("swedish-45", "swedish", 45)
    times = clock(ask(spa, service=short, earliest=at(17, 0), latest=at(17, 14), **every()))
    assert times == ["09:00", "09:15", "12:00", "12:15", "13:30", "13:45", "14:00"]


def test_buffers_keep_the_room_and_the_therapist_free_to_turn_over() -> None:
    booked = [Booked("maria", "room-1", at(17, 10), at(17, 11, 15))]
    times = clock(ask(booked=booked, therapist_id="maria", earliest=at(17, 0), latest=at(17, 12), **every()))
    assert times == ["11:15", "11:30", "11:45"]  # 9:00 would run to 10:15; 12:00 into lunch
    evening = clock(ask(therapist_id="sam", earliest=at(17, 17), latest=at(17, 19), **every()))
    assert evening[-1] == "18:00"  # the session ends at closing time; the tidy-up may run past it


def test_a_room_shortage_blocks_free_therapists() -> None:
    both_rooms = [Booked(None, "room-1", at(17, 9), at(17, 12)), Booked(None, "room-2", at(17, 9), at(17, 12))]
    slots = ask(booked=both_rooms, earliest=at(17, 0))
    assert slots[0].start == at(17, 12) and slots[0].room_id == "room-1"
    one_room = [Booked(None, "room-1", at(17, 9), at(17, 12))]
    slots = ask(booked=one_room, earliest=at(17, 0))
    assert slots[0].start == at(17, 9) and slots[0].room_id == "room-2"


def test_a_couples_service_needs_the_couples_room() -> None:
    couples = Service("couples-60", "swedish", 60, room_kind="couples")
    assert {slot.room_id for slot in ask(service=couples, count=6)} == {"couples"}
    assert ask(replace(SPA, rooms=ROOMS[:2]), service=couples) == []


def test_with_a_named_therapist_or_a_gender() -> None:
    assert {slot.therapist_id for slot in ask(therapist_id="sam", count=6)} == {"sam"}
    assert {slot.therapist_id for slot in ask(gender="Woman", count=10)} == {"maria", "lee"}
    assert {slot.therapist_id for slot in ask(gender="man", count=6)} == {"sam"}
    assert ask(therapist_id="nobody") == []


def test_minimum_notice() -> None:
    assert ask(now=at(17, 10, 5))[0].start == at(17, 12, 15)  # 10:05 + 2 hours, up to the grid
    maria = ask(now=at(17, 10, 5), therapist_id="maria")
    assert maria[0].start == at(17, 13, 30)  # 12:15 would run into her lunch
    soon = ask(now=at(17, 10, 5), notice_minutes=0, therapist_id="lee")
    assert soon[0].start == at(17, 10, 15)


def test_closed_dates_and_closed_days() -> None:
    slots = ask(earliest=at(26, 0), count=3)  # Thanksgiving, closed
    assert slots[0].start == at(27, 9)
    sunday = ask(earliest=at(22, 0), latest=at(22, 23))
    assert sunday == []


def test_saturday_morning_and_after_work_on_thursday() -> None:
    mornings = ask(weekdays=frozenset({5}), between=(time(9), time(12)), count=4)
    assert mornings and all(s.start.weekday() == 5 and time(9) <= s.start.time() < time(12) for s in mornings)
    thursday = dict(earliest=at(19, 0), latest=at(19, 23, 59), between=(time(17), time(0)))
    assert clock(ask(**thursday, count=2)) == ["17:00", "18:00"]  # only Sam works after 5; the last start is 6
    # Asked for more than the day's spread-out pair, the closest remaining times fill in.
    assert clock(ask(**thursday, count=3)) == ["17:00", "17:15", "18:00"]


def test_daylight_saving_new_york_spring_forward_skips_the_missing_hour() -> None:
    spa = _night_spa("America/New_York")
    slots = ask(spa, now=at(7, 12, month=3), earliest=at(8, 0, month=3), latest=at(8, 23, month=3),
                granularity_minutes=30, **every())
    assert clock(slots) == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30", "05:00"]
    assert slots[3].end == at(8, 3, 30, month=3)  # 60 real minutes over the jump
    assert elapsed(slots[3].start, slots[3].end) == timedelta(hours=1)
    assert elapsed(at(8, 0, month=3), slots[-1].end) == timedelta(hours=5)  # the 23-hour day: 0:00 to 6:00
    assert [slot.start.utcoffset() for slot in slots[3:5]] == [timedelta(hours=-5), timedelta(hours=-4)]


def test_opening_at_a_time_the_clocks_skip_means_opening_when_they_jump() -> None:
    spa = replace(_night_spa("America/New_York"),
                  hours=OpeningHours({day: (time(2, 30), time(6)) for day in range(7)}, "America/New_York"))
    slots = ask(spa, now=at(7, 12, month=3), earliest=at(8, 0, month=3), latest=at(8, 23, month=3),
                granularity_minutes=30, **every())
    assert clock(slots) == ["03:00", "03:30", "04:00", "04:30", "05:00"]  # 2:30 is 3:00 that night


def test_daylight_saving_new_york_fall_back_offers_the_repeated_hour_once() -> None:
    spa = _night_spa("America/New_York")
    slots = ask(spa, now=at(31, 12, month=10), earliest=at(1, 0), latest=at(1, 23), granularity_minutes=30, **every())
    assert clock(slots) == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30", "04:00",
                            "04:30", "05:00"]
    assert len(set(starts(slots))) == len(slots)
    assert slots[3].start.utcoffset() == timedelta(hours=-4)  # 1:30 EDT, the first one
    assert slots[3].end == at(1, 1, 30, fold=1)  # ends at 1:30 EST, an hour later
    assert slots[-1].end == at(1, 6)  # the 25-hour day: open 0:00 to 6:00 is seven hours
    assert elapsed(at(1, 0), slots[-1].end) == timedelta(hours=7)


def test_daylight_saving_london_both_ways() -> None:
    spa = _night_spa("Europe/London")
    spring = ask(spa, now=at(28, 12, month=3, zone=LONDON), earliest=at(29, 0, month=3, zone=LONDON),
                 latest=at(29, 23, month=3, zone=LONDON), granularity_minutes=30, **every())
    assert clock(spring) == ["00:00", "00:30", "02:00", "02:30", "03:00", "03:30", "04:00", "04:30", "05:00"]
    autumn = ask(spa, now=at(24, 12, month=10, zone=LONDON), earliest=at(25, 0, month=10, zone=LONDON),
                 latest=at(25, 23, month=10, zone=LONDON), granularity_minutes=60, **every())
    assert clock(autumn) == ["00:00", "01:00", "02:00", "03:00", "04:00", "05:00"]
    assert autumn[1].start.utcoffset() == timedelta(hours=1)  # 1:00 BST, not 1:00 GMT


def test_daytime_hours_stay_on_the_wall_clock_across_the_change() -> None:
    before, after = ask(earliest=at(6, 0, month=3), now=at(5, 8, month=3)), ask(now=at(9, 8, month=3))
    assert before[0].start == at(6, 9, month=3)  # Friday 9 am EST
    assert before[0].start.astimezone(timezone.utc).hour == 14
    assert after[0].start == at(9, 10, month=3) and after[0].start.astimezone(timezone.utc).hour == 14


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ask(now=datetime(2026, 11, 16, 8))


# --- checking one appointment before it is written ----------------------------------------------


def _check(start: datetime, who: str = "maria", room: str = "room-1", service: Service = SWEDISH,
           booked: Sequence[Booked] = (), **options: object) -> Optional[str]:
    misfit = check_slot(SPA, booked, Proposal(service, start, who, room, **options))  # type: ignore[arg-type]
    return None if misfit is None else misfit.reason


@pytest.mark.parametrize("start, who, room, options, reason", [
    (at(17, 10), "maria", "room-1", {}, None),
    (at(17, 10), "nobody", "room-1", {}, UNKNOWN_THERAPIST),
    (at(17, 10), "lee", "room-1", {"certifications": frozenset({"prenatal"})}, CERTIFICATION),
    (at(17, 10), "maria", "couples", {}, ROOM_KIND),
    (at(22, 10), "maria", "room-1", {}, SPA_CLOSED),  # Sunday
    (at(26, 10), "maria", "room-1", {}, SPA_CLOSED),  # Thanksgiving
    (at(17, 18, 30), "sam", "room-1", {}, OUTSIDE_OPENING_HOURS),
    (at(17, 16, 30), "maria", "room-1", {}, THERAPIST_OFF),  # her day ends at 5
    (at(21, 9), "lee", "room-1", {}, THERAPIST_OFF),  # Saturday
    (at(17, 12, 30), "maria", "room-1", {}, BREAK),
    (at(17, 12), "maria", "room-1", {}, BREAK),  # only the buffer touches lunch
    (at(17, 11, 45), "maria", "room-1", {}, None),
])
def test_check_says_why_an_appointment_does_not_fit(start: datetime, who: str, room: str,
                                                    options: Dict[str, object], reason: Optional[str]) -> None:
    assert _check(start, who, room, **options) == reason


def test_check_against_what_is_booked_notice_and_the_grid() -> None:
    booked = [Booked("maria", "room-2", at(17, 10), at(17, 11, 15))]
    assert _check(at(17, 11), booked=booked) == THERAPIST_BUSY
    assert _check(at(17, 9), booked=booked) == THERAPIST_BUSY  # its buffer reaches 10:15
    assert _check(at(17, 11), who="lee", room="room-2", booked=booked) == ROOM_BUSY
    assert _check(at(17, 11, 15), booked=booked) is None
    assert _check(at(17, 15), who="sam", service=Service("x", "reflexology", 30)) == TECHNIQUE
    off = replace(SPA, therapists=(replace(MARIA, time_off=(TimeOff(date(2026, 11, 17), date(2026, 11, 17)),)),))
    assert check_slot(off, [], Proposal(SWEDISH, at(17, 10), "maria", "room-1")).reason == TIME_OFF
    proposal = Proposal(SWEDISH, at(17, 10, 5), "maria", "room-1")
    assert check_slot(SPA, [], proposal) is None  # staff may book off the grid
    assert check_slot(SPA, [], proposal, granularity_minutes=15).reason == OFF_GRID
    assert check_slot(SPA, [], proposal, now=at(17, 9), notice_minutes=120).reason == TOO_SOON


def test_every_offered_slot_passes_the_check() -> None:
    booked = [Booked("maria", "room-1", at(17, 10), at(17, 11, 15)), Booked(None, "room-2", at(17, 9), at(17, 14))]
    diary = Diary.of(booked)
    for slot in find_slots(SPA, diary, Request(SWEDISH, NOW, **every(horizon_days=4))):  # type: ignore[arg-type]
        proposal = Proposal(SWEDISH, slot.start, slot.therapist_id, slot.room_id)
        assert check_slot(SPA, diary, proposal, now=NOW, notice_minutes=120, granularity_minutes=15) is None


def test_check_refuses_the_second_one_thirty_of_a_fall_back_night_on_the_grid() -> None:
    spa = _night_spa("America/New_York")
    first, second = at(1, 1, 30), at(1, 1, 30, fold=1)
    assert check_slot(spa, [], Proposal(SWEDISH, first, "nora", "r"), granularity_minutes=30) is None
    assert check_slot(spa, [], Proposal(SWEDISH, second, "nora", "r"), granularity_minutes=30).reason == OFF_GRID
    assert check_slot(spa, [], Proposal(SWEDISH, second, "nora", "r")) is None


def _night_spa(zone: str) -> Spa:
    """Open and staffed midnight to 6 am every day: the hours a clock change falls into."""
    night = Therapist("nora", "Nora", frozenset({"swedish"}), shifts(range(7), time(0), time(6)))
    return Spa(OpeningHours({day: (time(0), time(6)) for day in range(7)}, zone), (night,), (Room("r", "single"),))


# --- properties over random spas ----------------------------------------------------------------

# Dates where the clocks change (and one where they do not) in zones that change by an hour, or,
# on Lord Howe Island, by half an hour.
CHANGES = {
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1), date(2026, 6, 10)],
    "Europe/London": [date(2026, 3, 29), date(2026, 10, 25)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],
}
TECHNIQUES = ("swedish", "sports")
CERTIFICATIONS = ("prenatal", "oncology")


@dataclass(frozen=True)
class Case:
    spa: Spa
    booked: Tuple[Booked, ...]
    request: Request
    first: date  # the three days looked at: the day before a change, the change, the day after


# Hours over the night's clock change, the whole day, an ordinary day, hours that open or close in
# the hour the clocks skip or repeat (New York 2-3 and 1-2, London 1-2, Lord Howe 2-2:30 and
# 1:30-2), or anything.
TYPICAL = [(time(0), time(6)), (time(0), time(0)), (time(9), time(17)), (time(1), time(3)), (time(2, 30), time(6)),
           (time(1, 30), time(4)), (time(2, 15), time(5)), (time(1, 45), time(3, 15)), (time(0), time(1, 30))]


@st.composite
def any_window(draw: st.DrawFn) -> Tuple[time, time]:
    start = draw(st.integers(0, 94)) * 15
    end = draw(st.integers(start // 15 + 1, 96)) * 15
    return _clock(start), _clock(end)


def windows() -> st.SearchStrategy[Tuple[time, time]]:
    return st.one_of(st.sampled_from(TYPICAL), st.sampled_from(TYPICAL[3:]), any_window())


def _clock(minutes: int) -> time:
    return time(0) if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone_name = draw(st.sampled_from(sorted(CHANGES)))
    zone = ZoneInfo(zone_name)
    change = draw(st.sampled_from(CHANGES[zone_name]))
    first = change - timedelta(days=1)
    start = datetime.combine(first, time(), tzinfo=zone)
    dates = [first + timedelta(days=n) for n in range(3)]

    def sometimes(strategy: st.SearchStrategy) -> object:
        """None three times in four: most requests are not picky."""
        return draw(strategy) if draw(st.integers(0, 3)) == 3 else None

    def moment(days: int = 4) -> datetime:
        minutes = draw(st.integers(-6 * 60, days * 24 * 60))
        return (start.astimezone(timezone.utc) + timedelta(minutes=minutes)).astimezone(
            draw(st.sampled_from([zone, timezone.utc])))

    opening = {day: draw(windows()) for day in range(7) if draw(st.integers(0, 7))}
    hours = OpeningHours(opening, zone_name)
    closed = frozenset(draw(st.lists(st.sampled_from(dates), max_size=1)))
    team = []
    for index in range(draw(st.integers(1, 3))):
        # Each weekday: off, the spa's hours, or one or two stretches of their own.
        def stretch(day: int) -> Tuple[time, time]:
            own = draw(windows())
            return opening.get(day, own) if draw(st.booleans()) else own

        stretches = tuple(
            shift for day in range(7) for _ in range(draw(st.sampled_from([1, 1, 1, 2, 0])))
            for shift in shifts([day], *stretch(day))
        )
        breaks = tuple(Break(frozenset(draw(st.lists(st.integers(0, 6), min_size=1, max_size=3))), *draw(windows()))
                       for _ in range(draw(st.integers(0, 2))))
        time_off: List[TimeOff] = []
        for _ in range(draw(st.integers(0, 2))):
            if draw(st.booleans()):
                day_off = draw(st.sampled_from(dates))
                time_off.append(TimeOff(day_off, day_off + timedelta(days=draw(st.integers(0, 1)))))
            else:
                begin = moment()
                time_off.append(TimeOff(begin, begin + timedelta(minutes=draw(st.integers(15, 600)))))
        team.append(Therapist(
            f"t{index}", f"Therapist {index}",
            # The first therapist does the service, so most cases have someone to offer.
            frozenset(TECHNIQUES[:1] if index == 0 else draw(st.lists(st.sampled_from(TECHNIQUES), min_size=1))),
            stretches, certifications=frozenset(draw(st.lists(st.sampled_from(CERTIFICATIONS)))),
            gender=draw(st.sampled_from(["woman", "man", None])), breaks=breaks, time_off=tuple(time_off),
        ))
    kinds = st.sampled_from(["single", "couples"])
    kind = draw(kinds)
    # The first room suits the service, the others are of either kind.
    rooms = tuple(Room(f"r{index}", kind if index == 0 else draw(kinds)) for index in range(draw(st.integers(1, 3))))
    spa = Spa(hours, tuple(team), rooms, closed)
    booked = []
    for _ in range(draw(st.integers(0, 8))):
        begin = moment()
        booked.append(Booked(
            draw(st.sampled_from([t.id for t in team] + [None])), draw(st.sampled_from([r.id for r in rooms] + [None])),
            begin, begin + timedelta(minutes=draw(st.integers(1, 12)) * 15)))
    service = Service("s", "swedish", draw(st.sampled_from([15, 30, 45, 60, 90])),
                      draw(st.sampled_from([0, 5, 10, 15, 30])), room_kind=kind)
    request = Request(
        service=service,
        now=moment(days=2),
        earliest=start,
        latest=datetime.combine(first + timedelta(days=3), time(), tzinfo=zone) - timedelta(minutes=1),
        weekdays=sometimes(st.frozensets(st.integers(0, 6), min_size=1)),
        between=sometimes(windows()),
        certifications=sometimes(st.just(frozenset({"prenatal"}))) or frozenset(),
        therapist_id=sometimes(st.just("t0")),
        gender=sometimes(st.just("woman")),
        granularity_minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 60])),
        count=draw(st.integers(1, 8)),
        notice_minutes=draw(st.sampled_from([0, 60, 120])),
        horizon_days=10,
    )
    return Case(spa, tuple(booked), request, first)


class Oracle:
    """The rules read minute by minute over the three days, with nothing shared with the module
    but the data: every UTC minute gets its wall-clock reading, a wall-clock boundary is the first
    minute whose clock reads that time or later, and each therapist and room gets a minute map of
    when it is blocked."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.zone = ZoneInfo(case.spa.hours.timezone)
        begin = datetime.combine(case.first - timedelta(days=1), time(), tzinfo=timezone.utc)
        self.origin = int(begin.timestamp()) // 60
        self.size = 6 * 24 * 60
        self.walls = [datetime.fromtimestamp((self.origin + m) * 60, self.zone).replace(tzinfo=None)
                      for m in range(self.size)]
        self.high_water = list(accumulate(self.walls, max))
        therapists = case.spa.therapists
        self.blocked = {t.id: self._blocked(t) for t in therapists}
        self.room_busy = {r.id: self._busy(lambda b, rid=r.id: b.room_id == rid) for r in case.spa.rooms}

    def minute(self, moment: datetime) -> int:
        return int(moment.timestamp()) // 60 - self.origin

    def boundary(self, day: date, minutes: int) -> int:
        """The first minute at which the clocks show `minutes` past midnight of `day`, or later."""
        return bisect_left(self.high_water, datetime.combine(day, time()) + timedelta(minutes=minutes))

    def _marks(self, spans: List[Tuple[int, int]]) -> List[int]:
        marks = [0] * (self.size + 1)
        for lo, hi in spans:
            for m in range(max(lo, 0), min(hi, self.size)):
                marks[m] = 1
        return [0, *accumulate(marks)]

    def _busy(self, mine: object) -> List[int]:
        return self._marks([(self.minute(b.start), self.minute(b.end)) for b in self.case.booked if mine(b)])

    def _blocked(self, therapist: Therapist) -> List[int]:
        spans = [(self.minute(b.start), self.minute(b.end)) for b in self.case.booked if b.therapist_id == therapist.id]
        for day in self.days():
            for pause in therapist.breaks:
                if day.weekday() in pause.weekdays:
                    spans.append((self.boundary(day, _mins(pause.start)), self.boundary(day, _end(pause.end))))
        for off in therapist.time_off:
            if isinstance(off.start, datetime):
                spans.append((self.minute(off.start), self.minute(off.end)))  # type: ignore[arg-type]
            else:
                spans.append((self.boundary(off.start, 0), self.boundary(off.end + timedelta(days=1), 0)))
        return self._marks(spans)

    def days(self) -> List[date]:
        return [self.case.first + timedelta(days=n) for n in range(-2, 6)]

    @staticmethod
    def free(prefix: List[int], lo: int, hi: int) -> bool:
        return prefix[hi] - prefix[lo] == 0

    def within(self, spans: List[Tuple[int, int]], lo: int, hi: int) -> bool:
        """Every minute of [lo, hi) inside some span (touching spans join)."""
        return all(any(a <= m < b for a, b in spans) for m in range(lo, hi))

    def on_grid(self, m: int, granularity: int) -> bool:
        wall = self.walls[m]
        first_time = m == 0 or self.high_water[m - 1] < wall
        return first_time and (wall.hour * 60 + wall.minute) % granularity == 0

    def fits(self, m: int, therapist: Therapist, room: Room, certifications: frozenset, notice_from: int,
             granularity: Optional[int]) -> bool:
        """What check_slot promises: fitness, notice, grid, hours, and nothing in the way."""
        service = self.case.request.service
        if service.technique not in therapist.techniques or not certifications <= therapist.certifications:
            return False
        if room.kind != service.room_kind or m < notice_from:
            return False
        if granularity is not None and not self.on_grid(m, granularity):
            return False
        day = self.walls[m].date()
        window = self.case.spa.hours.days.get(day.weekday())
        if window is None or day in self.case.spa.closed_dates:
            return False
        end, busy_until = m + service.minutes, m + service.minutes + service.buffer_minutes
        if not (self.boundary(day, _mins(window[0])) <= m and end <= self.boundary(day, _end(window[1]))):
            return False
        stretches = [(self.boundary(day, _mins(s.start)), self.boundary(day, _end(s.end)))
                     for s in therapist.shifts if s.weekday == day.weekday()]
        if not self.within(stretches, m, end):
            return False
        return (self.free(self.blocked[therapist.id], m, busy_until)
                and self.free(self.room_busy[room.id], m, busy_until))

    def wanted(self, m: int) -> bool:
        """What the request asks for beyond fitting: its window, weekdays and time of day."""
        request = self.case.request
        wall = self.walls[m]
        if not (self.minute(request.earliest) <= m <= self.minute(request.latest)):  # type: ignore[arg-type]
            return False
        if request.weekdays is not None and wall.weekday() not in request.weekdays:
            return False
        if request.between is not None:
            lo = self.boundary(wall.date(), _mins(request.between[0]))
            hi = self.boundary(wall.date(), _end(request.between[1]))
            if not lo <= m < hi:
                return False
        return True

    def who(self) -> List[Therapist]:
        request = self.case.request
        return [t for t in self.case.spa.therapists
                if (request.therapist_id is None or t.id == request.therapist_id)
                and (request.gender is None or t.gender == request.gender)]

    def notice_from(self) -> int:
        request = self.case.request
        return -(-(int(request.now.timestamp()) + request.notice_minutes * 60) // 60) - self.origin

    def valid(self, m: int, therapist: Therapist, room: Room) -> bool:
        request = self.case.request
        return (self.wanted(m) and therapist in self.who()
                and self.fits(m, therapist, room, request.certifications, self.notice_from(),
                              request.granularity_minutes))

    def free_starts(self) -> Set[int]:
        request = self.case.request
        notice_from, people = self.notice_from(), self.who()
        found = set()
        for m in range(self.size):
            if m < notice_from or not self.on_grid(m, request.granularity_minutes) or not self.wanted(m):
                continue
            if any(self.fits(m, t, r, request.certifications, notice_from, request.granularity_minutes)
                   for t in people for r in self.case.spa.rooms):
                found.add(m)
        return found


def _mins(value: time) -> int:
    return value.hour * 60 + value.minute


def _end(value: time) -> int:
    return 24 * 60 if value == time(0) else _mins(value)


PROPERTY = settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cases())
def test_every_offered_slot_obeys_every_rule(case: Case) -> None:
    oracle = Oracle(case)
    slots = find_slots(case.spa, case.booked, case.request)
    therapists = {t.id: t for t in case.spa.therapists}
    rooms = {r.id: r for r in case.spa.rooms}
    minutes = [oracle.minute(slot.start) for slot in slots]
    assert minutes == sorted(set(minutes)), "sorted, one option per start time"
    for slot, m in zip(slots, minutes):
        assert slot.start.tzinfo == oracle.zone and slot.start.second == 0
        assert oracle.valid(m, therapists[slot.therapist_id], rooms[slot.room_id]), slot
        assert elapsed(slot.start, slot.end) == timedelta(minutes=case.request.service.minutes)
    assert len(slots) == min(case.request.count, len(oracle.free_starts()))


@PROPERTY
@given(cases())
def test_every_free_start_is_found(case: Case) -> None:
    oracle = Oracle(case)
    request = replace(case.request, count=10_000, per_day=None, min_gap_minutes=0)
    slots = find_slots(case.spa, Diary.of(case.booked), request)
    assert {oracle.minute(slot.start) for slot in slots} == oracle.free_starts()


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.randoms(use_true_random=False))
def test_check_agrees_with_the_rules(case: Case, rng: object) -> None:
    oracle = Oracle(case)
    diary = Diary.of(case.booked)
    request = case.request
    notice_from = oracle.notice_from()
    days = range(oracle.minute(request.earliest), oracle.minute(request.latest) + 1)  # type: ignore[arg-type]
    grid = [m for m in days if oracle.on_grid(m, request.granularity_minutes)]
    # Mostly times on the grid, some anywhere (off the grid, or the second 1:30 of a fall-back night).
    minutes = rng.sample(grid, min(len(grid), 50)) + rng.sample(days, 20)  # type: ignore[attr-defined]
    for m in minutes:
        start = datetime.fromtimestamp((oracle.origin + m) * 60, oracle.zone)
        for therapist in case.spa.therapists:
            for room in case.spa.rooms:
                proposal = Proposal(request.service, start, therapist.id, room.id, request.certifications)
                misfit = check_slot(case.spa, diary, proposal, now=request.now,
                                    notice_minutes=request.notice_minutes,
                                    granularity_minutes=request.granularity_minutes)
                expected = oracle.fits(m, therapist, room, request.certifications, notice_from,
                                       request.granularity_minutes)
                assert (misfit is None) == expected, (start, therapist.id, room.id, misfit)
