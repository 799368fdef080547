"""The owner's review page in a real browser against the real servers: a message the assistant
did not understand is listed with its reply, axe-core finds no serious problem, and the owner
labels one with the keyboard alone (the screenshot in docs/screenshots/staff-review.png)."""
from __future__ import annotations

import asyncio
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.knowledge.loader import load
from bot.retention import PrivateSQLTrackerStore
from bot.staff.passwords import hash_password
from tests.browser.test_accessibility import serious_violations
from tests.conftest import KB_DIR

OWNER, PASSWORD = "owner", "harbour-light-owner-keys"
GIBBERISH = "blorp flarn zibble"
PLANTED = {  # what the current model made of them (planted: the page must not depend on the model's luck)
    "web-torn": ("nah ur alright", "nlu_fallback", [("nlu_fallback", 0.3), ("deny", 0.53), ("affirm", 0.46)],
                 "Sorry, I'm not sure I follow. Could you say that another way?"),
    "kiosk-aye": ("aye go on then", "goodbye", [("goodbye", 0.42), ("ask_session", 0.09)], "Take care, and see you soon!"),
}


@pytest.fixture(scope="module")
def review_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    """The servers as `make run` starts them, with an owner account and reviewed.yml in a temporary folder."""
    from tests.servers import start_servers

    folder = tmp_path_factory.mktemp("review")
    database = f"sqlite:///{folder / 'knowledge.db'}"
    load(KB_DIR, database)
    env = {"DATABASE_URL": database, "STAFF_ACCOUNTS": f"{OWNER}:owner:{hash_password(PASSWORD)}",
           "STAFF_SECRET_KEY": secrets.token_urlsafe(32), "REVIEW_EXPORT_PATH": str(folder / "reviewed.yml")}
    for running in start_servers(tmp_path_factory, extra_env=env):
        yield {**running, "export": folder / "reviewed.yml"}


def plant(tracker_db: Path) -> None:
    store = PrivateSQLTrackerStore(dialect="sqlite", db=str(tracker_db))
    now = time.time()
    for minutes, (sender, (text, intent, ranking, reply)) in enumerate(PLANTED.items(), start=5):
        confidence = dict(ranking)[intent]
        parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": [],
                 "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
        events = [UserUttered(text, parse["intent"], [], parse_data=parse, timestamp=now - minutes * 60,
                              input_channel="kiosk" if sender.startswith("kiosk") else "web"),
                  BotUttered(reply, timestamp=now - minutes * 60 + 1)]
        tracker = DialogueStateTracker.from_events(sender, events)
        with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright holds this thread's event loop
            pool.submit(asyncio.run, store.save(tracker)).result()
    store.engine.dispose()


def test_the_owner_reviews_with_the_keyboard(browser: Any, review_servers: Dict[str, Any], screenshot_dir: Path) -> None:
    assistant = review_servers["assistant"]
    assistant.send(GIBBERISH, "web-gibberish")  # a real turn: whatever the model makes of it, it is unsure
    assistant.send("i want to end my life", "web-crisis")  # never shown on the page
    plant(review_servers["log"].parent / "tracker.db")

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(assistant.rasa_url + "/staff/review")
    page.get_by_label("Name").fill(OWNER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Review what the assistant missed").wait_for()
    for text in (GIBBERISH, "nah ur alright", "aye go on then"):
        assert page.get_by_role("heading", name=f"Message: “{text}”").count() == 1, text
    assert "end my life" not in page.content()
    assert serious_violations(page) == [], "the review list"
    page.screenshot(path=str(screenshot_dir / "staff-review.png"), full_page=True)

    topic = page.get_by_role("article", name="Message: “aye go on then”").get_by_label("The right topic")
    topic.focus()
    page.keyboard.type("Yes")  # a closed select picks the option its name starts with
    assert topic.input_value() == "affirm"
    page.keyboard.press("Tab")  # "Words it missed" (closed), then the button
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.startswith("Save"), focused
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert page.get_by_role("heading", name="Message: “aye go on then”").count() == 0
    assert serious_violations(page) == [], "after saving"
    assert "- aye go on then" in review_servers["export"].read_text()
    context.close()
