"""The website widget in a real browser: open, ask, quick replies, safety of markup, reload, errors."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser, servers) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    page = context.new_page()
    page.goto(f"{servers['assistant'].rasa_url}/webhooks/web/demo")
    yield page
    context.close()


def open_widget(page: Page) -> None:
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_role("dialog", name="Ask us about massage")).to_be_visible()


def ask(page: Page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()


def test_open_ask_and_use_a_quick_reply(page: Page, screenshot_dir) -> None:
    open_widget(page)
    log = page.get_by_role("log")
    expect(log).to_contain_text("How are you feeling today?")
    ask(page, "my lower back is stiff from sitting all day")
    expect(log).to_contain_text("quick safety check")
    page.get_by_role("button", name="None of these").click()
    expect(log).to_contain_text("Here is what I would suggest")
    expect(log.locator("strong", has_text="Session length:")).to_be_visible()
    expect(page.get_by_role("button", name="None of these")).to_be_disabled()
    page.screenshot(path=str(screenshot_dir / "widget-desktop.png"))


def test_booking_offers_free_times_with_their_therapists_as_buttons(page: Page, screenshot_dir) -> None:
    open_widget(page)
    log = page.get_by_role("log")
    ask(page, "I'd like a 60 minute Swedish massage, what's the earliest you can fit me in?")
    page.get_by_role("button", name="None of these").click()
    expect(log).to_contain_text("Here are the next free times for Swedish massage, 60 minutes")
    times = page.get_by_role("button", name=re.compile(r" at .* with (Maria|Sam|Priya|Tom)$"))
    expect(times).to_have_count(5)
    page.screenshot(path=str(screenshot_dir / "widget-free-times.png"))
    chosen = times.first.inner_text()
    times.first.click()
    expect(log).to_contain_text(chosen)
    expect(log).to_contain_text("What name should we put the booking under?")


def test_markup_typed_by_a_user_is_shown_as_text(page: Page) -> None:
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_widget(page)
    attack = "<img src=x onerror=alert(1)>"
    ask(page, attack)
    expect(page.locator(".mc-user").last).to_have_text(re.compile(re.escape(attack)))
    expect(page.get_by_role("log").locator(".mc-bot").nth(1)).to_be_visible()
    assert page.locator(".mc-root img").count() == 0
    assert dialogs == []


def test_the_conversation_survives_a_reload_and_can_be_restarted(page: Page) -> None:
    open_widget(page)
    ask(page, "how often should i get a massage")
    expect(page.get_by_role("log")).to_contain_text("once or twice a month")
    page.reload()
    expect(page.get_by_role("log")).to_contain_text("once or twice a month")
    expect(page.get_by_role("log")).to_contain_text("how often should i get a massage")
    page.get_by_role("button", name="Start over").click()
    expect(page.get_by_role("log")).not_to_contain_text("once or twice a month")
    expect(page.get_by_role("log")).to_contain_text("How are you feeling today?")


def test_unreachable_server_shows_an_error_and_retry_works(page: Page) -> None:
    open_widget(page)
    page.route("**/webhooks/web/webhook", lambda route: route.abort())
    ask(page, "what is therapeutic massage?")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("can't reach the assistant")
    page.unroute("**/webhooks/web/webhook")
    alert.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("log")).to_contain_text("hands-on bodywork")


def test_an_answer_lost_on_the_way_back_is_not_handled_twice_on_retry(page: Page, servers) -> None:
    """The server handled the message but the answer never reached the page: "Try again" sends
    the same message id, gets the stored answer, and the conversation holds the message once."""
    assistant = servers["assistant"]
    open_widget(page)
    sent = []

    def lose_the_answer(route) -> None:
        sent.append(json.loads(route.request.post_data))
        route.fetch()  # the server handles it...
        route.abort()  # ...and the answer is lost

    page.route("**/webhooks/web/webhook", lose_the_answer)
    ask(page, "how long is a session")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("can't reach the assistant")
    page.unroute("**/webhooks/web/webhook")
    with page.expect_request("**/webhooks/web/webhook") as retried:
        alert.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("log")).to_contain_text("30 minutes")
    assert json.loads(retried.value.post_data)["message_id"] == sent[0]["message_id"]
    events = assistant.api("GET", f"/conversations/{sent[0]['sender']}/tracker").json()["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["how long is a session"]


def test_keyboard_only_and_accessible_names(page: Page) -> None:
    page.keyboard.press("Tab")
    launcher = page.get_by_role("button", name="Chat with us")
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your message")).to_be_focused()
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    expect(page.get_by_role("log")).to_contain_text("massage assistant")
    page.keyboard.press("Escape")
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_usable_at_phone_width(browser, servers, screenshot_dir) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{servers['assistant'].rasa_url}/webhooks/web/demo")
    page.get_by_role("button", name="Chat with us").tap()
    ask(page, "what are the benefits of massage")
    expect(page.get_by_role("log")).to_contain_text("cortisol")
    box = page.get_by_role("dialog").bounding_box()
    assert box["width"] <= 390 and box["x"] >= 0
    page.screenshot(path=str(screenshot_dir / "widget-phone.png"))
    context.close()


def user_turns(servers, sender: str) -> list:
    events = servers["assistant"].api("GET", f"/conversations/{sender}/tracker").json()["events"]
    return [e for e in events if e.get("event") == "user"]


def test_delete_my_conversation_from_the_menu_deletes_it_on_the_server(page: Page, servers) -> None:
    open_widget(page)
    ask(page, "I'm pregnant and my lower back aches")
    log = page.get_by_role("log")
    expect(log).to_contain_text("prenatal")
    storage_key = page.evaluate("Object.keys(sessionStorage)[0]")
    sender = page.evaluate(f"JSON.parse(sessionStorage.getItem({storage_key!r})).sender")
    assert user_turns(servers, sender)
    menu = page.get_by_role("button", name="More options")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    page.get_by_role("menuitem", name="Delete my conversation").click()
    expect(log).to_contain_text("Do you want me to delete our conversation?")
    page.get_by_role("button", name="Yes, delete it").click()
    expect(log).to_contain_text("deleted our conversation")
    expect(log).not_to_contain_text("prenatal")
    assert page.evaluate(f"JSON.parse(sessionStorage.getItem({storage_key!r})).sender") != sender
    assert "pregnant" not in page.evaluate(f"sessionStorage.getItem({storage_key!r})")
    assert user_turns(servers, sender) == []


def test_a_refusal_with_a_reason_is_shown_as_the_assistants_reply(page: Page) -> None:
    open_widget(page)
    page.route("**/webhooks/web/webhook", lambda route: route.fulfill(
        status=429, content_type="application/json",
        body='{"error": "rate_limited", "message": "You\'re sending messages faster than I can read them."}'))
    ask(page, "hello")
    expect(page.get_by_role("log")).to_contain_text("faster than I can read them")
    expect(page.get_by_role("alert")).to_have_count(0)
