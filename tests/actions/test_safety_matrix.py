"""Safety on every path: every condition in the knowledge base x every intent the rules answer.

Whatever the intent classifier decided the message was (a question about a technique, the price, a greeting...),
a condition the person reports about themselves leads the reply; after an absolute one, no reply
offers a technique or a booking. The intent is given, so this pins the actions, not the model.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Type

import pytest
import yaml
from rasa_sdk import Action

from actions.advice import ActionAdvise, ActionExplainChoice
from actions.appointment_changes import ActionManageBooking
from actions.handoff import ActionDefaultFallback, ActionHandoff
from actions.knowledge import ActionAnswerTopic
from actions.knowledge import ActionDeclineSexualServices
from actions.privacy import ActionForgetConversation
from actions.safety import ActionCrisis, ActionEmergency, ActionSmallTalk, SafeAction
from actions.short_answer import ActionShortAnswer
from bot.booking.form_logic import FORM
from bot.knowledge.loader import read_knowledge_base
from tests.actions.conftest import BookingChat, Conversation, payloads, texts
from tests.conftest import PROJECT_ROOT

ACTIONS: Dict[str, Type[Action]] = {
    a().name(): a for a in (ActionAdvise, ActionExplainChoice, ActionShortAnswer, ActionDefaultFallback,
                            ActionHandoff, ActionAnswerTopic, ActionSmallTalk, ActionEmergency,
                            ActionForgetConversation, ActionManageBooking, ActionCrisis, ActionDeclineSexualServices)
}
# Replies that are not answers about massage: the urgent message itself, the crisis reply (which
# comes before any condition's advice: tests/actions/test_crisis_actions.py), and the confirmation
# before a conversation is deleted (a red flag never reaches it: it becomes report_emergency).
# A request for sexual services gets one firm sentence and nothing else (a crisis in it is caught
# before: the crisis layer changes the intent).
EXEMPT = {"action_emergency", "action_crisis", "action_forget_conversation", "action_decline_sexual_services"}
QUESTIONS = {
    "ask_what_is": "what is therapeutic massage",
    "ask_vs_relaxation": "how is it different from a relaxation massage",
    "ask_benefits": "what are the benefits of massage",
    "ask_physical_benefits": "what are the physical benefits",
    "ask_mental_benefits": "what does it do for the mind",
    "ask_techniques": "what is deep tissue massage",
    "ask_session": "what happens in a session",
    "ask_who_benefits": "who is massage for",
    "ask_frequency": "how often should I get a massage",
    "ask_contraindications": "when should I avoid massage",
    "ask_find_therapist": "how do I find a good therapist",
    "ask_painful": "is deep tissue painful",
    "ask_insurance": "does insurance cover it",
    "ask_vs_deep_tissue": "what is the difference between swedish and deep tissue",
    "ask_self_massage": "can I massage myself at home",
    "ask_pregnancy": "can I get a massage while pregnant",
    "ask_session_length": "how long should a session be",
    "ask_price": "how much does it cost",
    "ask_aftercare": "is it normal to be sore after a massage",
    "ask_first_visit": "what should I wear",
    "ask_source": "where does your information come from",
    "ask_mental_health": "I get panic attacks, would massage help",
    "ask_why": "why that one",
    "ask_capabilities": "what can you do",
    "book_session": "can I book a session",
    "change_booking": "change my booking to friday at 3",
    "cancel_booking": "cancel my booking",
    "describe_problem": "my shoulders are tight",
    "greet": "hi",
    "thanks": "thanks",
    "goodbye": "bye",
    "bot_challenge": "are you a bot",
    "affirm": "yes",
    "deny": "no",
    "out_of_scope": "what's the weather like",
    "request_human": "can I talk to someone",
    "nlu_fallback": "hmm",
    "ask_hours": "are you open on saturday",
    "ask_location": "where are you",
    "ask_parking": "is there parking",
    "ask_accessibility": "is it wheelchair accessible",
    "ask_gift_cards": "do you sell gift cards",
    "ask_packages": "do you have packages",
    "ask_couples": "can my partner and I come together",
    "ask_payment": "do you take cards",
    "ask_age_rules": "can my 15 year old come",
    "ask_late_arrival": "what if I'm late",
    "ask_what_to_bring": "what should I bring",
    "ask_facilities": "do you have showers",
    "ask_walk_in": "do you take walk-ins",
    "ask_booking_ahead": "how far ahead should I book",
    "ask_waiting_list": "do you have a waiting list",
}
KB = read_knowledge_base()
CONDITIONS = KB.entries["conditions"]


def rule_actions() -> Dict[str, str]:
    rules = yaml.safe_load((PROJECT_ROOT / "data" / "rules.yml").read_text())["rules"]
    mapping = {}
    for rule in rules:
        steps = rule["steps"]
        if len(steps) == 2 and "intent" in steps[0] and "action" in steps[1]:
            mapping[steps[0]["intent"]] = steps[1]["action"]
    return mapping


RULES = rule_actions()


def action_for(intent: str) -> Action:
    return ACTIONS[RULES.get(intent, "action_default_fallback")]()


def term(condition: Dict) -> str:
    return str(condition["synonyms"][0])


def leads_with(condition: Dict, messages: List[Dict]) -> bool:
    first = (messages[0].get("text") or "") if messages else ""
    key = condition["advice"] if condition["severity"] == "absolute" else condition["modification"]
    return condition["name"] in first or " ".join(key.split()) in " ".join(first.split())


def offers(messages: List[Dict]) -> List[str]:
    found = [p for p in payloads(messages) if p.startswith("/book_session") or p.startswith("/ask_techniques{")]
    text = texts(messages).lower()
    found += [phrase for phrase in ("help you book", "book online", "here is what i would suggest") if phrase in text]
    return found


def test_every_rule_answers_through_the_safety_preface() -> None:
    for intent, action in RULES.items():
        assert action in ACTIONS, f"{intent} -> {action} is not a known action"
        if action not in EXEMPT:
            assert issubclass(ACTIONS[action], SafeAction), f"{intent} -> {action} skips the safety preface"


def test_the_matrix_covers_every_intent_the_rules_answer() -> None:
    assert {i for i, a in RULES.items() if a not in EXEMPT} <= set(QUESTIONS)


@pytest.mark.parametrize("intent", sorted(QUESTIONS))
@pytest.mark.parametrize("condition", CONDITIONS, ids=[c["id"] for c in CONDITIONS])
@pytest.mark.parametrize("phrasing", ["before", "after"])
def test_a_reported_condition_leads_the_reply(conversation: Conversation, condition, intent, phrasing) -> None:
    question = QUESTIONS[intent]
    text = f"I have {term(condition)}, {question}" if phrasing == "before" else f"{question}? I'm dealing with {term(condition)}"
    messages = conversation.say(intent, text, action_for(intent))
    assert leads_with(condition, messages), f"{text!r} ({intent}):\n{texts(messages)}"
    if condition["severity"] == "absolute":
        assert offers(messages) == [], f"{text!r} ({intent}) offers {offers(messages)}"


@pytest.mark.parametrize("intent", sorted(QUESTIONS))
@pytest.mark.parametrize("condition", [c for c in CONDITIONS if c["severity"] == "absolute"],
                         ids=[c["id"] for c in CONDITIONS if c["severity"] == "absolute"])
def test_after_an_absolute_condition_nothing_offers_a_technique_or_booking(
    conversation: Conversation, condition, intent
) -> None:
    conversation.say("describe_problem", f"I have {term(condition)}", ActionAdvise())
    messages = conversation.say(intent, QUESTIONS[intent], action_for(intent))
    assert offers(messages) == [], f"{intent} after {condition['id']}: {texts(messages)}"


@pytest.mark.parametrize("condition", CONDITIONS, ids=[c["id"] for c in CONDITIONS])
def test_a_condition_reported_in_the_booking_form_leads_the_reply(kb_database, matcher, condition) -> None:
    """The booking form's questions pass through the preface too; an absolute one ends the form."""
    chat = BookingChat(matcher, sender=f"matrix-{condition['id']}")
    chat.say("my shoulders are tight", "describe_problem")
    chat.say("/deny", "deny")
    chat.say("/book_session", "book_session")
    assert chat.active_loop == FORM
    messages = chat.say(f"by the way I have {term(condition)}", "describe_problem")
    assert leads_with(condition, messages), texts(messages)
    if condition["severity"] == "absolute":
        assert offers(messages) == [] and chat.active_loop is None, texts(messages)
    else:
        assert chat.active_loop == FORM and "What day and time" in texts(messages), texts(messages)

