"""Safety on every path, over HTTP: a condition mentioned in any kind of message leads the reply.

Each message mixes a health condition with a question of a different kind (a technique, the
price, how often, a greeting...), so whichever intent the model picks, the reply must start
with that condition's advice. Together the messages touch every intent the assistant answers.
"""
from __future__ import annotations

import pytest

from tests.servers import buttons, reply_text

pytestmark = pytest.mark.e2e

# (message, words the FIRST reply message must contain, absolute?)
CASES = [
    ("i have the flu, what is swedish massage", ["Fever", "no massage for now"], True),
    ("I'm on chemo, is deep tissue painful?", ["cancer treatment", "clearance", "firmer pressure"], False),
    ("how long should a session be? I had surgery last week", ["surgery", "no massage for now"], True),
    ("I'm 20 weeks pregnant, how often should I get a massage?", ["20 weeks pregnant", "prenatal"], False),
    ("I have a blood clot in my leg, what are the benefits of massage?", ["clot", "no massage for now"], True),
    ("hi! I have osteoporosis", ["osteoporosis", "Light pressure"], False),
    ("how much is a 60 minute massage? I'm on warfarin", ["blood-thinning", "bruis"], False),
    ("can I book for friday, I have a rash on my arm", ["rash", "no massage for now"], True),
    ("what should I wear? I have lymphoedema in my left arm", ["lymphoedema"], False),
    ("thanks! oh and I sprained my ankle yesterday", ["sprain"], False),
    ("are there any side effects? I have diabetes", ["diabetes"], False),
    ("who is massage good for? I have high blood pressure but it's controlled", ["high blood pressure"], False),
    ("what is the difference between swedish and deep tissue? I get migraines", ["migraine"], False),
    ("can I do self massage at home with arthritis in my knees", ["arthritis"], False),
    ("does insurance cover massage? I have a heart condition", ["heart", "no massage for now"], True),
    ("how do I find a good therapist, I have varicose veins", ["varicose veins"], False),
    ("what happens in a session? I feel dizzy when I stand up", ["dizziness", "slowly"], False),
    ("what can you help with? I'm having a flare up of my rheumatoid arthritis", ["flare"], False),
    ("are you a bot? I have a fever", ["Fever", "no massage for now"], True),
    ("can I talk to a person, I'm pregnant", ["pregnant", "prenatal"], False),
]


def _first_text(messages) -> str:
    return next((m.get("text") or "" for m in messages if m.get("text")), "")


@pytest.mark.parametrize("message, expected, absolute", CASES, ids=[c[0][:40] for c in CASES])
def test_the_condition_leads_whatever_the_question(assistant, message, expected, absolute) -> None:
    reply = assistant.conversation().say(message)
    first = _first_text(reply).lower()
    for words in expected:
        assert words.lower() in first, f"{message!r}:\n{reply_text(reply)}"
    if absolute:
        assert not any(b["payload"].startswith(("/book_session", "/ask_techniques")) for b in buttons(reply))
        assert "book online" not in reply_text(reply).lower()
        assert "what i would suggest" not in reply_text(reply).lower()


def test_a_red_flag_gets_only_the_urgent_message(assistant) -> None:
    reply = assistant.conversation().say("how much is a massage? I have crushing chest pain right now")
    assert len(reply) == 1 and "emergency" in reply_text(reply).lower()


def test_after_an_absolute_condition_no_later_reply_offers_a_booking(assistant) -> None:
    chat = assistant.conversation()
    chat.say("I have a blood clot in my calf")
    for message in ("what is deep tissue massage", "can I book a session", "which massage suits me?", "none of those"):
        reply = chat.say(message)
        assert not any(b["payload"].startswith(("/book_session", "/ask_techniques")) for b in buttons(reply)), message
        assert "what i would suggest" not in reply_text(reply).lower(), message


def test_a_technique_question_carries_an_earlier_condition(assistant) -> None:
    chat = assistant.conversation()
    chat.say("I'm 14 weeks pregnant and my lower back aches")
    reply = reply_text(chat.say("what is deep tissue massage?"))
    assert "pregnancy" in reply.lower() and "firmer pressure" in reply


def test_the_checklist_acknowledges_what_was_said(assistant) -> None:
    reply = assistant.conversation().say("I'm 14 weeks pregnant, which massage would suit me?")
    assert "14 weeks pregnant" in _first_text(reply)
    assert "Pregnancy" not in [b["title"] for b in buttons(reply)]


@pytest.mark.parametrize("message", [
    "I was diagnosed with Parkinson's",
    "I suffer from Crohn's",
    "I have ME",
])
def test_an_unknown_condition_gets_check_with_your_doctor(assistant, message) -> None:
    text = reply_text(assistant.conversation().say(message))
    assert "don't have specific guidance" in text and "doctor" in text and "therapist" in text
    assert "Sorry, I can't help with that" not in text and "virtual assistant" not in text


def test_a_senior_gets_gentle_work(assistant) -> None:
    chat = assistant.conversation()
    chat.say("I'm 72, my joints are stiff")
    chat.say("none of those")
    text = reply_text(chat.say("mostly my knees and hips"))
    assert "what i would suggest" in text.lower()
    assert "Deep tissue" not in text and "Trigger point" not in text


def test_a_race_is_a_one_time_session(assistant) -> None:
    chat = assistant.conversation()
    chat.say("I ran a half marathon on Sunday and my legs are sore, one session or several?")
    text = reply_text(chat.say("none of those"))
    assert "single session" in text


@pytest.mark.parametrize("message, expected", [
    ("is it normal to be sore the day after a massage?", "water"),
    ("what should I wear to my first massage?", "sheet"),
    ("do I need to shave my legs before?", "shav"),
    ("do you expect a tip?", "tip"),
    ("how do I cancel my appointment?", "notice"),
    ("where does your information come from?", "https://"),
])
def test_first_visit_aftercare_and_sources_are_answered(assistant, message, expected) -> None:
    text = reply_text(assistant.conversation().say(message))
    assert expected.lower() in text.lower(), text
