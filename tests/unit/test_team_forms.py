"""What the owner may type on the team pages: weekly hours in the ways people write them, refused
when they make no sense, a week summarised for the team list, ids from names, time off in the
spa's zone (days the clocks change included) and rooms."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.staff.team_forms import (
    CERTIFICATIONS, HoursError, Stretch, describe_time_off, local_moment, parse_clock, parse_day, parse_room,
    parse_therapist, parse_time_off, parse_week, slug_for, summarise_week,
)

NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@pytest.mark.parametrize("written, start, end", [
    ("09:00-13:00", "09:00", "13:00"),
    ("9-13", "09:00", "13:00"),
    ("9:00–13:00", "09:00", "13:00"),
    ("9:00 — 13:00", "09:00", "13:00"),
    ("9am-1pm", "09:00", "13:00"),
    ("9:30 am - 12:15 pm", "09:30", "12:15"),
    ("12pm-12:30pm", "12:00", "12:30"),
    ("9 to 5pm", "09:00", "17:00"),
    ("9.30-17.45", "09:30", "17:45"),
    ("18:00-24:00", "18:00", "24:00"),
    ("6pm-12am", "18:00", "24:00"),
])
def test_a_stretch_is_read_however_it_is_written(written: str, start: str, end: str) -> None:
    assert parse_day(written) == [Stretch(hm(start), hm(end))]


def test_several_stretches_leave_breaks_and_come_back_in_order() -> None:
    assert parse_day("13:30-17:00, 09:00-13:00") == [Stretch(hm("09:00"), hm("13:00")),
                                                      Stretch(hm("13:30"), hm("17:00"))]
    assert parse_day("9-12; 12-15") == [Stretch(hm("09:00"), hm("12:00")), Stretch(hm("12:00"), hm("15:00"))]


def test_an_empty_day_is_a_day_off() -> None:
    assert parse_day("") == [] and parse_day("  ") == [] and parse_day(" , ") == []


@pytest.mark.parametrize("written, complaint", [
    ("09:00-13:00, 12:00-17:00", "overlap"),
    ("9-17, 10-11", "overlap"),
    ("13:00-09:00", "ends before it starts"),
    ("9-9", "ends before it starts"),
    ("1pm-9am", "ends before it starts"),
    ("09:00-24:30", "outside the day"),
    ("25:00-26:00", "outside the day"),
    ("24:00-24:00", "very end of the day"),
    ("9:75-10", "more than 59 minutes"),
    ("13pm-2pm", "1 to 12"),
    ("nine to five", "not a time"),
    ("09:00", "needs a start and an end"),
    ("09:00-", "needs a start and an end"),
])
def test_hours_that_make_no_sense_are_refused(written: str, complaint: str) -> None:
    with pytest.raises(HoursError, match=complaint):
        parse_day(written)


def test_clock_times_stay_within_the_day() -> None:
    assert parse_clock("24:00") == 24 * 60 and parse_clock("0") == 0 and parse_clock("12am") == 0
    with pytest.raises(HoursError):
        parse_clock("24:01")


def test_a_weeks_problems_are_named_by_day_and_field() -> None:
    week, problems = parse_week({0: "9-17", 2: "17-9", 5: "10-14, 13-16"})
    assert week[0] == [Stretch(hm("09:00"), hm("17:00"))] and week[1] == []
    assert [(p.field, p.text.split(":")[0]) for p in problems] == [("hours-2", "Wednesday"), ("hours-5", "Saturday")]
    assert "ends before it starts" in problems[0].text and "overlap" in problems[1].text


def test_midnight_at_the_end_of_the_day_survives_the_hours_table() -> None:
    late = Stretch(hm("18:00"), 24 * 60)
    assert late.as_times() == (time(18), time(0))
    assert Stretch.from_times(time(18), time(0)) == late


def test_a_week_is_summarised_with_runs_of_equal_days() -> None:
    split = [Stretch(hm("09:00"), hm("13:00")), Stretch(hm("13:30"), hm("17:00"))]
    week = {day: split for day in range(5)}
    week[5] = [Stretch(hm("10:00"), hm("16:00"))]
    assert summarise_week(week) == "Mon–Fri 9:00–13:00, 13:30–17:00; Sat 10:00–16:00"
    assert summarise_week({0: split, 2: split}) == "Mon 9:00–13:00, 13:30–17:00; Wed 9:00–13:00, 13:30–17:00"
    assert summarise_week({}) == "No regular hours"


def test_the_therapist_form_is_read_with_its_checkboxes() -> None:
    draft, problems = parse_therapist({
        "name": ["  Maria   López "], "gender": ["female"], "techniques": ["swedish", "deep_tissue", "swedish"],
        "certifications": ["prenatal"], "active": ["1"], "hours-5": ["10am-4pm"], "hours-0": [""]},
        known_techniques={"swedish", "deep_tissue"})
    assert problems == []
    assert (draft.name, draft.gender, draft.techniques, draft.certifications, draft.active) == (
        "Maria López", "female", ["swedish", "deep_tissue"], ["prenatal"], True)
    assert draft.hours[5] == [Stretch(hm("10:00"), hm("16:00"))] and draft.hours[0] == []


def test_a_therapist_form_without_a_name_or_with_unknown_values_is_refused() -> None:
    draft, problems = parse_therapist({"name": [""], "gender": ["robot"], "techniques": ["reiki"],
                                       "certifications": ["astrology"], "hours-1": ["9-25"]}, {"swedish"})
    assert {p.field for p in problems} == {"therapist-name", "therapist-gender", "techniques", "certifications",
                                           "hours-1"}
    assert draft.active is False  # an unticked box is not posted
    assert parse_therapist({"name": ["Ann"], "gender": ["unspecified"]}, set())[0].gender is None


def test_the_known_certifications() -> None:
    assert set(CERTIFICATIONS) == {"prenatal", "lymphatic_drainage", "oncology", "sports"}


def test_ids_are_made_from_names_and_never_collide() -> None:
    assert slug_for("María López", set()) == "maria-lopez"
    assert slug_for("María López", {"maria-lopez", "maria-lopez-2"}) == "maria-lopez-3"
    assert slug_for("李", set()) == "therapist" and slug_for("   ", set(), fallback="room") == "room"


def test_whole_days_off_run_from_local_midnight_to_the_midnight_after_the_last_day() -> None:
    draft, problems = parse_time_off({"from": "2027-03-14", "to": "", "reason": " Dentist "}, NEW_YORK)
    assert problems == [] and draft is not None
    assert draft.starts_at == datetime(2027, 3, 14, 5, tzinfo=UTC)  # midnight EST
    assert draft.ends_at == datetime(2027, 3, 15, 4, tzinfo=UTC)  # midnight EDT
    assert draft.ends_at - draft.starts_at == timedelta(hours=23) and draft.reason == "Dentist"
    week, _ = parse_time_off({"from": "2027-07-05", "to": "2027-07-09"}, NEW_YORK)
    assert week is not None and week.ends_at - week.starts_at == timedelta(days=5)


def test_part_of_a_day_off_uses_the_spas_clock() -> None:
    draft, problems = parse_time_off({"from": "2027-01-04", "start": "13:00", "end": "5pm"}, NEW_YORK)
    assert problems == [] and draft is not None
    assert draft.starts_at == datetime(2027, 1, 4, 18, tzinfo=UTC)  # 13:00 EST
    assert draft.ends_at == datetime(2027, 1, 4, 22, tzinfo=UTC)
    assert describe_time_off(draft.starts_at, draft.ends_at, NEW_YORK) == "Mon 4 Jan 2027, 13:00–17:00"


def test_time_off_that_makes_no_sense_is_refused_at_its_field() -> None:
    assert parse_time_off({"from": ""}, NEW_YORK)[1][0].field == "off-from"
    assert parse_time_off({"from": "14/03/2027"}, NEW_YORK)[1][0].field == "off-from"
    assert parse_time_off({"from": "2027-03-14", "to": "2027-03-10"}, NEW_YORK)[1][0].field == "off-to"
    assert parse_time_off({"from": "2027-03-14", "start": "15:00", "end": "14:00"}, NEW_YORK)[1][0].field == "off-end"
    assert parse_time_off({"from": "2027-03-14", "start": "25:00"}, NEW_YORK)[1][0].field == "off-start"


def test_a_time_the_clocks_skip_is_the_moment_they_jump() -> None:
    assert local_moment(date(2027, 3, 14), hm("02:30"), NEW_YORK) == datetime(2027, 3, 14, 7, tzinfo=UTC)
    assert local_moment(date(2027, 11, 7), hm("01:30"), NEW_YORK) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


def test_time_off_reads_back_as_it_was_entered() -> None:
    one = parse_time_off({"from": "2027-03-14"}, NEW_YORK)[0]
    several = parse_time_off({"from": "2027-03-13", "to": "2027-03-15"}, NEW_YORK)[0]
    assert one is not None and several is not None
    assert describe_time_off(one.starts_at, one.ends_at, NEW_YORK) == "Sun 14 Mar 2027, all day"
    assert describe_time_off(several.starts_at, several.ends_at, NEW_YORK) == "Sat 13 Mar 2027 – Mon 15 Mar 2027"


def test_rooms_need_a_name_and_a_known_kind() -> None:
    assert parse_room({"name": " Garden  room ", "kind": "couples"}) == (("Garden room", "couples"), [])
    assert [p.field for p in parse_room({"name": "", "kind": "sauna"})[1]] == ["room-name", "room-kind"]
