"""The diary over HTTP: the day view shows each appointment once, under its therapist (or room)
at the time it starts on the spa's clock, also across a daylight-saving change; staff block and
free time, move, cancel and close appointments, and the client is told of a move or a cancel."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, Dict, Iterator, List, Optional, Tuple
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.booking.feeds import feed_path
from bot.booking import appointment_store, client_notify
from bot.booking.appointments import Appointment, Room, Therapist, TherapistHours, TherapistTimeOff
from bot.knowledge.db import get_engine
from bot.staff.diary_pages import Entry, SpaClock, build_rows, row_instants
from tests.staff.conftest import InProcessServer, add_request
from tests.staff.test_http import csrf_in, logged_in

ZONE = ZoneInfo("America/New_York")  # data/kb/spa.yml; open Monday to Saturday, 9 am to 7 pm
HEALTH_WORDS = ("Pregnancy", "Arthritis", "prenatal", "lower back")


def next_tuesday(weeks_ahead: int = 2) -> date:
    day = date.today() + timedelta(weeks=weeks_ahead)
    return day + timedelta(days=(1 - day.weekday()) % 7)


DAY = next_tuesday()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


# --- reading the grid back -------------------------------------------------------------------


class GridReader(HTMLParser):
    """The day grid as {(row time, column name): text} for each cell something starts in, placing
    cells the way a browser does (a rowspan covers the slots below it)."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: List[str] = []
        self.cells: Dict[Tuple[str, str], str] = {}
        self.spans: Dict[str, int] = {}
        self.inside, self.section, self.rows_seen = False, "", 0
        self.row: List[Tuple[str, str, int]] = []
        self.text: Optional[List[str]] = None
        self.cell: Tuple[str, int] = ("", 1)
        self.covered: Dict[int, int] = {}

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        found = dict(attrs)
        if tag == "table" and "day-grid" in (found.get("class") or ""):
            self.inside = True
        elif self.inside and tag in ("thead", "tbody"):
            self.section = tag
        elif self.inside and tag == "tr":
            self.row = []
        elif self.inside and tag in ("th", "td"):
            self.text, self.cell = [], (tag, int(found.get("rowspan") or 1))

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.inside:
            return
        if tag in ("th", "td") and self.text is not None:
            self.row.append((self.cell[0], " ".join(" ".join(self.text).split()), self.cell[1]))
            self.text = None
        elif tag == "tr":
            self.finish_row()
        elif tag == "table":
            self.inside = False

    def finish_row(self) -> None:
        if self.section == "thead":
            if not self.columns:
                self.columns = [text for _, text, _ in self.row]
            return
        label, position = self.row[0][1], 0
        for _, text, rowspan in self.row[1:]:
            position += 1
            while self.covered.get(position, 0) > 0:
                position += 1
            if text:
                self.cells[(label, self.columns[position])] = text
            if rowspan > 1:
                self.covered[position] = rowspan
                self.spans[text] = rowspan
        self.covered = {p: n - 1 for p, n in self.covered.items() if n > 1}


def grid(page: str) -> GridReader:
    reader = GridReader()
    reader.feed(page)
    return reader


# --- the spa's team and diary ----------------------------------------------------------------


@pytest.fixture
def diary(database: str) -> Iterator[str]:
    """Two therapists (Maria 9-5 and Sam noon-7 on DAY's weekday, both Saturdays and Mondays),
    a retired one, and two rooms, instead of the example team data/kb/team.yml loads."""
    with Session(get_engine(database), future=True) as session, session.begin():
        for table in (TherapistHours, TherapistTimeOff, Appointment, Therapist, Room):
            session.execute(delete(table))
        session.add_all([
            Therapist(id="maria", name="Maria Lopez", techniques=["swedish"], certifications=[], active=True),
            Therapist(id="sam", name="Sam Okafor", techniques=["swedish"], certifications=[], active=True),
            Therapist(id="old", name="Retired Rae", techniques=["swedish"], certifications=[], active=False),
            Room(id="r1", name="Room 1", kind="treatment"), Room(id="r2", name="Room 2", kind="treatment"),
        ])
        for weekday in (DAY.weekday(), 0, 5):
            session.add(TherapistHours(therapist_id="maria", weekday=weekday, start_time=time(9), end_time=time(17)))
            session.add(TherapistHours(therapist_id="sam", weekday=weekday, start_time=time(12), end_time=time(19)))
    yield database


