"""The order of steps: emergency, avoid, one screening question, follow-ups, then advice."""
from __future__ import annotations

from bot.advice.conversation import BOOK, SCREENING, State, Step, decide
from bot.advice.profile import Profile
from bot.advice.safety import screen


def step_for(texts, intent, state, matcher, catalogue):
    profile = Profile.from_turns([[m.as_entity("t") for m in matcher.find(t)] for t in texts])
    return decide(profile, screen(profile, catalogue.severities), state, intent)


def test_unscreened_people_are_asked_once(matcher, catalogue) -> None:
    first = step_for(["my neck is stiff"], "describe_problem", State(), matcher, catalogue)
    assert first.step is Step.ASK_SCREENING and first.state.pending == SCREENING
    second = step_for(["my neck is stiff", "no"], "deny", first.state, matcher, catalogue)
    assert second.step is Step.RECOMMEND and second.state.screened


def test_yes_to_the_checklist_asks_which_one(matcher, catalogue) -> None:
    asked = State(pending=SCREENING)
    assert step_for(["my neck is stiff", "yes"], "affirm", asked, matcher, catalogue).step is Step.ASK_WHICH_CONDITION


def test_an_absolute_condition_in_the_answer_stops_the_booking(matcher, catalogue) -> None:
    asked = State(pending=SCREENING, request=BOOK)
    decision = step_for(["book me in", "I have the flu"], "describe_problem", asked, matcher, catalogue)
    assert decision.step is Step.AVOID


def test_booking_after_screening(matcher, catalogue) -> None:
    decision = step_for(["i'd like to book"], "book_session", State(screened=True), matcher, catalogue)
    assert decision.step is Step.BOOK and decision.state.request != BOOK


def test_red_flags_come_before_screening(matcher, catalogue) -> None:
    assert step_for(["i fainted at work"], "describe_problem", State(), matcher, catalogue).step is Step.EMERGENCY


def test_missing_goal_then_missing_area_are_asked_one_at_a_time(matcher, catalogue) -> None:
    screened = State(screened=True)
    goal = step_for(["what massage should i get"], "describe_problem", screened, matcher, catalogue)
    assert goal.step is Step.ASK_GOAL
    area = step_for(["what massage should i get", "it hurts"], "describe_problem", goal.state, matcher, catalogue)
    assert area.step is Step.ASK_AREA
    done = step_for(["what massage should i get", "it hurts", "skip"], "deny", area.state, matcher, catalogue)
    assert done.step is Step.RECOMMEND


def test_a_skipped_question_is_not_asked_again(matcher, catalogue) -> None:
    skipped = step_for(["hmm"], "deny", State(screened=True, pending="goal"), matcher, catalogue)
    assert skipped.step is Step.RECOMMEND
