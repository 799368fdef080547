"""The owner keeps the team in a real browser against the real servers: Saturday hours typed into
a therapist's form show on the team list, a mistake is shown at its day first, and the team list
and the forms pass axe-core and fit a tablet."""
from __future__ import annotations

from typing import Any, Dict, Iterator

import pytest

from tests.browser.test_accessibility import serious_violations
from tests.staff_browser.conftest import OWNER_NAME, OWNER_PASSWORD


@pytest.fixture
def page(browser: Any, staff_servers: Dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    yield tab
    context.close()


def team_url(staff_servers: Dict[str, Any], path: str = "") -> str:
    return staff_servers["assistant"].rasa_url + "/staff/team" + path


def log_in_as_owner(page: Any, staff_servers: Dict[str, Any]) -> None:
    page.goto(team_url(staff_servers))
    page.get_by_label("Name").fill(OWNER_NAME)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Team and rooms").wait_for()


def fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_owner_adds_saturday_hours_and_sees_them_on_the_team(page: Any, staff_servers: Dict[str, Any]) -> None:
    log_in_as_owner(page, staff_servers)
    assert serious_violations(page) == [], "the team list"
    maria = page.get_by_role("row").filter(has=page.get_by_role("link", name="Maria Alvarez"))
    assert "Sat" not in maria.inner_text()

    page.get_by_role("link", name="Maria Alvarez").click()
    page.get_by_role("heading", name="Maria Alvarez", exact=True).wait_for()
    assert serious_violations(page) == [], "the therapist form"
    saturday = page.get_by_label("Saturday", exact=True)
    saturday.fill("2pm-10am")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("alert").wait_for()
    assert "Saturday: “2pm-10am” ends before it starts." in page.get_by_role("alert").inner_text()
    assert saturday.get_attribute("aria-invalid") == "true"
    assert serious_violations(page) == [], "the therapist form with a mistake"

    saturday.fill("10am-2pm")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("status").filter(has_text="Changes saved.").wait_for()
    assert saturday.input_value() == "10:00-14:00"

    page.get_by_role("link", name="← Team").click()
    page.get_by_role("heading", name="Team and rooms").wait_for()
    maria = page.get_by_role("row").filter(has=page.get_by_role("link", name="Maria Alvarez"))
    assert "Sat 10:00–14:00" in maria.inner_text()


def test_the_team_forms_pass_axe_and_fit_a_tablet(browser: Any, staff_servers: Dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 768, "height": 1024})
    page = context.new_page()
    try:
        log_in_as_owner(page, staff_servers)
        for path, heading in (("", "Team and rooms"), ("/therapists/new", "Add a therapist"),
                              ("/therapists/sam", "Sam Okafor"), ("/rooms/new", "Add a room"),
                              ("/rooms/suite", "Couples suite")):
            page.goto(team_url(staff_servers, path))
            page.get_by_role("heading", name=heading, exact=True).wait_for()
            assert serious_violations(page) == [], path
            assert fits(page), path
        page.goto(team_url(staff_servers, "/therapists/sam"))
        page.get_by_label("From", exact=True).fill("2027-03-14")
        page.get_by_label("Reason (optional)").fill("Conference")
        page.get_by_role("button", name="Add time off").click()
        page.get_by_role("status").filter(has_text="Time off added.").wait_for()
        assert "Sun 14 Mar 2027, all day: Conference" in page.locator("#time-off").inner_text()
        assert serious_violations(page) == [], "the therapist page with time off"
    finally:
        context.close()