def book(url: str, starts_at: datetime, therapist: str = "maria", room: str = "r1", confirm: bool = True,
         **extra: Any) -> Appointment:
    values: Dict[str, Any] = dict(technique="swedish", service="Swedish massage", minutes=60, buffer_minutes=15,
                                  sender_id="web-test", channel="web", name="Dana Rivers", phone="+15550100123",
                                  email="dana@example.com")
    values.update(extra)
    held = appointment_store.hold(therapist_id=therapist, room_id=room, starts_at=starts_at, url=url, **values)
    return appointment_store.confirm(held.code, url=url) if confirm else held


@pytest.fixture(autouse=True)
def feed_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The calendar feeds' key, so no test writes a key file of its own."""
    monkeypatch.setenv("CALENDAR_FEED_SECRET", "calendar-feed-secret-for-tests")


@pytest.fixture
def told(monkeypatch: pytest.MonkeyPatch) -> List[Tuple[str, str, Optional[datetime]]]:
    """The client notices the pages asked for, instead of sending them."""
    calls: List[Tuple[str, str, Optional[datetime]]] = []

    def record(kind: str, appointment: Any, *, previous_start: Optional[datetime] = None, **_: Any) -> None:
        calls.append((kind, appointment.code, previous_start))

    monkeypatch.setattr(client_notify, "notify_client", record)
    return calls


def day_page(browser: requests.Session, server: InProcessServer, day: date = DAY, by: str = "therapist") -> str:
    answer = browser.get(f"{server.url}/staff/day", params={"date": day.isoformat(), "by": by})
    assert answer.status_code == 200, answer.text
    return answer.text


def post(browser: requests.Session, server: InProcessServer, path: str, page: str, **fields: str) -> requests.Response:
    return browser.post(f"{server.url}{path}", data={"csrf": csrf_in(page), **fields}, allow_redirects=False)


def stored(url: str, code: str) -> Appointment:
    found = appointment_store.get(code, url=url)
    assert found is not None
    return found


# --- the day view ----------------------------------------------------------------------------


def test_an_appointment_shows_once_under_its_therapist_at_its_time(diary: str, staff_server: InProcessServer) -> None:
    confirmed = book(diary, at(DAY, 10))
    book(diary, at(DAY, 13), therapist="sam", room="r2", confirm=False, name=None, phone=None, email=None,
         channel="kiosk")
    page = day_page(logged_in(staff_server), staff_server)
    shown = grid(page)
    assert shown.columns == ["Time", "Maria Lopez", "Sam Okafor"]  # the retired therapist has nothing that day
    cell = shown.cells[("10 am", "Maria Lopez")]
    assert cell == "10 am–11 am Swedish massage, Dana confirmed Room 1"
    assert "Rivers" not in page and "+1555" not in page  # first name only on the day view
    assert shown.spans[cell] == 5  # 60 minutes and the 15-minute buffer
    assert page.count(f'href="/staff/appointments/{confirmed.code}"') == 1
    assert shown.cells[("1 pm", "Sam Okafor")] == "1 pm–2 pm Swedish massage, Kiosk client on hold Room 2"
    assert shown.cells[("9 am", "Sam Okafor")] == "not working"
    assert ("9 am", "Maria Lopez") not in shown.cells  # she works then, and is free
    assert shown.cells[("6:45 pm", "Maria Lopez")] == "not working"
    assert "6:45 pm" in [label for label, _ in shown.cells] and "7 pm" not in [label for label, _ in shown.cells]


def test_by_room_puts_the_appointment_in_its_room(diary: str, staff_server: InProcessServer) -> None:
    book(diary, at(DAY, 11, 30), therapist="sam", room="r2")
    shown = grid(day_page(logged_in(staff_server), staff_server, by="room"))
    assert shown.columns == ["Time", "Room 1", "Room 2"]
    assert shown.cells[("11:30 am", "Room 2")] == "11:30 am–12:30 pm Swedish massage, Dana confirmed Sam Okafor"
    assert not any(column == "Room 1" for _, column in shown.cells)  # rooms have no working hours


