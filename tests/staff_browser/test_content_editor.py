"""The owner edits the spa's content in a real browser against the real servers: a new price and a
new FAQ answer are what the assistant says on the next message, without a restart; restoring the
first version brings the old replies back. Every content page passes axe-core and fits a tablet."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from bot.knowledge import content
from bot.knowledge.loader import read_texts
from tests.browser.test_accessibility import serious_violations
from tests.conftest import KB_DIR
from tests.servers import reply_text
from tests.staff_browser.conftest import OWNER_NAME, OWNER_PASSWORD

PRICE_QUESTION = "how much does a massage cost"
INSURANCE_QUESTION = "is massage covered by insurance"
NEW_INSURANCE = "Good news: many health plans now pay back part of the cost. Ask us for a receipt for your provider."


@pytest.fixture
def page(browser: Any, staff_servers: Dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    tab = context.new_page()
    yield tab
    context.close()


def ask(staff_servers: Dict[str, Any], question: str) -> str:
    """What the assistant answers a new conversation, through the REST webhook."""
    return reply_text(staff_servers["assistant"].send(question, f"content-{uuid.uuid4().hex[:10]}"))


def content_url(staff_servers: Dict[str, Any], path: str = "") -> str:
    return staff_servers["assistant"].rasa_url + "/staff/content" + path


def log_in_as_owner(page: Any, staff_servers: Dict[str, Any]) -> None:
    page.goto(content_url(staff_servers))
    page.get_by_label("Name").fill(OWNER_NAME)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="The spa's content").wait_for()


def fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_owner_changes_a_price_and_an_answer_and_can_undo_both(
        page: Any, staff_servers: Dict[str, Any], screenshot_dir: Path) -> None:
    before_price, before_insurance = ask(staff_servers, PRICE_QUESTION), ask(staff_servers, INSURANCE_QUESTION)
    assert "$95 for 60 minutes" in before_price and "Sometimes. Some health plans" in before_insurance

    log_in_as_owner(page, staff_servers)
    assert serious_violations(page) == [], "the content overview"
    page.get_by_role("link", name="Edit prices").click()
    page.get_by_role("heading", name="Prices", exact=True).wait_for()
    assert serious_violations(page) == [], "the price list"

    page.get_by_label("Price, line 3").fill("ninety")
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("alert").wait_for()
    assert "field 'price' must be an amount like 55 or 49.50" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Price, line 3").get_attribute("aria-invalid") == "true"
    assert serious_violations(page) == [], "a price the loader refuses"

    page.get_by_label("Price, line 3").fill("105")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("section", has=page.get_by_role("heading", name="How the assistant will answer"))
    assert "Massage: $55 for 30 minutes, $75 for 45 minutes, $105 for 60 minutes" in preview.inner_text()
    assert serious_violations(page) == [], "the price preview with its diff"
    page.screenshot(path=str(screenshot_dir / "staff-content.png"), full_page=True)
    page.get_by_role("button", name="Save as a new version").click()
    page.get_by_role("status").filter(has_text="Saved as version 2.").wait_for()
    assert "$105 for 60 minutes" in ask(staff_servers, PRICE_QUESTION)

    page.get_by_role("link", name="Insurance").click()
    page.get_by_role("heading", name="FAQ answer: Insurance").wait_for()
    assert serious_violations(page) == [], "an FAQ answer"
    page.get_by_label("Answer").fill(NEW_INSURANCE)
    page.keyboard.press("Tab")  # Preview
    page.keyboard.press("Tab")  # Save as a new version
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Saved as version 3.").wait_for()
    assert NEW_INSURANCE in ask(staff_servers, INSURANCE_QUESTION)

    page.get_by_role("link", name="See every version and undo a change").click()
    page.get_by_role("heading", name="Content history").wait_for()
    assert serious_violations(page) == [], "the history"
    page.get_by_role("link", name="Version 3", exact=True).click()
    page.get_by_role("heading", name="Version 3").wait_for()
    changes = page.locator("table.diff").inner_text()
    assert "Good news: many health plans" in changes and "Sometimes. Some health plans" in changes
    assert serious_violations(page) == [], "a version and its diff"
    page.screenshot(path=str(screenshot_dir / "staff-history.png"), full_page=True)

    page.goto(content_url(staff_servers, "/history/1"))
    page.get_by_role("button", name="Restore version 1").click()
    page.get_by_role("status").filter(has_text="Version 1 restored: it is now version 4.").wait_for()
    assert "$95 for 60 minutes" in ask(staff_servers, PRICE_QUESTION)
    assert "Sometimes. Some health plans" in ask(staff_servers, INSURANCE_QUESTION)


def test_the_other_content_pages_pass_axe_and_fit_a_tablet(browser: Any, staff_servers: Dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    page = context.new_page()
    try:
        log_in_as_owner(page, staff_servers)
        for path, heading in (("", "The spa's content"), ("/details", "Spa details, policies and front-desk answers"),
                              ("/prices", "Prices"), ("/answers/first-visit/tipping", "First-visit answer: Tipping"),
                              ("/history", "Content history"), ("/history/2", "Version 2"),
                              ("/import", "Import content")):
            page.goto(content_url(staff_servers, path))
            page.get_by_role("heading", name=heading, exact=True).wait_for()
            assert serious_violations(page) == [], path
            assert fits(page), path
        page.goto(content_url(staff_servers, "/details"))
        page.get_by_label("Parking").fill("Free parking behind the building, enter from Mill Lane.")
        page.get_by_role("button", name="Preview").click()
        preview = page.locator("section", has=page.get_by_role("heading", name="How the assistant will answer"))
        assert "Free parking behind the building" in preview.inner_text()
        assert serious_violations(page) == [], "a details preview"
        assert fits(page), "a details preview"
    finally:
        context.close()


def test_an_import_is_checked_shown_and_applied_exactly(page: Any, staff_servers: Dict[str, Any],
                                                      staff_database: str) -> None:
    topics = read_texts(KB_DIR)["topics.yml"].replace("Sometimes. Some health plans", "Often. Some health plans")
    log_in_as_owner(page, staff_servers)
    page.get_by_role("link", name="Import files").click()
    page.get_by_label("Files").set_input_files(files=[
        {"name": "topics.yml", "mimeType": "application/x-yaml", "buffer": topics.replace("Often.", "Often!").encode()
         .replace(b"    answer: >-\n      Often!", b"    reply: >-\n      Often!")}])
    page.get_by_role("button", name="Check the files").click()
    assert "topics.yml, entry 'insurance': missing field(s) answer" in page.get_by_role("alert").inner_text()
    assert serious_violations(page) == [], "a refused import"
    page.get_by_label("Files").set_input_files(files=[
        {"name": "topics.yml", "mimeType": "application/x-yaml", "buffer": topics.encode()}])
    page.get_by_role("button", name="Check the files").click()
    page.get_by_role("heading", name="Confirm the import").wait_for()
    assert "Often. Some health plans" in page.locator("table.diff").inner_text()
    assert serious_violations(page) == [], "the import's diff"
    page.get_by_role("button", name="Apply as a new version").click()
    page.get_by_role("status").filter(has_text="Saved as version").wait_for()
    applied = content.current(staff_database)
    assert applied.files["topics.yml"] == topics and applied.summary == "Imported topics.yml"
    assert "Often. Some health plans" in ask(staff_servers, INSURANCE_QUESTION)
    page.get_by_role("button", name=f"Undo: restore version {applied.number - 1}").click()
    page.get_by_role("status").filter(has_text=f"Version {applied.number - 1} restored").wait_for()
    assert "Sometimes. Some health plans" in ask(staff_servers, INSURANCE_QUESTION)
