"""The intake summary, CSV rows and iCalendar event the staff page makes from a booking request."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from icalendar import Calendar

from bot.booking.models import BookingRequest
from bot.staff import exports
from tests.staff.conftest import INTAKE


def booking(**overrides: Any) -> BookingRequest:
    values = dict(code="AC34", sender_id="s", channel="web", status="new", created_at=datetime(2026, 11, 28, 7, 0),
                  technique="swedish", technique_name="Swedish massage", minutes=45,
                  preferred_at=datetime(2026, 12, 1, 14, 30), preferred_text="next Tuesday at 2:30",
                  name="Dana Rivers", phone="+15550100123", email="dana@example.com", intake=INTAKE)
    values.update(overrides)
    return BookingRequest(**values)


def test_conditions_that_need_a_modification_come_first() -> None:
    assert [c["name"] for c in exports.conditions(INTAKE)] == ["Pregnancy", "Arthritis"]
    assert exports.needs_modification(INTAKE)
    assert not exports.needs_modification({"conditions": [{"name": "Arthritis", "modification": ""}]})
    assert not exports.needs_modification({})


def test_the_intake_summary_leaves_out_what_was_not_said() -> None:
    sections = exports.intake_sections({"areas": ["neck"], "goals": [], "pressure": None})
    assert sections == [("Areas", ["neck"])]
    labels = [label for label, _ in exports.intake_sections(INTAKE)]
    assert labels == ["Conditions", "Areas", "Goals", "Symptoms", "Pressure", "Who"]


def test_the_short_line_starts_with_the_conditions() -> None:
    assert exports.intake_line(INTAKE) == ("Pregnancy, Arthritis · lower back, neck · relaxation · stiffness · "
                                           "light pressure · pregnant")
    assert exports.intake_line({}) == "nothing reported"
    assert exports.intake_line(None) == "nothing reported"


def test_a_kiosk_request_has_no_name_and_says_where_the_person_is() -> None:
    request = booking(name=None, phone=None, email=None, channel="kiosk")
    assert exports.display_name(request) == "at reception (kiosk)"
    assert exports.contact_lines(request) == ["at reception (kiosk)"]


def test_service_and_time_texts() -> None:
    assert exports.service_text(booking()) == "Swedish massage, 45 min"
    assert exports.service_text(booking(technique=None, technique_name=None, minutes=None)) == "massage (not chosen)"
    assert exports.preferred_text(booking()) == "Tue 01 Dec 2026, 14:30"
    assert exports.preferred_text(booking(preferred_at=None)) == "“next Tuesday at 2:30”"
    assert exports.preferred_text(booking(preferred_at=None, preferred_text=None)) == "no time given"


@pytest.mark.parametrize("cell, safe", [("=1+1", "'=1+1"), ("+15550100", "'+15550100"), ("-2", "'-2"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("Dana", "Dana"),
                                        (None, ""), (45, "45"), ("a=b", "a=b")])
def test_cells_that_a_spreadsheet_would_run_are_defused(cell: Any, safe: str) -> None:
    assert exports.safe_cell(cell) == safe


def test_csv_has_a_header_and_one_defused_row_per_request() -> None:
    text = exports.csv_text([booking(name='=HYPERLINK("http://evil.example","x")'), booking(code="QW7R", name=None)])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(exports.CSV_COLUMNS)
    first = dict(zip(rows[0], rows[1]))
    assert first["name"] == "'=HYPERLINK(\"http://evil.example\",\"x\")" and first["phone"] == "'+15550100123"
    assert first["preferred_time"] == "2026-12-01 14:30" and first["created_utc"] == "2026-11-28 07:00:00"
    assert first["conditions"].startswith("Pregnancy – Book a certified prenatal therapist")
    assert first["areas"] == "lower back, neck" and first["pressure"] == "light"
    assert dict(zip(rows[0], rows[2]))["name"] == ""
    assert all(not cell.startswith(exports.FORMULA_STARTS) for row in rows[1:] for cell in row)


def event_of(ics: bytes) -> Any:
    calendar = Calendar.from_ical(ics)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def test_the_event_is_at_the_preferred_time_in_the_spas_time_zone() -> None:
    stamp = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
    ics = exports.icalendar_bytes(booking(), {"timezone": "America/New_York", "name": "Harbour Light",
                                              "email": "hello@harbourlight.example"}, now=stamp)
    assert b"DTSTART;TZID=America/New_York:20261201T143000" in ics
    calendar, event = event_of(ics)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    start = event.decoded("DTSTART")
    assert start.utcoffset() == timedelta(hours=-5) and (start.hour, start.minute) == (14, 30)
    assert event.decoded("DURATION") == timedelta(minutes=45)
    assert str(event["SUMMARY"]) == "Massage: Swedish massage (AC34)"
    assert str(event["UID"]) == "booking-AC34@harbourlight.example"
    assert str(event["STATUS"]) == "TENTATIVE" and str(event["LOCATION"]) == "Harbour Light"
    description = str(event["DESCRIPTION"])
    assert "Contact: Dana Rivers / +15550100123 / dana@example.com" in description
    assert description.index("Conditions: Pregnancy") < description.index("Areas: lower back, neck")
    assert "Book a certified prenatal therapist; side-lying position.; Arthritis" in description


def test_without_a_time_zone_the_time_floats_and_an_hour_is_assumed() -> None:
    ics = exports.icalendar_bytes(booking(minutes=None, status="confirmed"), {})
    assert b"DTSTART:20261201T143000\r\n" in ics and b"VTIMEZONE" not in ics
    _, event = event_of(ics)
    assert event.decoded("DURATION") == timedelta(minutes=60) and str(event["STATUS"]) == "CONFIRMED"
    assert str(event["UID"]) == "booking-AC34@massage-assistant"
    assert exports.icalendar_bytes(booking(), {"timezone": "Not/AZone"}).count(b"TZID") == 0


def test_no_preferred_time_means_no_event() -> None:
    with pytest.raises(ValueError):
        exports.icalendar_bytes(booking(preferred_at=None))


def test_file_names() -> None:
    assert exports.ics_filename("AC34") == "booking-AC34.ics"
    assert exports.csv_filename(datetime(2026, 11, 28, 7, 5)) == "booking-requests-20261128-0705.csv"
