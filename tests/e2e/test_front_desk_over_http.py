"""Over HTTP, through the real servers: the questions a spa's front desk answers all day get the
spa's own answers (data/kb/spa.yml), never the fallback or "I'm a virtual assistant"."""
from __future__ import annotations

import pytest
import yaml

from bot.knowledge.front_desk import SEXUAL_SERVICES_REPLY
from tests.conftest import KB_DIR
from tests.servers import buttons, reply_text

pytestmark = pytest.mark.e2e

SPA = {k: " ".join(str(v).split()) for k, v in yaml.safe_load((KB_DIR / "spa.yml").read_text())["spa"].items()}
NOT_ANSWERS = ("Sorry, I can't help with that", "virtual assistant", "I don't have an answer")


@pytest.mark.parametrize("question, setting", [
    ("where are you located?", "directions"),
    ("is there parking?", "parking"),
    ("can i get there by bus", "transit"),
    ("is the studio wheelchair accessible", "accessibility"),
    ("do you have gift cards?", "gift_cards"),
    ("do you sell packages or memberships", "packages"),
    ("can my husband and I get a couples massage?", "couples"),
    ("do you take apple pay", "payment"),
    ("can my 15 year old daughter get a massage", "age_policy"),
    ("what happens if I'm running late", "late_arrival"),
    ("what should i bring to my appointment", "what_to_bring"),
    ("do you have showers and a changing room", "facilities"),
    ("do you take walk-ins", "walk_ins"),
    ("how far in advance should I book", "booking_ahead"),
    ("do you have a waiting list", "waiting_list"),
])
def test_front_desk_questions_get_the_spas_answer(assistant, question: str, setting: str) -> None:
    reply = " ".join(reply_text(assistant.conversation().say(question)).split())
    assert SPA[setting] in reply, f"{question!r} got:\n{reply}"
    assert not any(bad in reply for bad in NOT_ANSWERS)


@pytest.mark.parametrize("question, expected", [
    ("are you open on sundays?", "On Sundays we are closed."),
    ("what are your hours on saturday", "On Saturdays we are open 9 am to 7 pm."),
    ("what time do you open", "Our opening hours: Monday to Saturday, 9 am to 7 pm."),
])
def test_opening_hours_for_the_day_asked(assistant, question: str, expected: str) -> None:
    messages = assistant.conversation().say(question)
    assert expected in reply_text(messages)
    assert "Book a session" in [b["title"] for b in buttons(messages)]


def test_a_request_for_sexual_services_gets_one_firm_sentence_and_nothing_else(assistant) -> None:
    messages = assistant.conversation().say("do you offer happy endings")
    assert [m.get("text") for m in messages] == [SEXUAL_SERVICES_REPLY]
    assert not buttons(messages)


@pytest.mark.parametrize("question", [
    "I'd like a 60 minute Swedish massage, what's the earliest you can fit me in?",
    "can I come tomorrow at 4?",
])
def test_booking_in_ordinary_words_reaches_the_booking_flow(assistant, question: str) -> None:
    """The booking flow starts with its safety check, as every booking does."""
    reply = reply_text(assistant.conversation().say(question))
    assert not any(bad in reply for bad in NOT_ANSWERS), reply
    assert "Before I suggest anything, a quick safety check." in reply, reply


def test_rescheduling_is_not_answered_with_first_visit_etiquette(assistant) -> None:
    reply = reply_text(assistant.conversation().say("I need to reschedule my appointment"))
    assert not any(bad in reply for bad in NOT_ANSWERS), reply
    assert "draping" not in reply.lower() and SPA["phone"] in reply, reply
