"""Reaching a person, and the fallback for anything the assistant can't help with."""
from __future__ import annotations

from actions.handoff import ActionDefaultFallback, ActionHandoff
from actions.safety import ActionEmergency
from tests.actions.conftest import payloads, texts


def test_handoff_gives_the_contact_details_from_the_knowledge_base(conversation) -> None:
    reply = texts(conversation.say("request_human", "can i talk to a person", ActionHandoff()))
    assert "+1 555 0100" in reply and "hello@harbourlight.example" in reply


def test_fallback_says_what_the_assistant_can_do_and_how_to_reach_a_person(conversation) -> None:
    messages = conversation.say("out_of_scope", "what's the weather like", ActionDefaultFallback())
    reply = texts(messages)
    assert "benefits" in reply and "+1 555 0100" in reply
    assert "/request_human" in payloads(messages)


def test_emergency_reply_is_urgent_and_alone(conversation) -> None:
    messages = conversation.say("report_emergency", "I have chest pain", ActionEmergency())
    assert len(messages) == 1
    assert "emergency services" in texts(messages) and not payloads(messages)
