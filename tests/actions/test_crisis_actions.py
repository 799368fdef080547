"""The crisis protocol in the actions: the crisis reply before everything, then a gentle answer
with the crisis line repeated once.

The `crisis` entity is made as the NLU component makes it (bot.nlu.crisis.find_crisis), and each
action runs on a tracker built with Tracker.from_dict, so this pins the actions, not the model.
"""
from __future__ import annotations

from typing import Any, Dict, List, Type

import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.advice import ActionAdvise, ActionExplainChoice
from actions.appointment_changes import ActionManageBooking
from actions.booking_form import ActionBookingSubmit
from actions.booking_questions import AskTime
from actions.handoff import ActionDefaultFallback, ActionHandoff
from actions.knowledge import ActionAnswerTopic
from actions.safety import CRISIS_GIVEN, CRISIS_REMINDED, ActionCrisis, ActionEmergency, ActionSmallTalk
from actions.short_answer import ActionShortAnswer
from actions.tracker_state import CRISIS_SUPPORT
from bot.advice import crisis as protocol
from bot.knowledge import queries
from bot.nlu.crisis import find_crisis
from tests.actions.conftest import Conversation, payloads, texts

SUICIDE_TEXT = "i keep thinking about killing myself"
ABUSE_TEXT = "my husband hits me and my back hurts"
DANGER_TEXT = "i took a whole bottle of paracetamol an hour ago"
REMINDER_START = "Whenever you need it"
OFFER_PAYLOADS = ("/book_session", "/ask_techniques{")


def expected_reply(tier: str, other: bool = False) -> protocol.CrisisReply:
    spa = queries.settings("spa")
    return protocol.crisis_reply(protocol.Crisis(tier, other), queries.crisis_resource(spa["country"]),
                                 queries.settings("crisis_messages"), spa)


def say_crisis(conversation: Conversation, text: str, action: Action, intent: str = "report_crisis",
               ) -> List[Dict[str, Any]]:
    """The user's message with the entities the pipeline would give it (the crisis one included)."""
    signal = find_crisis(text)
    assert signal is not None, text
    entities = [m.as_entity("KnowledgeBaseEntityExtractor") for m in conversation.matcher.find(text)]
    entities.append(signal.as_entity("CrisisIntentOverride"))
    conversation.events.append({
        "event": "user", "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": 1.0}, "entities": entities, "text": text},
    })
    return run(conversation, action)


def run(conversation: Conversation, action: Action) -> List[Dict[str, Any]]:
    """The action on the current tracker, its events applied (as Conversation.say does)."""
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, conversation.tracker(), {})
    for event in events:
        if event.get("event") == "slot":
            conversation.slots[event["name"]] = event["value"]
        conversation.events.append(event)
    for message in dispatcher.messages:
        conversation.events.append({"event": "bot", "text": message.get("text")})
    return dispatcher.messages


def slots_set_this_turn(conversation: Conversation, name: str) -> List[Any]:
    """The values the last action gave slot `name` (the events after the latest user message)."""
    last_user = max(i for i, e in enumerate(conversation.events) if e["event"] == "user")
    return [e["value"] for e in conversation.events[last_user:] if e["event"] == "slot" and e["name"] == name]


def assert_only_the_crisis_reply(messages: List[Dict[str, Any]], reply: protocol.CrisisReply) -> None:
    assert len(messages) == 1, texts(messages)
    assert messages[0]["text"] == reply.text
    assert list(messages[0].get("buttons") or []) == list(reply.buttons)


@pytest.mark.parametrize("action, intent", [
    (ActionCrisis, "report_crisis"),
    (ActionAnswerTopic, "ask_techniques"),
    (ActionSmallTalk, "greet"),
    (ActionEmergency, "report_emergency"),
    (ActionAdvise, "describe_problem"),
    (ActionShortAnswer, "nlu_fallback"),
    (ActionExplainChoice, "ask_why"),
    (ActionHandoff, "request_human"),
    (ActionDefaultFallback, "out_of_scope"),
    (ActionManageBooking, "change_booking"),
    (ActionBookingSubmit, "book_session"),
    (AskTime, "book_session"),
], ids=lambda value: value if isinstance(value, str) else value().name())
def test_every_action_says_only_the_crisis_reply(conversation, action: Type[Action], intent: str) -> None:
    messages = say_crisis(conversation, SUICIDE_TEXT, action(), intent=intent)
    assert_only_the_crisis_reply(messages, expected_reply(protocol.SUICIDE))
    text = texts(messages)
    assert "988" in text and "massage" not in text.replace(queries.settings("spa")["name"], "")
    assert "Just so you know" not in text and "safety check" not in text
    assert conversation.slots[CRISIS_SUPPORT] == CRISIS_GIVEN


def test_the_crisis_comes_before_a_condition_and_a_recommendation(conversation) -> None:
    conversation.say("describe_problem", "my shoulders are tight from my desk job", ActionAdvise())
    assert "what I would suggest" in texts(conversation.say("deny", "none of those", ActionShortAnswer()))
    messages = say_crisis(conversation, "I'm pregnant and i keep thinking about killing myself", ActionAdvise(),
                          intent="describe_problem")
    assert_only_the_crisis_reply(messages, expected_reply(protocol.SUICIDE))


