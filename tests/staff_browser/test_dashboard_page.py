"""The owner's dashboard in a real browser against the real servers: a few conversations over the
REST channel (advice and a booking, a question, a fallback, a red flag, an absolute
contraindication, a crisis), then the owner opens the dashboard, reads the charts, downloads a
chart's numbers, and axe-core finds no serious problem. The tablet screenshot is the README's."""
from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path
from typing import Any, Dict

import pytest
import requests

from bot.booking import store
from tests.browser.test_accessibility import serious_violations
from tests.safety.crisis_sets import crisis_cases
from tests.staff_browser.conftest import OWNER_NAME, OWNER_PASSWORD

TABLET = {"width": 820, "height": 1180}
CHARTS = ("Conversations per day", "Conversations per channel", "Topics people asked about",
          "Safety stops and crisis replies", "Fallbacks per day", "Booking funnel")


def crisis_message() -> str:
    return next(c["text"] for c in crisis_cases() if c["tier"] == "suicide" and c["about"] == "self")


class Person:
    """One conversation on one of the REST-protocol channels: the REST API, the website widget's
    ("web") or the kiosk's."""

    def __init__(self, servers: Dict[str, Any], channel: str = "rest") -> None:
        self.url = f"{servers['assistant'].rasa_url}/webhooks/{channel}/webhook"
        self.sender = f"dashboard-{channel}-{uuid.uuid4().hex[:10]}"

    def say(self, *texts: str) -> None:
        for text in texts:
            requests.post(self.url, json={"sender": self.sender, "message": text}, timeout=60).raise_for_status()


@pytest.fixture(scope="module")
def chatted(staff_servers: Dict[str, Any], staff_database: str) -> Dict[str, str]:
    """Conversations as people have them, over the webhooks; one booking request confirmed."""
    booker = Person(staff_servers, "web")
    booker.say("my calves are tight", "none of these", "/book_session", "next tuesday at 3pm", "Lee",
               "lee@example.com", "/affirm", "/affirm")
    request = store.latest_for_sender(booker.sender, url=staff_database)
    assert request is not None, "the booking conversation did not make a request"
    store.set_status(request.code, "confirmed", url=staff_database)
    Person(staff_servers, "kiosk").say("what are the benefits of massage?", "how often should I come?")
    Person(staff_servers, "kiosk").say("how much is a session?", "qwzx vlorp fnarg")
    Person(staff_servers, "web").say("my shoulders are tight from my desk job", "none of these")
    Person(staff_servers).say("I have a fever and my back hurts")
    Person(staff_servers, "web").say("I have crushing chest pain right now")
    crisis = crisis_message()
    Person(staff_servers).say(crisis)
    return {"crisis": crisis}


@pytest.fixture
def owner_page(browser: Any, staff_servers: Dict[str, Any]) -> Any:
    context = browser.new_context(viewport=TABLET, accept_downloads=True)
    tab = context.new_page()
    tab.goto(staff_servers["assistant"].rasa_url + "/staff/dashboard")
    tab.get_by_label("Name").fill(OWNER_NAME)
    tab.get_by_label("Password").fill(OWNER_PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("heading", name="Dashboard", exact=True).wait_for()
    yield tab
    context.close()


def tile(page: Any, label: str) -> int:
    group = page.locator(".tiles > div", has=page.locator("dt", has_text=label))
    return int(group.locator(".tile-value").inner_text())


def test_the_owner_reads_the_dashboard_on_a_tablet(owner_page: Any, chatted: Dict[str, str],
                                                   screenshot_dir: Path) -> None:
    page = owner_page
    assert page.locator("nav[aria-label=Period] [aria-current=page]").inner_text() == "Last 30 days"
    for title in CHARTS:
        section = page.locator("section", has=page.get_by_role("heading", name=title))
        assert section.get_by_role("img", name=title).is_visible(), title
        assert section.locator("table").count() == 1, title  # the numbers, for screen readers
    assert tile(page, "Conversations") >= 7 and tile(page, "Booking requests") >= 1
    assert tile(page, "Safety stops") >= 2 and tile(page, "Crisis replies") >= 1 and tile(page, "Fallbacks") >= 1
    assert tile(page, "Recommended") >= 2
    channels = page.locator("section", has=page.get_by_role("heading", name="Conversations per channel"))
    assert {"Website chat", "Reception kiosk", "REST API"} <= set(channels.locator("tbody th").all_inner_texts())
    topics = page.locator("section", has=page.get_by_role("heading", name="Topics people asked about"))
    assert "Benefits" in topics.locator("table").inner_text()
    assert chatted["crisis"] not in page.content() and "qwzx" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / "staff-dashboard.png"), full_page=True)

    funnel = page.locator("section", has=page.get_by_role("heading", name="Booking funnel"))
    with page.expect_download() as download:
        funnel.get_by_role("link", name=re.compile(r"^Download the numbers\s+of booking funnel\s+\(CSV\)$")).click()
    assert download.value.suggested_filename.startswith("dashboard-funnel-")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["Step", "Conversations", "Share of conversations"]
    steps = {row[0]: int(row[1]) for row in rows[1:]}
    assert steps["Recommendation given"] >= 1 and steps["Booking offered"] >= 1
    assert steps["Booking request made"] >= 1 and steps["Request confirmed"] >= 1

    page.get_by_role("link", name="Last 7 days").click()
    page.wait_for_url("**days=7")
    assert page.locator("nav[aria-label=Period] [aria-current=page]").inner_text() == "Last 7 days"
    assert page.get_by_role("img", name="Conversations per day").is_visible()


def test_the_dashboard_has_no_serious_accessibility_problem(owner_page: Any, chatted: Dict[str, str]) -> None:
    assert serious_violations(owner_page) == []
    owner_page.set_viewport_size({"width": 1280, "height": 860})
    assert serious_violations(owner_page) == []
