"""The day view in a real browser against the real servers: reception opens an appointment with
the keyboard alone, moves it and sees it at its new time; a therapist's calendar feed downloads
and holds the appointment; axe-core finds no serious problem on either page (the screenshot in
docs/screenshots/staff-day-view.png)."""
from __future__ import annotations

import importlib.util
import re
import secrets
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from bot.booking import appointment_store
from bot.booking.appointments import Appointment, TherapistTimeOff
from bot.knowledge.db import get_engine
from bot.knowledge.loader import load
from bot.staff.passwords import hash_password
from tests.browser.test_accessibility import serious_violations
from tests.conftest import KB_DIR
from tests.staff_browser.conftest import STAFF_NAME, STAFF_PASSWORD

ZONE = ZoneInfo("America/New_York")  # the spa's, in data/kb/spa.yml
MAX_TABS = 120


def next_tuesday(weeks_ahead: int = 2) -> date:
    day = date.today() + timedelta(weeks=weeks_ahead)
    return day + timedelta(days=(1 - day.weekday()) % 7)


DAY = next_tuesday()


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=ZONE)


@pytest.fixture(scope="module")
def diary_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    """The servers as `make run` starts them, a reception account, and the example team from
    data/kb/team.yml with a few appointments on DAY."""
    from tests.servers import start_servers

    database = f"sqlite:///{tmp_path_factory.mktemp('diary') / 'knowledge.db'}"
    load(KB_DIR, database)
    env = {"DATABASE_URL": database, "STAFF_ACCOUNTS": f"{STAFF_NAME}:{hash_password(STAFF_PASSWORD)}",
           "STAFF_SECRET_KEY": secrets.token_urlsafe(32)}
    for running in start_servers(tmp_path_factory, extra_env=env):
        yield {**running, "database": database}


def book(url: str, therapist: str, room: str, starts_at: datetime, name: Any, minutes: int = 60,
         confirm: bool = True) -> Appointment:
    held = appointment_store.hold(therapist_id=therapist, room_id=room, technique="swedish", service="Swedish massage",
                                  minutes=minutes, buffer_minutes=15, starts_at=starts_at, sender_id="browser-test",
                                  channel="web" if name else "kiosk", name=name, hold_minutes=120, url=url)
    return appointment_store.confirm(held.code, url=url) if confirm else held


def log_in(browser: Any, servers: Dict[str, Any], path: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(servers["assistant"].rasa_url + path)
    page.get_by_label("Name").fill(STAFF_NAME)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"{DAY:%A} {DAY.day} {DAY:%B %Y}").wait_for()
    return page


def test_reception_opens_and_moves_an_appointment_with_the_keyboard(
        browser: Any, diary_servers: Dict[str, Any], screenshot_dir: Path) -> None:
    url = diary_servers["database"]
    dana = book(url, "maria", "room-1", at(10), "Dana Rivers")
    book(url, "sam", "room-2", at(11, 30), None, confirm=False)
    book(url, "priya", "room-3", at(14), "Lee Chen", minutes=90)
    with Session(get_engine(url), future=True) as session, session.begin():
        session.add(TherapistTimeOff(therapist_id="tom", starts_at=at(12), ends_at=at(13), reason="Training"))

    page = log_in(browser, diary_servers, f"/staff/day?date={DAY.isoformat()}")
    table = page.get_by_role("table", name=re.compile(r"^Therapists on "))
    assert table.get_by_role("columnheader", name="Maria Alvarez").count() == 1
    assert table.get_by_role("rowheader", name="10 am", exact=True).count() == 1
    assert table.get_by_text("Kiosk client").count() == 1 and table.get_by_text("on hold").count() == 1
    assert table.get_by_text("Blocked").count() == 1
    assert serious_violations(page) == [], "the day view"
    page.screenshot(path=str(screenshot_dir / "staff-day-view.png"), full_page=True)

    target = f"/staff/appointments/{dana.code}"
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement.getAttribute('href')") or "") == target:
            break
    else:
        pytest.fail("the appointment link cannot be reached with Tab")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=re.compile(f"^Appointment {dana.code}")).wait_for()
    assert serious_violations(page) == [], "the appointment page"

    page.get_by_label("Date").fill(DAY.isoformat())
    page.get_by_label("Time", exact=True).fill("15:00")
    page.get_by_label("Therapist").select_option("maria")
    page.get_by_role("button", name="Move").click()
    page.get_by_role("status").filter(has_text="Moved.").wait_for()
    assert appointment_store.get(dana.code, url=url).starts_at == at(15).astimezone(timezone.utc)

    page.get_by_role("link", name=re.compile("Day view, ")).click()
    row = page.locator("tbody tr", has=page.get_by_role("rowheader", name="3 pm", exact=True))
    row.get_by_role("link", name=re.compile("Dana")).wait_for()
    old_row = page.locator("tbody tr", has=page.get_by_role("rowheader", name="10 am", exact=True))
    assert old_row.get_by_role("link", name=re.compile("Dana")).count() == 0
    page.context.close()


def feeds_are_served() -> bool:
    """bot/booking/feeds.py exists and the staff page mounts its route."""
    from bot.staff import web

    return (importlib.util.find_spec("bot.booking.feeds") is not None
            and "bot.booking.feeds" in web.OWNER_PAGES + web.STAFF_PAGES)


def test_a_therapist_s_calendar_feed_downloads_with_the_appointment(
        browser: Any, diary_servers: Dict[str, Any]) -> None:
    from icalendar import Calendar

    if not feeds_are_served():
        pytest.skip("the therapists' calendar feeds (bot/booking/feeds.py) are not served by the staff page yet")
    url = diary_servers["database"]
    booked = book(url, "tom", "room-1", at(16, 30), "Robin Hale")
    page = log_in(browser, diary_servers, f"/staff/day?date={DAY.isoformat()}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Calendar feed for Tom Becker").click()
    feed = Calendar.from_ical(Path(download.value.path()).read_bytes())
    starts = [event.decoded("dtstart") for event in feed.walk("VEVENT")]
    assert booked.starts_at in [s.astimezone(timezone.utc) for s in starts if isinstance(s, datetime)]
    page.context.close()