def test_the_day_defaults_to_today_by_therapist_with_links_to_the_days_around(
        diary: str, staff_server: InProcessServer) -> None:
    page = logged_in(staff_server).get(f"{staff_server.url}/staff/day").text
    today = datetime.now(timezone.utc).astimezone(ZONE).date()
    assert f'name="date" value="{today.isoformat()}"' in page
    assert f'/staff/day?date={(today - timedelta(days=1)).isoformat()}&amp;by=therapist' in page
    assert f'/staff/day?date={(today + timedelta(days=1)).isoformat()}&amp;by=therapist' in page
    assert 'href="/staff/day?date=' in page and 'aria-current="page">By therapist' in page


def test_a_closed_day_says_so(diary: str, staff_server: InProcessServer) -> None:
    sunday = DAY + timedelta(days=5)
    page = day_page(logged_in(staff_server), staff_server, day=sunday)
    assert "The spa is closed on Sunday" in page and "<table" not in page


def test_days_either_side_of_the_clock_change_show_the_spa_s_own_time(
        diary: str, staff_server: InProcessServer) -> None:
    """New York moves its clocks on Sunday 14 March 2027: 10 am is 15:00 UTC before, 14:00 after."""
    before = book(diary, datetime(2027, 3, 13, 15, 0, tzinfo=timezone.utc))
    after = book(diary, datetime(2027, 3, 15, 14, 0, tzinfo=timezone.utc))
    browser = logged_in(staff_server)
    for day, appointment in ((date(2027, 3, 13), before), (date(2027, 3, 15), after)):
        page = day_page(browser, staff_server, day=day)
        shown = grid(page)
        assert shown.cells[("10 am", "Maria Lopez")].startswith("10 am–11 am"), day
        assert f'href="/staff/appointments/{appointment.code}"' in page
        labels = {label for label, _ in shown.cells}
        assert {"9 am", "6:45 pm"} <= labels and "7 pm" not in labels, day


def test_a_day_with_a_clock_change_has_one_row_per_quarter_hour_that_exists() -> None:
    clock = SpaClock.from_settings({"opening_hours": "Sun 00:00-24:00", "timezone": "America/New_York"})
    spring, autumn = date(2027, 3, 14), date(2027, 11, 7)
    spring_rows = row_instants(*clock.opening(spring))
    labels = [text for text, _ in clock.row_labels(spring_rows)]
    assert len(spring_rows) == 23 * 4 and "2 am" not in labels and labels[8:9] == ["3 am"]
    autumn_rows = row_instants(*clock.opening(autumn))
    labels = [text for text, _ in clock.row_labels(autumn_rows)]
    assert len(autumn_rows) == 25 * 4 and labels[4:10] == ["1 am EDT", "1:15 am EDT", "1:30 am EDT",
                                                            "1:45 am EDT", "1 am EST", "1:15 am EST"]


def test_time_that_overlaps_shares_one_cell_and_each_entry_shows_once() -> None:
    first = datetime(2027, 3, 2, 14, 0, tzinfo=timezone.utc)
    instants = row_instants(first, first + timedelta(hours=3))
    entries = [Entry("maria", first + timedelta(minutes=30), first + timedelta(minutes=105), {"n": "appointment"}),
               Entry("maria", first + timedelta(minutes=60), first + timedelta(minutes=150), {"n": "blocked"}),
               Entry("sam", first - timedelta(hours=1), first + timedelta(minutes=20), {"n": "started early"})]
    rows = build_rows(instants, [(str(i), False) for i in range(len(instants))], ["maria", "sam"], entries,
                      lambda column, moment: True)
    assert all(len(row.cells) + covered == 2 for row, covered in
               zip(rows, [0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]))
    shared = rows[2].cells[0]
    assert [e["n"] for e in shared.entries] == ["appointment", "blocked"] and shared.rowspan == 8
    assert rows[0].cells[1].entries == [{"n": "started early"}] and rows[0].cells[1].rowspan == 2


