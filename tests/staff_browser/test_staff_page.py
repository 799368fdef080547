"""Reception's view in a real browser against the real servers: log in, find the new request
with its intake, open it, confirm it, take it to a calendar, print the sheet."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Dict

import pytest

from bot.booking import store
from tests.staff_browser.conftest import STAFF_NAME, STAFF_PASSWORD

INTAKE = {
    "conditions": [
        {"id": "osteoarthritis", "name": "Arthritis", "severity": "relative", "modification": ""},
        {"id": "pregnancy", "name": "Pregnancy", "severity": "relative",
         "modification": "Book a certified prenatal therapist; side-lying with pillows, no deep pressure."},
    ],
    "areas": ["lower back", "hips"], "goals": ["relaxation", "better sleep"], "symptoms": ["stiffness"],
    "pressure": "light", "audiences": ["pregnant"],
}


@pytest.fixture(scope="module")
def requests_made(staff_database: str, staff_servers: Dict[str, Any]) -> Dict[str, Any]:
    kiosk = store.create_request(url=staff_database, sender_id="kiosk-visitor", channel="kiosk",
                                 technique="hot_stone", technique_name="Hot stone massage", minutes=60,
                                 preferred_at=datetime(2026, 12, 3, 10, 0), preferred_text="Thursday morning",
                                 intake={"areas": ["shoulders"], "goals": ["relaxation"], "pressure": "medium"})
    chat = store.create_request(url=staff_database, sender_id="web-visitor", channel="web", technique="swedish",
                                technique_name="Swedish massage", minutes=45,
                                preferred_at=datetime(2026, 12, 1, 14, 30), preferred_text="next Tuesday at 2:30",
                                name="Dana Rivers", phone="+15550100123", email="dana@example.com",
                                intake=INTAKE)
    return {"chat": chat, "kiosk": kiosk}


@pytest.fixture
def page(browser: Any, staff_servers: Dict[str, Any]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    tab = context.new_page()
    yield tab
    context.close()


def base(staff_servers: Dict[str, Any]) -> str:
    return staff_servers["assistant"].rasa_url + "/staff"


def log_in(page: Any, password: str = STAFF_PASSWORD) -> None:
    page.get_by_label("Name").fill(STAFF_NAME)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_wrong_password_is_refused(page: Any, staff_servers: Dict[str, Any]) -> None:
    page.goto(base(staff_servers) + "/")
    assert "/staff/login" in page.url
    log_in(page, "not the password")
    assert page.get_by_role("alert").inner_text() == "That name and password do not match an account."
    assert "/staff/login" in page.url and page.get_by_role("heading", name="Staff login").is_visible()


def test_reception_confirms_a_request_and_takes_it_to_a_calendar(
        page: Any, staff_servers: Dict[str, Any], requests_made: Dict[str, Any], screenshot_dir: Path,
        staff_database: str) -> None:
    chat, kiosk = requests_made["chat"], requests_made["kiosk"]
    page.goto(base(staff_servers) + "/")
    log_in(page)
    page.get_by_role("heading", name="Booking requests").wait_for()
    rows = page.locator("table.requests tbody tr")
    first = rows.nth(0).inner_text()
    assert chat.code in first and "Dana Rivers" in first
    assert "Adapt the session" in first and "Pregnancy, Arthritis · lower back, hips" in first
    assert "Swedish massage, 45 min" in first and "Tue 01 Dec 2026, 14:30" in first
    assert "at reception (kiosk)" in rows.nth(1).inner_text() and kiosk.code in rows.nth(1).inner_text()
    page.screenshot(path=str(screenshot_dir / "staff-list.png"), full_page=True)

    page.get_by_role("link", name=chat.code).click()
    page.get_by_role("heading", name=f"Request {chat.code}").wait_for()
    intake = page.locator("section", has=page.get_by_role("heading", name="Intake")).inner_text()
    assert intake.index("Pregnancy") < intake.index("Arthritis") < intake.index("lower back, hips")
    assert "side-lying with pillows" in intake
    page.screenshot(path=str(screenshot_dir / "staff-request.png"), full_page=True)

    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("status").filter(has_text="Status changed to confirmed.").wait_for()
    assert page.locator("h1 .status").inner_text().lower() == "confirmed"
    assert page.get_by_role("button", name="Mark as done").is_visible()
    assert store.get_by_code(chat.code, url=staff_database).status == "confirmed"

    with page.expect_download() as download:
        page.get_by_role("link", name="Add to a calendar (.ics)").click()
    assert download.value.suggested_filename == f"booking-{chat.code}.ics"
    ics = Path(download.value.path()).read_text()
    assert "DTSTART;TZID=America/New_York:20261201T143000" in ics and "DURATION:PT45M" in ics
    assert f"SUMMARY:Massage: Swedish massage ({chat.code})" in ics and "STATUS:CONFIRMED" in ics

    page.get_by_role("link", name="Print the intake sheet").click()
    page.get_by_role("heading", name=f"Intake sheet · {chat.code}").wait_for()
    assert page.locator("nav").count() == 0
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 820, "height": 1100})
    page.screenshot(path=str(screenshot_dir / "staff-print.png"), full_page=True)


def test_a_post_without_the_csrf_token_is_refused(page: Any, staff_servers: Dict[str, Any],
                                                  requests_made: Dict[str, Any], staff_database: str) -> None:
    kiosk = requests_made["kiosk"]
    page.goto(base(staff_servers) + "/")
    log_in(page)
    page.goto(f"{base(staff_servers)}/requests/{kiosk.code}")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(field => field.remove())")
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name="Not allowed").wait_for()
    assert store.get_by_code(kiosk.code, url=staff_database).status == "new"
    answer = page.request.post(f"{base(staff_servers)}/requests/{kiosk.code}/status", form={"status": "cancelled"},
                               max_redirects=0)
    assert answer.status == 403 and store.get_by_code(kiosk.code, url=staff_database).status == "new"


def test_the_list_fits_a_tablet_and_works_from_the_keyboard(browser: Any, staff_servers: Dict[str, Any],
                                                            requests_made: Dict[str, Any], staff_database: str) -> None:
    typed = store.create_request(url=staff_database, sender_id="markup", channel="web",
                                 name="<b>Bold</b><img src=x onerror=alert(1)>", intake={"areas": ["<i>neck</i>"]})
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    tab = context.new_page()
    try:
        tab.goto(base(staff_servers) + "/")
        log_in(tab)
        tab.get_by_role("heading", name="Booking requests").wait_for()
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        tab.set_viewport_size({"width": 1024, "height": 768})
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        first = tab.locator("table.requests tbody tr").nth(0)
        assert typed.code in first.inner_text() and "<b>Bold</b><img src=x" in first.inner_text()
        assert tab.locator("table.requests b, table.requests img, table.requests i").count() == 0
        tab.keyboard.press("Tab")
        assert tab.evaluate("document.activeElement.textContent") == "Skip to content"
        tab.get_by_label("Code or name").fill(requests_made["kiosk"].code.lower())
        tab.keyboard.press("Enter")
        tab.wait_for_url("**q=*")
        assert tab.locator("table.requests tbody tr").count() == 1
    finally:
        context.close()
