"""The reception kiosk in a real browser: touch-only flow, touch targets, idle warning and reset."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def kiosk(browser, servers, query: str = ""):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, has_touch=True)
    page = context.new_page()
    page.goto(f"{servers['assistant'].rasa_url}/webhooks/kiosk/screen{query}")
    return context, page


def test_touch_only_from_start_screen_to_a_recommendation(browser, servers, screenshot_dir) -> None:
    context, page = kiosk(browser, servers)
    page.screenshot(path=str(screenshot_dir / "kiosk-start.png"))
    page.get_by_role("button", name="Which massage suits me?").tap()
    page.get_by_role("button", name="None of these").tap()
    page.get_by_role("button", name="Relax and de-stress").tap()
    log = page.get_by_role("log")
    expect(log).to_contain_text("Here is what I would suggest")
    expect(log).to_contain_text("Swedish massage")
    page.screenshot(path=str(screenshot_dir / "kiosk-recommendation.png"))
    sender = page.evaluate("document.body.dataset.conversation")
    tracker = servers["assistant"].api("GET", f"/conversations/{sender}/tracker").json()
    channels = {e.get("input_channel") for e in tracker["events"] if e["event"] == "user"}
    assert channels == {"kiosk"}
    assert not any("email" in (e.get("text") or "").lower() and "?" in (e.get("text") or "")
                   for e in tracker["events"] if e["event"] == "bot")
    context.close()


def test_every_touch_target_is_at_least_44_px(browser, servers) -> None:
    context, page = kiosk(browser, servers)
    page.get_by_role("button", name="When is massage not safe?").tap()
    expect(page.get_by_role("log")).to_contain_text("Skip massage completely")
    for locator in page.locator("button:visible, input:visible").all():
        box = locator.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, locator.inner_text()
    context.close()


def test_typing_works_too(browser, servers) -> None:
    context, page = kiosk(browser, servers)
    page.get_by_label("Type a question").fill("is massage covered by insurance")
    page.get_by_role("button", name="Send").tap()
    expect(page.get_by_role("log")).to_contain_text("HSA")
    context.close()


def test_idle_warning_counts_down_and_resets_everything(browser, servers) -> None:
    context, page = kiosk(browser, servers, "?idle=2&warn=3")
    page.get_by_role("button", name="How often should I come?").tap()
    expect(page.get_by_role("log")).to_contain_text("once or twice a month")
    first = page.evaluate("document.body.dataset.conversation")
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_visible(timeout=5000)
    expect(warning).to_contain_text("cleared in")
    expect(warning).to_be_hidden(timeout=6000)
    expect(page.get_by_role("heading", name="Tap a topic to begin")).to_be_visible()
    expect(page.get_by_role("log")).to_be_hidden()
    assert page.locator("#k-log").inner_text() == ""
    assert page.evaluate("document.body.dataset.conversation") != first
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    assert user_turns(servers, first) == []  # deleted on the server too
    context.close()


def user_turns(servers, sender: str) -> list:
    events = servers["assistant"].api("GET", f"/conversations/{sender}/tracker").json()["events"]
    return [e for e in events if e.get("event") == "user"]


def test_start_again_deletes_the_conversation_on_the_server(browser, servers) -> None:
    context, page = kiosk(browser, servers)
    page.get_by_label("Type a question").fill("I have varicose veins, can I get a massage?")
    page.get_by_role("button", name="Send").tap()
    expect(page.locator(".k-bot").first).to_be_visible()  # the assistant answered: the turn is stored
    sender = page.evaluate("document.body.dataset.conversation")
    assert user_turns(servers, sender)
    page.get_by_role("button", name="Start again").tap()
    expect(page.get_by_role("heading", name="Tap a topic to begin")).to_be_visible()
    page.wait_for_timeout(500)
    assert user_turns(servers, sender) == []
    context.close()


def test_idle_warning_can_be_dismissed(browser, servers) -> None:
    context, page = kiosk(browser, servers, "?idle=2&warn=10")
    page.get_by_role("button", name="Benefits").tap()
    expect(page.get_by_role("log")).to_contain_text("cortisol")
    page.get_by_role("button", name="I'm still here").tap(timeout=6000)
    expect(page.get_by_role("alertdialog")).to_be_hidden()
    expect(page.get_by_role("log")).to_contain_text("cortisol")
    context.close()


def test_a_booking_at_the_kiosk_ends_with_a_code_for_reception(browser, servers, screenshot_dir) -> None:
    context, page = kiosk(browser, servers)
    page.get_by_role("button", name="Which massage suits me?").tap()
    page.get_by_role("button", name="None of these").tap()
    page.get_by_role("button", name="Relax and de-stress").tap()
    log = page.get_by_role("log")
    expect(log).to_contain_text("Here is what I would suggest")
    page.get_by_role("button", name="Book a session").last.tap()
    expect(log).to_contain_text("What day and time would suit you?")
    page.get_by_label("Type a question").fill("next tuesday at 3pm")
    page.get_by_role("button", name="Send").tap()
    expect(log).to_contain_text("Can we keep what you told me about your health")
    page.get_by_role("button", name="Yes").last.tap()
    expect(log).to_contain_text("Here is your booking request")
    page.get_by_role("button", name="Confirm").last.tap()
    expect(log).to_contain_text("Show this code to reception")
    page.screenshot(path=str(screenshot_dir / "kiosk-booking-code.png"))
    text = log.inner_text()
    assert "What name should" not in text and "phone number or email" not in text  # nothing typed on a shared screen
    context.close()


def test_a_crisis_reply_is_shown_then_cleared_by_the_idle_reset(browser, servers) -> None:
    context, page = kiosk(browser, servers, "?idle=2&warn=3")
    page.get_by_label("Type a question").fill("i keep thinking about killing myself")
    page.get_by_role("button", name="Send").tap()
    log = page.get_by_role("log")
    expect(log).to_contain_text("988")
    expect(log).to_contain_text("I'm really glad you told me")
    assert "safety check" not in log.inner_text() and "Book a session" not in log.inner_text()
    sender = page.evaluate("document.body.dataset.conversation")
    expect(page.get_by_role("alertdialog")).to_be_visible(timeout=5000)
    expect(page.get_by_role("alertdialog")).to_be_hidden(timeout=6000)
    expect(page.get_by_role("heading", name="Tap a topic to begin")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("988")
    expect(page.locator("body")).not_to_contain_text("I'm really glad you told me")
    assert page.locator("#k-log").inner_text() == ""
    page.wait_for_timeout(500)
    assert user_turns(servers, sender) == []  # deleted on the server too
    context.close()


def test_the_crisis_reply_on_the_kiosk_screen(browser, servers, screenshot_dir) -> None:
    context, page = kiosk(browser, servers, "")
    page.get_by_label("Type a question").fill("I don't want to be here anymore")
    page.get_by_role("button", name="Send").tap()
    log = page.get_by_role("log")
    expect(log).to_contain_text("988")
    assert page.get_by_role("button", name="Start again").is_visible()
    page.screenshot(path=str(screenshot_dir / "kiosk-crisis.png"))
    context.close()