def test_the_day_view_never_shows_health_details(diary: str, staff_server: InProcessServer) -> None:
    request = add_request(diary)
    appointment = book(diary, at(DAY, 10), booking_request=request.code)
    browser = logged_in(staff_server)
    for page in (day_page(browser, staff_server),
                 browser.get(f"{staff_server.url}/staff/appointments/{appointment.code}").text):
        assert not any(word in page for word in HEALTH_WORDS)


def test_each_therapist_has_a_calendar_feed_link(diary: str, staff_server: InProcessServer) -> None:
    page = day_page(logged_in(staff_server), staff_server)
    assert f'href="{feed_path("maria")}"' in page and "Calendar feed<span class=\"sr\"> for Maria Lopez" in page


# --- blocking time ---------------------------------------------------------------------------


def test_blocked_time_appears_and_can_be_freed(diary: str, staff_server: InProcessServer) -> None:
    browser = logged_in(staff_server)
    page = day_page(browser, staff_server)
    answer = post(browser, staff_server, "/staff/day/block", page, date=DAY.isoformat(), by="therapist",
                  therapist="maria", start="12:00", end="13:00", reason="Training")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("changed=blocked")
    page = browser.get(staff_server.url + answer.headers["Location"]).text
    assert "Blocked. That time is no longer offered" in page
    shown = grid(page)
    assert shown.cells[("noon", "Maria Lopez")].startswith("Blocked (Training) noon–1 pm Free this time")
    assert shown.spans[shown.cells[("noon", "Maria Lopez")]] == 4
    with Session(get_engine(diary), future=True) as session:
        block = session.execute(select(TherapistTimeOff)).scalar_one()
        assert block.starts_at == at(DAY, 12).astimezone(timezone.utc)  # stored as UTC
    free = re.search(r'action="(/staff/day/block/\d+/delete)"', page)
    assert free is not None
    answer = post(browser, staff_server, free.group(1), page, date=DAY.isoformat(), by="therapist")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("changed=freed")
    page = browser.get(staff_server.url + answer.headers["Location"]).text
    assert "Blocked (" not in page and ("noon", "Maria Lopez") not in grid(page).cells


def test_a_block_that_ends_before_it_starts_is_refused_next_to_the_field(
        diary: str, staff_server: InProcessServer) -> None:
    browser = logged_in(staff_server)
    page = day_page(browser, staff_server)
    answer = post(browser, staff_server, "/staff/day/block", page, date=DAY.isoformat(), by="therapist",
                  therapist="maria", start="14:00", end="13:00", reason="Dentist")
    assert answer.status_code == 400
    assert re.search(r'id="block-end-error">The end time must be after the start time', answer.text)
    assert 'aria-describedby="block-end-error"' in answer.text and 'value="Dentist"' in answer.text
    missing = post(browser, staff_server, "/staff/day/block", page, date=DAY.isoformat(), by="therapist",
                   therapist="nobody", start="", end="13:00")
    assert missing.status_code == 400 and "Enter the start time" in missing.text and "Choose whose time" in missing.text
    with Session(get_engine(diary), future=True) as session:
        assert session.execute(select(TherapistTimeOff)).first() is None


# --- one appointment -------------------------------------------------------------------------


def test_the_appointment_page_shows_its_details(diary: str, staff_server: InProcessServer) -> None:
    request = add_request(diary)
    appointment = book(diary, at(DAY, 10), booking_request=request.code)
    page = logged_in(staff_server).get(f"{staff_server.url}/staff/appointments/{appointment.code}").text
    for text in ("Swedish massage, 60 min", f"{DAY:%A} {DAY.day} {DAY:%B} at 10 am to 11 am",
                 "the room is free again at 11:15 am", "Maria Lopez", "Room 1", "Confirmed", "Dana Rivers",
                 "+15550100123", "dana@example.com", f'href="/staff/requests/{request.code}"'):
        assert text in page, text


