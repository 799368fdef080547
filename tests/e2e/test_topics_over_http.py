"""Over HTTP, through the real servers: each topic of the source document gets its facts."""
from __future__ import annotations

import pytest
import requests
import yaml

from tests.conftest import KB_DIR
from tests.servers import buttons, reply_text

pytestmark = pytest.mark.e2e

TOPICS = {t["intent"]: t for t in yaml.safe_load((KB_DIR / "topics.yml").read_text())["topics"]}
QUESTIONS = {
    "ask_what_is": "what is therapeutic massage?",
    "ask_vs_relaxation": "how is therapeutic massage different from a regular relaxation massage",
    "ask_benefits": "what are the benefits of massage",
    "ask_physical_benefits": "what are the physical benefits",
    "ask_mental_benefits": "what are the mental benefits of massage",
    "ask_techniques": "which massage techniques do you use",
    "ask_session": "what happens during a massage session",
    "ask_who_benefits": "who can benefit from massage therapy",
    "ask_frequency": "how often should i get a massage",
    "ask_contraindications": "when should i avoid getting a massage",
    "ask_find_therapist": "how do i find a qualified massage therapist",
    "ask_painful": "is therapeutic massage painful?",
    "ask_insurance": "is massage covered by insurance",
    "ask_vs_deep_tissue": "how is therapeutic massage different from deep tissue massage",
    "ask_self_massage": "can i do self massage at home",
    "ask_pregnancy": "is it safe to get a massage while pregnant",
    "ask_session_length": "how long does a massage session last",
    "ask_price": "how much does a massage cost",
    "ask_capabilities": "what can you do",
    "ask_aftercare": "what should I do after a massage, and is it normal to be sore?",
    "ask_first_visit": "it's my first massage, what should I know before I come?",
    "ask_source": "where does your information come from?",
    "ask_mental_health": "i have bad anxiety, can a massage help",
}


def test_every_topic_has_a_question_here() -> None:
    assert set(QUESTIONS) == set(TOPICS)


@pytest.mark.parametrize("intent", sorted(QUESTIONS))
def test_topic_reply_contains_its_facts(assistant, intent: str) -> None:
    reply = reply_text(assistant.conversation().say(QUESTIONS[intent])).lower()
    for fact in TOPICS[intent]["facts"]:
        assert fact.lower() in reply, f"{fact!r} missing from reply to {QUESTIONS[intent]!r}:\n{reply}"


@pytest.mark.parametrize("question, facts", [
    ("what is swedish massage", ["long, gliding strokes"]),
    ("tell me about reflexology", ["feet, hands or ears"]),
    ("how does massage reduce stress", ["cortisol", "serotonin"]),
    ("is massage ok if i have a blood clot", ["no massage for now"]),
    ("can seniors benefit from massage", ["seniors", "circulation"]),
])
def test_focused_questions_get_focused_answers(assistant, question, facts) -> None:
    reply = reply_text(assistant.conversation().say(question)).lower()
    for fact in facts:
        assert fact in reply


@pytest.mark.parametrize("message, expected", [
    ("hi", "massage assistant"),
    ("thanks!", "welcome"),
    ("bye", "bye"),
    ("are you a bot?", "virtual assistant"),
    ("can i talk to a real person", "+1 555 0100"),
])
def test_small_talk(assistant, message, expected) -> None:
    assert expected in reply_text(assistant.conversation().say(message)).lower()


def test_out_of_scope_says_what_it_can_do_and_offers_a_person(assistant) -> None:
    messages = assistant.conversation().say("can you recommend a good pizza place nearby?")
    reply = reply_text(messages)
    assert "massage" in reply and "+1 555 0100" in reply
    assert any(b["payload"] == "/request_human" for b in buttons(messages))


def test_model_parse_returns_normalised_entities(assistant) -> None:
    parsed = assistant.parse("no fever, but my shoulers are stiff from my desk job and i'd like deep tisue")
    entities = {(e["entity"], e["value"], e.get("role")) for e in parsed["entities"]}
    assert ("condition", "fever", "negated") in entities
    assert {("body_part", "shoulders", None), ("symptom", "stiffness", None),
            ("audience", "office_worker", None), ("technique", "deep_tissue", None)} <= entities
    assert not any(e["entity"] == "condition" and not e.get("role") for e in parsed["entities"])


def test_status_answers(assistant) -> None:
    assert requests.get(f"{assistant.rasa_url}/status", timeout=10).status_code == 401  # the API needs the token
    status = assistant.api("GET", "/status").json()
    assert status["model_file"]
    assert requests.get(f"{assistant.actions_url}/health", timeout=10).ok


@pytest.mark.parametrize("message", [
    "", "   ", "a" * 20000, "\x00\x01\x02\x03\x7f", "<img src=x onerror=alert(1)>",
    "Bonjour, je voudrais un massage", "🙂🙂🙂", '{"json": "injection"}', "/restart_now{\"x\":1}",
])
def test_bad_input_gets_a_polite_answer(assistant, message) -> None:
    chat = assistant.conversation()
    messages = chat.say(message)
    assert messages, "no reply"
    reply = reply_text(messages)
    assert "<img" not in reply
    assert reply_text(chat.say("what is therapeutic massage?"))
