"""The crisis layer's pure parts: finding a crisis, choosing and wording the reply, the KB checks."""
from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.advice import crisis as protocol
from bot.knowledge.loader import KnowledgeBaseError, read_knowledge_base
from bot.nlu.crisis import find_crisis
from bot.nlu.crisis_override import CrisisIntentOverride
from tests.conftest import KB_DIR


@pytest.mark.parametrize("text, tier, about", [
    ("I want to end my life", "suicide", "self"),
    ("Im so sucidal", "suicide", "self"),
    ("i wnat to kil myself", "suicide", "self"),
    ("I took 30 pills an hour ago", "danger_now", "self"),
    ("I want to kill myself, I have the pills ready for tonight", "danger_now", "self"),
    ("he is hitting me right now", "danger_now", "self"),
    ("my husband hits me and my back hurts", "abuse", "self"),
    ("my sister said she wants to kill herself", "suicide", "other"),
    ("my daughter has self harm marks on her arms", "suicide", "other"),
])
def test_a_crisis_is_found_with_its_tier_and_whose_it_is(text, tier, about) -> None:
    signal = find_crisis(text)
    assert signal is not None and (signal.tier, signal.about) == (tier, about)


@pytest.mark.parametrize("text", [
    "this knot is killing me", "I'm dying for a massage", "I'm dead tired", "I could kill for a hot stone massage",
    "my feet are murdering me", "I'm not suicidal, just stressed", "i cut myself shaving my legs",
    "i hurt myself at the gym", "my dad beat me at golf", "my wife pushed me to book a massage",
    "suicide sprints wrecked my calves", "jumping from side to side hurt my ankle", "i started cutting down on sugar",
])
def test_ordinary_talk_is_not(text) -> None:
    assert find_crisis(text) is None


def test_the_span_points_at_the_words_in_the_original_message() -> None:
    text = "Honestly?? I DON'T want to be here anymore"
    signal = find_crisis(text)
    assert text[signal.start:signal.end] == signal.text and signal.text.startswith("DON'T")


def test_the_nlu_component_sets_the_intent_and_the_entity_and_leaves_ordinary_talk_alone() -> None:
    component = CrisisIntentOverride()
    crisis = Message(data={TEXT: "my sister said she wants to kill herself", INTENT: {"name": "describe_problem"}})
    ordinary = Message(data={TEXT: "this knot is killing me", INTENT: {"name": "describe_problem"}})
    payload = Message(data={TEXT: "/greet", INTENT: {"name": "greet"}})
    component.process([crisis, ordinary, payload])
    assert crisis.get(INTENT) == {"name": "report_crisis", "confidence": 1.0}
    assert [(e["entity"], e["value"], e.get("role")) for e in crisis.get(ENTITIES)] == [("crisis", "suicide", "other")]
    assert ordinary.get(INTENT)["name"] == "describe_problem" and payload.get(INTENT)["name"] == "greet"


def test_the_most_urgent_crisis_and_the_persons_own_come_first() -> None:
    entities = [{"entity": "crisis", "value": "abuse"}, {"entity": "crisis", "value": "danger_now", "role": "other"},
                {"entity": "crisis", "value": "danger_now"}, {"entity": "condition", "value": "fever"}]
    assert protocol.crisis_in(entities) == protocol.Crisis("danger_now", False)
    assert protocol.crisis_in([{"entity": "condition", "value": "fever"}]) is None


RESOURCES = SimpleNamespace(emergency="911", crisis_line="the Lifeline: call or text 988.",
                            abuse_line="the Hotline: call 1-800-799-7233.")
MESSAGES = {"suicide": "Reach {crisis_line}. Or call {emergency}. Or talk to {spa_contact}.",
            "danger_now": "Call {emergency} now. Then {crisis_line}.", "abuse": "Call {emergency}. {abuse_line}.",
            "suicide_other": "{crisis_line}", "danger_now_other": "{emergency}", "abuse_other": "{abuse_line}",
            "reminder": "Whenever you need it, {crisis_line}."}
SPA = {"name": "Harbour Light", "phone": "+1 555 0100", "hours": "9 to 7"}


def test_the_reply_is_filled_in_from_the_knowledge_base() -> None:
    reply = protocol.crisis_reply(protocol.Crisis("suicide"), RESOURCES, MESSAGES, SPA)
    assert reply.text == ("Reach the Lifeline: call or text 988. Or call 911. "
                          "Or talk to the team at Harbour Light: call +1 555 0100 (9 to 7).")
    assert reply.buttons == ()
    abuse = protocol.crisis_reply(protocol.Crisis("abuse"), RESOURCES, MESSAGES, SPA)
    assert abuse.buttons == ({"title": "Delete this conversation", "payload": "/delete_conversation"},)
    assert protocol.crisis_reply(protocol.Crisis("abuse", True), RESOURCES, MESSAGES, SPA).buttons == ()
    assert protocol.reminder(RESOURCES, MESSAGES, SPA) == "Whenever you need it, the Lifeline: call or text 988."


def test_afterwards_only_asking_for_a_booking_brings_offers_back() -> None:
    assert not protocol.stays_gentle("book_session") and not protocol.stays_gentle("change_booking")
    assert protocol.stays_gentle("describe_problem") and protocol.stays_gentle("ask_techniques")


def _kb_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(KB_DIR, folder)
    return folder


def test_a_country_without_crisis_resources_is_refused(tmp_path: Path) -> None:
    folder = _kb_copy(tmp_path)
    spa = folder / "spa.yml"
    spa.write_text(spa.read_text().replace("country: US", "country: NZ"))
    with pytest.raises(KnowledgeBaseError, match="country 'NZ' has no crisis resources"):
        read_knowledge_base(folder)


def test_a_crisis_message_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    folder = _kb_copy(tmp_path)
    crisis = folder / "crisis.yml"
    crisis.write_text(crisis.read_text().replace("{emergency} now, or ask", "{emergency_number} now, or ask"))
    with pytest.raises(KnowledgeBaseError, match="unknown placeholder"):
        read_knowledge_base(folder)


def test_every_country_has_its_lines_and_their_sources() -> None:
    kb = read_knowledge_base(KB_DIR)
    countries = {c["id"]: c for c in kb.entries["crisis"]}
    assert {"US", "CA", "GB", "IE", "AU"} <= set(countries)
    for country in countries.values():
        assert country["emergency"] and country["crisis_line"] and country["abuse_line"] and country["sources"]
