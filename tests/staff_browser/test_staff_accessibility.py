"""axe-core over every staff page (log in, the list, a request, its printable sheet, a refused
login): no serious or critical accessibility violation."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

from bot.booking import store
from tests.browser.test_accessibility import serious_violations
from tests.staff_browser.conftest import STAFF_NAME, STAFF_PASSWORD


def test_every_staff_page(browser: Any, staff_servers: Dict[str, Any], staff_database: str) -> None:
    request = store.create_request(
        url=staff_database, sender_id="axe-visitor", channel="web", technique="swedish",
        technique_name="Swedish massage", minutes=60, preferred_at=datetime(2026, 12, 4, 11, 0),
        preferred_text="Friday at 11", name="Sam Lee", phone="+15550100777", email="sam@example.com",
        intake={"areas": ["neck"], "goals": ["relaxation"], "pressure": "light"})
    base = staff_servers["assistant"].rasa_url + "/staff"
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(base + "/")
    assert serious_violations(page) == [], "login"
    page.get_by_label("Name").fill(STAFF_NAME)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert serious_violations(page) == [], "refused login"
    page.get_by_label("Name").fill(STAFF_NAME)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name=request.code).wait_for()
    assert serious_violations(page) == [], "the list"
    page.goto(f"{base}/requests/{request.code}")
    assert serious_violations(page) == [], "a request"
    page.goto(f"{base}/requests/{request.code}/print")
    assert serious_violations(page) == [], "the printable sheet"
    context.close()


def test_the_daily_figures_report(browser: Any) -> None:
    from bot.analytics.consumer import report_html

    data = {"days": {"2026-12-05": {"web": {"conversations": 12, "crisis_replies": 1},
                                    "kiosk": {"conversations": 4}}},
            "unanswered": [{"text": "do you have parking?", "count": 3}]}
    context = browser.new_context()
    page = context.new_page()
    page.set_content(report_html(data))
    assert serious_violations(page) == []
    context.close()
