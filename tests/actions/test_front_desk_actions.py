"""Front-desk questions through action_answer_topic: the spa's own answer, the safety preface
still first for a health matter, and one firm sentence for a request for sexual services."""
from __future__ import annotations

import yaml

from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import ActionAnswerTopic, ActionDeclineSexualServices
from bot.knowledge.front_desk import SEXUAL_SERVICES_REPLY
from tests.actions.conftest import texts, user_event
from tests.conftest import KB_DIR

SPA = {k: " ".join(str(v).split()) for k, v in yaml.safe_load((KB_DIR / "spa.yml").read_text())["spa"].items()}


def test_parking_is_answered_with_the_spas_words_and_transit(conversation) -> None:
    reply = " ".join(texts(conversation.say("ask_parking", "is there parking", ActionAnswerTopic())).split())
    assert SPA["parking"] in reply and SPA["transit"] in reply


def test_a_health_matter_in_a_front_desk_question_still_comes_first(conversation) -> None:
    reply = texts(conversation.say("ask_couples", "I'm pregnant, can my husband and I book a couples massage?",
                                   ActionAnswerTopic()))
    assert "prenatal" in reply.lower()
    assert " ".join(SPA["couples"].split()[:6]) in " ".join(reply.split())


def test_a_request_for_sexual_services_gets_one_sentence(conversation) -> None:
    assert texts(conversation.say("request_sexual_services", "any extras?", ActionDeclineSexualServices())) == (
        SEXUAL_SERVICES_REPLY)


def test_an_unsure_guess_gets_the_ordinary_not_understood_answer_not_a_refusal(conversation) -> None:
    event = user_event("request_sexual_services", "the ending of my last massage was rushed", conversation.matcher)
    event["parse_data"]["intent"]["confidence"] = 0.45
    conversation.events.append(event)
    dispatcher = CollectingDispatcher()
    ActionDeclineSexualServices().run(dispatcher, conversation.tracker(), {})
    reply = texts(dispatcher.messages)
    assert SEXUAL_SERVICES_REPLY not in reply and "Sorry, I can't help with that" in reply


def test_when_can_i_come_in_after_something_that_rules_massage_out_is_never_an_empty_reply(conversation) -> None:
    from actions.advice import ActionAdvise

    conversation.say("describe_problem", "I have a fever", ActionAdvise())
    reply = texts(conversation.say("ask_walk_in", "when can i come in then", ActionAnswerTopic()))
    assert "I can't suggest a time for a massage for now" in reply
    assert "book online" not in reply.lower()
