"""Safety and advice over HTTP, through the real servers, turn by turn."""
from __future__ import annotations

import pytest

from tests.servers import buttons, reply_text

pytestmark = pytest.mark.e2e

TECHNIQUE_NAMES = ("Swedish massage", "Deep tissue massage", "Sports massage", "Trigger point therapy", "Reflexology")


def offers_booking(messages) -> bool:
    return any(b["payload"] == "/book_session" for b in buttons(messages)) or "book online" in reply_text(messages).lower()


def recommends(messages) -> bool:
    return "what i would suggest" in reply_text(messages).lower()


def test_a_description_is_screened_then_recommended(assistant) -> None:
    chat = assistant.conversation()
    first = chat.say("my lower back is stiff from sitting all day and I can't sleep")
    assert "safety check" in reply_text(first)
    assert "not medical advice" in reply_text(first)
    reply = chat.say("none of those")
    text = reply_text(reply)
    assert recommends(reply) and "lower back" in text
    assert "Session length" in text and "How often" in text


@pytest.mark.parametrize("description", [
    "I have a fever and my back hurts",
    "there's a rash on my back, can I get a massage",
    "I had a DVT last month, my legs ache",
    "had knee surgery two weeks ago, can a massage help the swelling?",
    "I have heart failure that isn't under control",
])
def test_after_an_absolute_contraindication_nothing_recommends_or_books(assistant, description) -> None:
    chat = assistant.conversation()
    turns = [chat.say(description), chat.say("ok, so what massage would you recommend for my shoulders?"),
             chat.say("I'd like to book a session please"), chat.say("yes")]
    assert "isn't safe" in reply_text(turns[0]) or "no massage for now" in reply_text(turns[0]).lower()
    for messages in turns:
        assert not recommends(messages), reply_text(messages)
        assert not offers_booking(messages), reply_text(messages)


@pytest.mark.parametrize("description, modification", [
    ("I'm 12 weeks pregnant and my lower back kills me", "certified prenatal"),
    ("I'm on chemo and my shoulders are tense", "clearance"),
    ("I have varicose veins and sore legs", "direct pressure"),
    ("my rheumatoid arthritis flares up and my hands are stiff", "gentle techniques"),
    ("my blood pressure is low and my neck is stiff", "slowly"),
])
def test_a_relative_contraindication_always_carries_its_modification(assistant, description, modification) -> None:
    chat = assistant.conversation()
    chat.say(description)
    reply = chat.say("none of the others")
    assert recommends(reply), reply_text(reply)
    assert modification in reply_text(reply).lower()
    booking = reply_text(chat.say("I'd like to book"))
    assert modification in booking.lower()


@pytest.mark.parametrize("message", [
    "I have chest pain, would a massage help?",
    "my calf is swollen and warm, can you massage it",
    "I fainted at work today and my back hurts",
    "what's the price? also I'm struggling to breathe",
    "worst headache of my life since this morning",
])
def test_a_red_flag_is_answered_first_and_only_with_urgent_advice(assistant, message) -> None:
    messages = assistant.conversation().say(message)
    assert len(messages) == 1
    assert "emergency services" in reply_text(messages)
    assert not buttons(messages)


def test_a_red_flag_mid_conversation_still_comes_first(assistant) -> None:
    chat = assistant.conversation()
    chat.say("my neck is stiff")
    messages = chat.say("also my chest hurts")
    assert len(messages) == 1 and "emergency services" in reply_text(messages)


def test_the_safety_question_uses_buttons_and_accepts_none(assistant) -> None:
    chat = assistant.conversation()
    first = chat.say("what massage is best for me? I want to relax")
    payloads = [b["payload"] for b in buttons(first)]
    assert "/deny" in payloads and any('"condition": "pregnancy"' in p for p in payloads)
    assert recommends(chat.say("/deny"))


def test_a_condition_chosen_by_button_stops_the_recommendation(assistant) -> None:
    chat = assistant.conversation()
    chat.say("I want to relax")
    messages = chat.say('/describe_problem{"condition": "blood_clot"}')
    assert "isn't safe" in reply_text(messages) and not recommends(messages)


def test_a_vague_request_gets_one_follow_up_question_at_a_time(assistant) -> None:
    chat = assistant.conversation()
    assert "safety check" in reply_text(chat.say("which massage suits me?"))
    goal = chat.say("none of those")
    assert "What would you most like" in reply_text(goal)
    assert any(b["title"] == "Not sure" for b in buttons(goal))
    reply = reply_text(chat.say('/describe_problem{"goal": "better_sleep"}'))
    assert "what I would suggest" in reply and "Swedish massage" in reply


def test_a_correction_changes_the_recommendation(assistant) -> None:
    chat = assistant.conversation()
    chat.say("my back is sore")
    assert "(back)" in reply_text(chat.say("no"))
    corrected = reply_text(chat.say("actually it's my neck, not my back"))
    assert "(neck)" in corrected and "(back)" not in corrected


def test_why_and_follow_up_questions_use_the_conversation(assistant) -> None:
    chat = assistant.conversation()
    chat.say("I'm a runner and my calves are tight")
    assert "Sports massage" in reply_text(chat.say("none"))
    why = reply_text(chat.say("why that one?"))
    assert "why I suggested" in why and "athletes" in why
    often = reply_text(chat.say("and how often should I go?"))
    assert often.startswith("For you, I'd suggest")
    gentler = reply_text(chat.say("something gentler please"))
    assert "Deep tissue" not in gentler and "what I would suggest" in gentler


def test_a_condition_mentioned_mid_conversation_changes_then_withdraws_the_advice(assistant) -> None:
    chat = assistant.conversation()
    chat.say("my shoulders are tense")
    assert "what I would suggest" in reply_text(chat.say("no"))
    changed = reply_text(chat.say("oh and I'm pregnant"))
    assert "certified prenatal" in changed and "Deep tissue" not in changed
    withdrawn = chat.say("I also have a fever")
    assert "isn't safe" in reply_text(withdrawn) and not offers_booking(withdrawn)
    assert "isn't safe" in reply_text(chat.say("can I book for tomorrow?"))


def test_time_available_shortens_the_session(assistant) -> None:
    chat = assistant.conversation()
    chat.say("my neck, shoulders and lower back are tight but I only have 30 minutes")
    assert "30 minutes fits the time you have" in reply_text(chat.say("none of these"))