def test_moving_to_a_free_time_moves_it_and_tells_the_client(
        diary: str, staff_server: InProcessServer, told: List[Any]) -> None:
    appointment = book(diary, at(DAY, 10))
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/appointments/{appointment.code}").text
    answer = post(browser, staff_server, f"/staff/appointments/{appointment.code}/move", page,
                  date=DAY.isoformat(), time="14:00", therapist="sam")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?changed=moved")
    assert "Moved. The client is being told" in browser.get(staff_server.url + answer.headers["Location"]).text
    moved = stored(diary, appointment.code)
    assert (moved.starts_at, moved.therapist_id) == (at(DAY, 14).astimezone(timezone.utc), "sam")
    assert told == [("moved", appointment.code, appointment.starts_at)]
    shown = grid(day_page(browser, staff_server))
    assert shown.cells[("2 pm", "Sam Okafor")].startswith("2 pm–3 pm")
    assert ("10 am", "Maria Lopez") not in shown.cells


def test_moving_onto_a_taken_time_says_so_and_changes_nothing(
        diary: str, staff_server: InProcessServer, told: List[Any]) -> None:
    first, second = book(diary, at(DAY, 10)), book(diary, at(DAY, 13), room="r2")
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/appointments/{first.code}").text
    answer = post(browser, staff_server, f"/staff/appointments/{first.code}/move", page,
                  date=DAY.isoformat(), time="13:30", therapist="maria")
    assert answer.status_code == 409
    assert 'id="move-time-error">That time is taken for Maria Lopez or the room.' in answer.text
    assert 'value="13:30"' in answer.text  # the form keeps what was typed
    assert stored(diary, first.code).starts_at == first.starts_at
    assert stored(diary, second.code).starts_at == second.starts_at
    assert told == []


def test_a_move_to_a_therapist_who_is_not_working_or_lacks_the_training_is_refused(
        diary: str, staff_server: InProcessServer, told: List[Any]) -> None:
    with Session(get_engine(diary), future=True) as session, session.begin():
        session.get(Therapist, "maria").certifications = ["prenatal"]
    appointment = book(diary, at(DAY, 10), certifications=["prenatal"])  # a pregnant client's booking
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/appointments/{appointment.code}").text
    untrained = post(browser, staff_server, f"/staff/appointments/{appointment.code}/move", page,
                     date=DAY.isoformat(), time="14:00", therapist="sam")
    assert untrained.status_code == 409 and "That time does not work: Sam Okafor is not certified for prenatal" in untrained.text
    off_duty = post(browser, staff_server, f"/staff/appointments/{appointment.code}/move", page,
                    date=DAY.isoformat(), time="17:30", therapist="maria")
    assert off_duty.status_code == 409 and "Maria Lopez is not working then" in off_duty.text
    assert stored(diary, appointment.code).starts_at == appointment.starts_at and told == []


def test_a_move_into_the_past_or_to_no_time_is_refused(diary: str, staff_server: InProcessServer,
                                                       told: List[Any]) -> None:
    appointment = book(diary, at(DAY, 10))
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/appointments/{appointment.code}").text
    past = post(browser, staff_server, f"/staff/appointments/{appointment.code}/move", page,
                date=(date.today() - timedelta(days=3)).isoformat(), time="10:00", therapist="maria")
    assert past.status_code == 400 and "already passed" in past.text
    blank = post(browser, staff_server, f"/staff/appointments/{appointment.code}/move", page,
                 date="soon", time="", therapist="maria")
    assert blank.status_code == 400 and "Enter the date" in blank.text and "Enter the time" in blank.text
    assert stored(diary, appointment.code).starts_at == appointment.starts_at and told == []


def test_cancelling_frees_the_time_and_tells_the_client(
        diary: str, staff_server: InProcessServer, told: List[Any]) -> None:
    appointment = book(diary, at(DAY, 10))
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/appointments/{appointment.code}").text
    answer = post(browser, staff_server, f"/staff/appointments/{appointment.code}/cancel", page)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("?changed=cancelled")
    assert stored(diary, appointment.code).status == "cancelled"
    assert told == [("cancelled", appointment.code, None)]
    assert ("10 am", "Maria Lopez") not in grid(day_page(browser, staff_server)).cells
    book(diary, at(DAY, 10))  # the time can be booked again
    again = post(browser, staff_server, f"/staff/appointments/{appointment.code}/cancel", page)
    assert again.status_code == 303 and len(told) == 1  # cancelling twice tells the client once