@pytest.mark.parametrize("text, tier, other, numbers", [
    (SUICIDE_TEXT, protocol.SUICIDE, False, ["988"]),
    (DANGER_TEXT, protocol.DANGER_NOW, False, ["911", "988"]),
    (ABUSE_TEXT, protocol.ABUSE, False, ["1-800-799-7233"]),
    ("my sister said she wants to kill herself", protocol.SUICIDE, True, ["988"]),
    ("my friend just texted me she took a bunch of pills", protocol.DANGER_NOW, True, ["911", "988"]),
    ("my sister's husband beats her, she showed me the bruises", protocol.ABUSE, True, ["1-800-799-7233"]),
])
def test_each_tier_gets_its_own_reply(conversation, text, tier, other, numbers) -> None:
    messages = say_crisis(conversation, text, ActionCrisis())
    reply = expected_reply(tier, other)
    assert_only_the_crisis_reply(messages, reply)
    for number in numbers:
        assert number in reply.text
    if tier == protocol.DANGER_NOW:
        assert reply.text.index("911") < reply.text.index("988")
    titles = [b["title"] for b in messages[0].get("buttons") or []]
    assert titles == (["Delete this conversation"] if tier == protocol.ABUSE and not other else [])


def test_a_report_crisis_payload_without_an_entity_gets_the_suicide_reply(conversation) -> None:
    messages = conversation.say("report_crisis", "/report_crisis", ActionCrisis())
    assert texts(messages) == expected_reply(protocol.SUICIDE).text
    assert "988" in texts(messages) and not payloads(messages)
    assert conversation.slots[CRISIS_SUPPORT] == CRISIS_GIVEN


def test_the_next_answer_ends_with_the_reminder_once(conversation) -> None:
    say_crisis(conversation, SUICIDE_TEXT, ActionCrisis())
    first = conversation.say("ask_techniques", "what is swedish massage", ActionAnswerTopic())
    assert "Swedish massage" in texts(first) and "long, gliding strokes" in texts(first)
    assert first[-1]["text"].startswith(REMINDER_START) and "988" in first[-1]["text"]
    assert sum(REMINDER_START in (m.get("text") or "") for m in first) == 1
    assert slots_set_this_turn(conversation, CRISIS_SUPPORT) == [CRISIS_REMINDED]
    second = conversation.say("ask_frequency", "how often should I get a massage", ActionAnswerTopic())
    assert "once or twice a month" in texts(second)
    assert REMINDER_START not in texts(second) and "988" not in texts(second)
    assert slots_set_this_turn(conversation, CRISIS_SUPPORT) == []


def test_with_the_reminder_given_small_talk_has_no_reminder(conversation) -> None:
    conversation.slots[CRISIS_SUPPORT] = CRISIS_REMINDED
    messages = conversation.say("thanks", "thank you", ActionSmallTalk())
    assert texts(messages) and REMINDER_START not in texts(messages)
    assert slots_set_this_turn(conversation, CRISIS_SUPPORT) == []


def test_with_the_crisis_given_small_talk_gets_the_reminder(conversation) -> None:
    conversation.slots[CRISIS_SUPPORT] = CRISIS_GIVEN
    messages = conversation.say("thanks", "thank you", ActionSmallTalk())
    assert "welcome" in messages[0]["text"].lower()
    assert messages[-1]["text"].startswith(REMINDER_START) and "988" in messages[-1]["text"]
    assert conversation.slots[CRISIS_SUPPORT] == CRISIS_REMINDED


def test_a_new_crisis_after_the_reminder_starts_again(conversation) -> None:
    conversation.slots[CRISIS_SUPPORT] = CRISIS_REMINDED
    messages = say_crisis(conversation, ABUSE_TEXT, ActionCrisis())
    assert_only_the_crisis_reply(messages, expected_reply(protocol.ABUSE))
    assert conversation.slots[CRISIS_SUPPORT] == CRISIS_GIVEN
    after = conversation.say("greet", "hi", ActionSmallTalk())
    assert after[-1]["text"].startswith(REMINDER_START)


@pytest.mark.parametrize("support", [CRISIS_GIVEN, CRISIS_REMINDED])
def test_after_a_crisis_a_recommendation_comes_without_offers(conversation, support) -> None:
    conversation.say("describe_problem", "my shoulders are tight from my desk job", ActionAdvise())
    conversation.slots[CRISIS_SUPPORT] = support
    messages = conversation.say("deny", "none of those", ActionShortAnswer())
    text = texts(messages)
    assert "what I would suggest" in text
    assert not any(p.startswith(OFFER_PAYLOADS) for p in payloads(messages)), payloads(messages)
    assert "help you book" not in text and "book online" not in text.lower()
    assert (REMINDER_START in text) == (support == CRISIS_GIVEN)


def test_without_a_crisis_the_same_recommendation_offers_a_booking(conversation) -> None:
    conversation.say("describe_problem", "my shoulders are tight from my desk job", ActionAdvise())
    messages = conversation.say("deny", "none of those", ActionShortAnswer())
    assert "/book_session" in payloads(messages) and REMINDER_START not in texts(messages)


def test_after_a_crisis_asking_to_book_is_answered_in_full(conversation) -> None:
    conversation.say("describe_problem", "my shoulders are tight from my desk job", ActionAdvise())
    conversation.say("deny", "none of those", ActionShortAnswer())
    conversation.slots[CRISIS_SUPPORT] = CRISIS_REMINDED
    asked = texts(conversation.say("book_session", "I'd like to book a session", ActionAdvise()))
    assert "booking request" in asked and "book online" in asked
    assert conversation.slots.get("booking_ready") is True
    assert REMINDER_START not in asked


def test_no_crisis_entity_means_no_crisis_reply(conversation) -> None:
    messages = conversation.say("describe_problem", "this knot is killing me", ActionAdvise())
    assert "988" not in texts(messages) and "911" not in texts(messages)
    assert CRISIS_SUPPORT not in conversation.slots
