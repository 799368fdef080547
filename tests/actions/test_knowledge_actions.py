"""action_answer_topic answers from the knowledge base, narrowed by the entities mentioned."""
from __future__ import annotations

import pytest
import yaml

from actions.knowledge import ActionAnswerTopic
from tests.actions.conftest import texts
from tests.conftest import KB_DIR

TOPICS = yaml.safe_load((KB_DIR / "topics.yml").read_text())["topics"]


@pytest.mark.parametrize("topic", TOPICS, ids=[t["intent"] for t in TOPICS])
def test_every_topic_is_answered_with_its_facts(conversation, topic) -> None:
    reply = texts(conversation.say(topic["intent"], "tell me", ActionAnswerTopic())).lower()
    for fact in topic["facts"]:
        assert fact.lower() in reply


@pytest.mark.parametrize("text, expected", [
    ("what is swedish massage", ["long, gliding strokes", "light to medium"]),
    ("how hard is deep tissue", ["sustained pressure", "firm"]),
    ("who is sports massage for", ["athletes", "stretching"]),
    ("tell me about trigger point therapy", ["knots", "referred pain"]),
    ("what's reflexology", ["feet, hands or ears"]),
])
def test_a_named_technique_gets_its_own_answer(conversation, text, expected) -> None:
    reply = texts(conversation.say("ask_techniques", text, ActionAnswerTopic())).lower()
    for fact in expected:
        assert fact.lower() in reply


@pytest.mark.parametrize("text, expected", [
    ("how does massage help with stress", ["cortisol", "serotonin", "dopamine"]),
    ("can it help me sleep better", ["parasympathetic", "circadian"]),
    ("how does it relieve pain", ["endorphins", "inflammation"]),
    ("does it help circulation", ["effleurage", "lymph"]),
    ("will it make me more flexible", ["range of motion"]),
])
def test_a_named_benefit_explains_how_it_works(conversation, text, expected) -> None:
    reply = texts(conversation.say("ask_benefits", text, ActionAnswerTopic())).lower()
    for fact in expected:
        assert fact in reply


def test_a_named_audience_gets_the_techniques_that_fit(conversation) -> None:
    reply = texts(conversation.say("ask_who_benefits", "is it good for office workers", ActionAnswerTopic()))
    assert "tech neck" in reply and "Trigger point therapy" in reply


@pytest.mark.parametrize("text, expected", [
    ("can i get a massage with a fever", ["no massage for now", "infection"]),
    ("is it ok with varicose veins", ["possible, with care", "direct pressure"]),
    ("massage while on chemo?", ["clearance"]),
    ("I have a blood clot, is massage ok", ["no massage for now", "doctor"]),
])
def test_a_named_condition_gets_its_rule(conversation, text, expected) -> None:
    messages = conversation.say("ask_contraindications", text, ActionAnswerTopic())
    reply = texts(messages).lower()
    for fact in expected:
        assert fact in reply
    assert "not medical advice" in reply


def test_the_health_notice_appears_once(conversation) -> None:
    first = texts(conversation.say("ask_pregnancy", "is it safe when pregnant", ActionAnswerTopic()))
    second = texts(conversation.say("ask_contraindications", "when should i avoid massage", ActionAnswerTopic()))
    assert "not medical advice" in first and "not medical advice" not in second


def test_price_answers_offer_the_spa_contact(conversation) -> None:
    reply = texts(conversation.say("ask_price", "how much is it", ActionAnswerTopic()))
    assert "+1 555 0100" in reply
