"""Front-desk answers from the spa's settings: the day asked about on the spa's clock, the spa's own
words for everything else, and an honest "I don't have that" where the spa left a field empty."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.knowledge import front_desk

SPA = {
    "name": "Harbour Light", "phone": "+1 555 0100", "email": "hello@example.com",
    "opening_hours": "Mon-Fri 09:00-19:00; Sat 10:00-16:00", "timezone": "America/New_York",
    "hours": "Monday to Friday 9 to 7, Saturday 10 to 4", "closed_dates": "2026-12-25, 2027-01-01",
    "holidays": "We close on Christmas Day and New Year's Day.", "address": "48 Water Street",
    "directions": "Above the bakery.", "parking": "Free parking behind the building.", "transit": "",
    "gift_cards": "Gift cards for any amount.", "booking_ahead": "Up to eight weeks ahead.",
    "booking_url": "https://example.com/book",
}
WEDNESDAY_NOON = datetime(2026, 12, 9, 12, 0)
WEDNESDAY_EVENING = datetime(2026, 12, 9, 20, 30)
SATURDAY_EVENING = datetime(2026, 12, 12, 18, 0)


def ask(intent: str, message: str, now: datetime = WEDNESDAY_NOON, spa: dict = SPA) -> front_desk.FrontDeskAnswer:
    found = front_desk.answer(intent, spa, message, now, lambda s: f"Call {s['phone']}.")
    assert found is not None
    return found


@pytest.mark.parametrize("message, now, expected", [
    ("are you open now?", WEDNESDAY_NOON, "Yes, we are open now, until 7 pm today."),
    ("r u open right now", WEDNESDAY_EVENING, "We are closed right now. We open again tomorrow at 9 am."),
    ("are you open at the moment", SATURDAY_EVENING, "We are closed right now. We open again on Monday at 9 am."),
    ("are you open on sundays?", WEDNESDAY_NOON, "On Sundays we are closed."),
    ("what are your hours on saturday", WEDNESDAY_NOON, "On Saturdays we are open 10 am to 4 pm."),
    ("r u open mondays", WEDNESDAY_NOON, "On Mondays we are open 9 am to 7 pm."),
    ("what time do u close today", WEDNESDAY_NOON, "Today (Wednesday) we are open 9 am to 7 pm."),
    ("open tomorrow?", datetime(2026, 12, 24, 10, 0), "Tomorrow (Friday) we are closed for the holiday."),
])
def test_hours_for_the_day_asked_about(message: str, now: datetime, expected: str) -> None:
    text = ask("ask_hours", message, now).text
    assert text.startswith(expected)
    assert text.endswith("Our opening hours: Monday to Friday, 9 am to 7 pm; Saturday, 10 am to 4 pm.")


def test_holidays_are_answered_with_the_spas_holiday_text() -> None:
    text = ask("ask_hours", "are you open over christmas?").text
    assert "We close on Christmas Day and New Year's Day." in text


def test_the_sun_is_not_sunday() -> None:
    assert ask("ask_hours", "what are your hours, I want to book before the sun goes down").text == (
        "Our opening hours: Monday to Friday, 9 am to 7 pm; Saturday, 10 am to 4 pm.")


def test_unreadable_opening_hours_fall_back_to_the_spas_hours_text() -> None:
    spa = {**SPA, "opening_hours": "whenever"}
    assert ask("ask_hours", "when are you open?", spa=spa).text == SPA["hours"]


def test_answers_are_the_spas_own_words_and_empty_fields_are_left_out() -> None:
    assert ask("ask_location", "where are you").text == "We are at 48 Water Street.\n\nAbove the bakery."
    assert ask("ask_parking", "is there parking").text == "Free parking behind the building."
    ahead = ask("ask_booking_ahead", "how far ahead can I book")
    assert ahead.text.endswith("You can book online at https://example.com/book, or here in the chat.")
    assert ahead.offer_booking


@pytest.mark.parametrize("intent", sorted(front_desk.FRONT_DESK_INTENTS - {"ask_hours", "ask_location", "ask_parking",
                                                                          "ask_gift_cards", "ask_booking_ahead"}))
def test_what_the_spa_has_not_filled_in_is_said_plainly_with_the_way_to_reach_the_team(intent: str) -> None:
    found = ask(intent, "anything")
    assert not found.known
    assert found.text == "I don't have that information here, sorry. Call +1 555 0100."


def test_every_front_desk_intent_is_answered_by_the_default_spa(kb_settings: dict) -> None:
    for intent in front_desk.FRONT_DESK_INTENTS:
        found = ask(intent, "hello", spa=kb_settings)
        assert found.known and "don't have" not in found.text, intent


def test_other_intents_are_not_front_desk_questions() -> None:
    assert front_desk.answer("ask_price", SPA, "how much", WEDNESDAY_NOON) is None


def test_the_spas_clock_follows_its_time_zone() -> None:
    from datetime import timezone

    assert front_desk.spa_now(SPA, datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)) == datetime(2026, 7, 1, 12, 0)
    assert front_desk.spa_now({**SPA, "timezone": "Mars/Olympus"}) is None


@pytest.fixture
def kb_settings() -> dict:
    import yaml

    from tests.conftest import KB_DIR

    return {k: str(v) for k, v in yaml.safe_load((KB_DIR / "spa.yml").read_text())["spa"].items()}