def test_a_no_show_is_refused_before_the_start_and_accepted_after(diary: str, staff_server: InProcessServer) -> None:
    coming = book(diary, at(DAY, 10))
    yesterday = datetime.now(timezone.utc).astimezone(ZONE).date() - timedelta(days=1)
    missed = book(diary, at(yesterday, 10))
    browser = logged_in(staff_server)
    page = browser.get(f"{staff_server.url}/staff/appointments/{coming.code}").text
    early = post(browser, staff_server, f"/staff/appointments/{coming.code}/no-show", page)
    assert early.status_code == 409 and "cannot be marked as a no-show before it begins" in early.text
    assert stored(diary, coming.code).status == "confirmed"
    late = post(browser, staff_server, f"/staff/appointments/{missed.code}/no-show", page)
    assert late.status_code == 303 and stored(diary, missed.code).status == "no_show"
    done = post(browser, staff_server, f"/staff/appointments/{missed.code}/done", page)
    assert done.status_code == 409 and "Only a confirmed appointment can be marked as done" in done.text


def test_reception_may_use_every_page(diary: str, staff_server: InProcessServer, told: List[Any]) -> None:
    coming = book(diary, at(DAY, 10))
    past = book(diary, at(date.today() - timedelta(days=2), 11), therapist="sam", room="r2")
    browser = logged_in(staff_server)  # alice has no role: reception
    for path in ("/staff/day", "/staff/day?by=room", f"/staff/appointments/{past.code}"):
        answer = browser.get(staff_server.url + path)
        assert answer.status_code == 200 and "(reception)" in answer.text, path
    page = day_page(browser, staff_server)
    assert post(browser, staff_server, f"/staff/appointments/{past.code}/done", page).status_code == 303
    assert post(browser, staff_server, "/staff/day/block", page, date=DAY.isoformat(), by="therapist",
                therapist="sam", start="15:00", end="16:00").status_code == 303
    assert post(browser, staff_server, f"/staff/appointments/{coming.code}/move", page, date=DAY.isoformat(),
                time="16:00", therapist="maria").status_code == 303
    assert post(browser, staff_server, f"/staff/appointments/{coming.code}/cancel", page).status_code == 303


def test_without_a_login_every_page_leads_to_the_login(diary: str, staff_server: InProcessServer) -> None:
    appointment = book(diary, at(DAY, 10))
    for path in ("/staff/day", f"/staff/appointments/{appointment.code}"):
        answer = requests.get(staff_server.url + path, allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/staff/login?next="), path
    for path in ("/staff/day/block", "/staff/day/block/1/delete", f"/staff/appointments/{appointment.code}/cancel"):
        answer = requests.post(staff_server.url + path, data={"csrf": "x"}, allow_redirects=False)
        assert answer.status_code == 303 and answer.headers["Location"].startswith("/staff/login"), path
    assert stored(diary, appointment.code).status == "confirmed"


def test_a_form_without_its_csrf_token_is_refused(diary: str, staff_server: InProcessServer, told: List[Any]) -> None:
    appointment = book(diary, at(DAY, 10))
    browser = logged_in(staff_server)
    for path, fields in ((f"/staff/appointments/{appointment.code}/move",
                          {"date": DAY.isoformat(), "time": "15:00", "therapist": "sam"}),
                         (f"/staff/appointments/{appointment.code}/cancel", {}),
                         ("/staff/day/block", {"date": DAY.isoformat(), "therapist": "maria", "start": "12:00",
                                               "end": "13:00"})):
        answer = browser.post(staff_server.url + path, data=fields, allow_redirects=False)
        assert answer.status_code == 403 and "Not allowed" in answer.text, path
    kept = stored(diary, appointment.code)
    assert (kept.status, kept.starts_at, kept.therapist_id) == ("confirmed", appointment.starts_at, "maria")
    assert told == []


def test_an_unknown_code_is_not_found(diary: str, staff_server: InProcessServer) -> None:
    browser = logged_in(staff_server)
    assert browser.get(f"{staff_server.url}/staff/appointments/NOPE9").status_code == 404
    assert browser.get(f"{staff_server.url}/staff/appointments/not-a-code!").status_code == 404
