"""axe-core (through axe-playwright-python) over the widget and the kiosk, in the states people see:
no serious or critical accessibility violation."""
from __future__ import annotations

from typing import Any, List

from playwright.sync_api import expect

SERIOUS = ("serious", "critical")


def serious_violations(page: Any) -> List[str]:
    """Each serious or critical axe-core violation on the page, with the elements it concerns."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"] if v.get("impact") in SERIOUS]


def test_the_widget_closed_open_and_mid_conversation(browser, servers) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{servers['assistant'].rasa_url}/webhooks/web/demo")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Chat with us").click()
    page.get_by_role("textbox").fill("my lower back is stiff from sitting all day")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("button", name="None of these")).to_be_visible()
    assert serious_violations(page) == []
    context.close()


def test_the_kiosk_start_screen_and_a_reply(browser, servers) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, has_touch=True)
    page = context.new_page()
    page.goto(f"{servers['assistant'].rasa_url}/webhooks/kiosk/screen")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Which massage suits me?").tap()
    expect(page.get_by_role("button", name="None of these")).to_be_visible()
    assert serious_violations(page) == []
    context.close()


def test_the_staff_page_when_no_account_is_configured(browser, servers) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{servers['assistant'].rasa_url}/staff/")
    expect(page.locator("body")).not_to_be_empty()
    assert serious_violations(page) == []
    context.close()
