"""action_advise: screening, follow-up questions, recommendation and booking, turn by turn."""
from __future__ import annotations

from actions.advice import ActionAdvise
from actions.short_answer import ActionShortAnswer
from tests.actions.conftest import payloads, texts

ADVISE = ActionAdvise()
SHORT = ActionShortAnswer()


def test_a_full_description_is_screened_then_recommended(conversation) -> None:
    first = conversation.say("describe_problem", "my lower back is stiff from sitting all day and I can't sleep", ADVISE)
    assert "safety check" in texts(first)
    assert "/deny" in payloads(first)
    assert "not medical advice" in texts(first)
    reply = texts(conversation.say("deny", "none of those", SHORT))
    assert "Here is what I would suggest" in reply
    assert "lower back" in reply and "Session length" in reply and "How often" in reply
    assert "not medical advice" not in reply


def test_an_absolute_condition_gets_no_recommendation_and_no_booking(conversation) -> None:
    conversation.say("describe_problem", "my shoulders are tight", ADVISE)
    answer = conversation.say("describe_problem", '/describe_problem{"condition": "fever"}', ADVISE)
    reply = texts(answer)
    assert "isn't safe" in reply and "fully well" in reply
    assert "/book_session" not in payloads(answer)
    later = texts(conversation.say("book_session", "can I book for tomorrow?", ADVISE))
    assert "isn't safe" in later and "book online" not in later


def test_a_relative_condition_always_carries_its_modification(conversation) -> None:
    conversation.say("describe_problem", "I'm 12 weeks pregnant and my lower back kills me", ADVISE)
    reply = texts(conversation.say("deny", "no", SHORT))
    assert "certified prenatal" in reply and "Deep tissue" not in reply
    booking = texts(conversation.say("book_session", "book me in", ADVISE))
    assert "certified prenatal" in booking and "harbourlight.example/book" in booking


def test_yes_to_the_checklist_asks_which_one(conversation) -> None:
    conversation.say("describe_problem", "neck pain", ADVISE)
    assert "Which one" in texts(conversation.say("affirm", "yes", SHORT))


def test_a_vague_request_asks_one_question_at_a_time(conversation) -> None:
    conversation.say("describe_problem", "which massage should i get", ADVISE)
    goal = conversation.say("deny", "no", SHORT)
    assert "What would you most like" in texts(goal)
    assert any('"goal": "stress_relief"' in p for p in payloads(goal))
    reply = texts(conversation.say("describe_problem", '/describe_problem{"goal": "stress_relief"}', ADVISE))
    assert "Swedish massage" in reply


def test_a_red_flag_is_answered_first_and_only(conversation) -> None:
    messages = conversation.say("describe_problem", "my back hurts and I have chest pain", ADVISE)
    assert len(messages) == 1 and "emergency services" in texts(messages)


def test_a_correction_changes_the_answer(conversation) -> None:
    conversation.say("describe_problem", "my back is sore", ADVISE)
    conversation.say("deny", "no", SHORT)
    reply = texts(conversation.say("describe_problem", "actually it's my neck, not my back", ADVISE))
    assert "neck" in reply and "back" not in reply.split("Session length")[1].split(".")[0]


def recommended(conversation, description: str) -> None:
    conversation.say("describe_problem", description, ADVISE)
    assert "what I would suggest" in texts(conversation.say("deny", "none", SHORT))


def test_why_explains_the_current_recommendation(conversation) -> None:
    from actions.advice import ActionExplainChoice

    recommended(conversation, "I'm a runner and my calves are tight")
    reply = texts(conversation.say("ask_why", "why that one?", ActionExplainChoice()))
    assert "why I suggested" in reply and "athletes" in reply and "Sports massage" in reply


def test_why_without_a_recommendation_invites_a_description(conversation) -> None:
    from actions.advice import ActionExplainChoice

    assert "haven't suggested" in texts(conversation.say("ask_why", "why?", ActionExplainChoice()))


def test_follow_up_questions_use_what_was_said(conversation) -> None:
    from actions.knowledge import ActionAnswerTopic

    recommended(conversation, "desk job and a stiff neck")
    often = texts(conversation.say("ask_frequency", "and how often should I go?", ActionAnswerTopic()))
    assert often.startswith("For you, I'd suggest once a week or every two weeks")
    length = texts(conversation.say("ask_session_length", "how long for that?", ActionAnswerTopic()))
    assert length.startswith("For you: 30 minutes is right for one area (neck)")
    painful = texts(conversation.say("ask_painful", "is that painful?", ActionAnswerTopic()))
    assert painful.startswith("The trigger point therapy I suggested: Firm")


def test_more_areas_and_gentler_pressure_change_the_recommendation(conversation) -> None:
    recommended(conversation, "my neck is stiff")
    more = texts(conversation.say("describe_problem", "what about my shoulders too?", ADVISE))
    assert "45 minutes" in more and "neck and shoulders" in more
    gentler = texts(conversation.say("describe_problem", "something gentler please", ADVISE))
    assert "Deep tissue" not in gentler and "Trigger point" not in gentler and "Swedish" in gentler


def test_a_condition_mentioned_later_changes_or_withdraws_the_recommendation(conversation) -> None:
    recommended(conversation, "my back is stiff")
    changed = texts(conversation.say("describe_problem", "oh and I'm pregnant", ADVISE))
    assert "certified prenatal" in changed and "Deep tissue" not in changed
    withdrawn = texts(conversation.say("describe_problem", "I also have a rash on my back", ADVISE))
    assert "isn't safe" in withdrawn and "what I would suggest" not in withdrawn


def test_yes_and_no_without_a_pending_question_get_a_short_prompt(conversation) -> None:
    assert "What would you like to know" in texts(conversation.say("affirm", "yes", SHORT))
    assert "anything else" in texts(conversation.say("deny", "no", SHORT))
    assert "can't help with that" in texts(conversation.say("out_of_scope", "pizza?", SHORT))


def test_an_unclear_message_that_describes_needs_gets_advice(conversation) -> None:
    reply = texts(conversation.say("nlu_fallback", "hmm sore neck, what then", SHORT))
    assert "safety check" in reply


def test_a_condition_asked_about_after_a_recommendation_updates_it(conversation) -> None:
    from actions.knowledge import ActionAnswerTopic

    recommended(conversation, "my back is stiff")
    reply = texts(conversation.say("ask_pregnancy", "oh and I'm pregnant, is that ok?", ActionAnswerTopic()))
    assert "what I would suggest" in reply and "certified prenatal" in reply
    stop = texts(conversation.say("ask_contraindications", "I also have a fever, is that a problem", ActionAnswerTopic()))
    assert "isn't safe" in stop
