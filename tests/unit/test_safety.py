"""Safety screening: red flags first, absolute conditions stop everything, relative ones modify."""
from __future__ import annotations

import pytest

from bot.advice.catalogue import Catalogue
from bot.advice.profile import Profile, ReportedCondition
from bot.advice.safety import Verdict, has_passed, is_first_trimester, screen
from bot.nlu.matcher import VocabularyMatcher


def screening_of(text: str, matcher: VocabularyMatcher, catalogue: Catalogue):
    profile = Profile.from_turns([[m.as_entity("test") for m in matcher.find(text)]])
    return screen(profile, catalogue.severities)


@pytest.mark.parametrize("text, condition", [
    ("I've got a fever and my back aches", "fever"),
    ("rash all over my back", "skin_infection"),
    ("they found a DVT in my leg last week", "blood_clot"),
    ("had knee surgery two weeks ago, can a massage help the swelling?", "recent_surgery"),
    ("I have an uncontrolled heart condition", "severe_cardiovascular"),
])
def test_absolute_contraindications_avoid_massage(text, condition, matcher, catalogue) -> None:
    screening = screening_of(text, matcher, catalogue)
    assert screening.verdict is Verdict.AVOID
    assert condition in screening.absolute
    assert not screening.allows_massage


@pytest.mark.parametrize("text, condition", [
    ("I'm 12 weeks pregnant and my lower back kills me", "pregnancy"),
    ("on chemo and my neck is stiff", "cancer_treatment"),
    ("I have varicose veins in my legs", "varicose_veins"),
    ("RA flare in my hands", "inflammatory_flare"),
    ("I get dizzy when I stand up", "low_blood_pressure"),
])
def test_relative_contraindications_allow_a_modified_massage(text, condition, matcher, catalogue) -> None:
    screening = screening_of(text, matcher, catalogue)
    assert screening.verdict is Verdict.MODIFY
    assert screening.relative == (condition,)
    assert screening.allows_massage


def test_a_red_flag_outranks_everything(matcher, catalogue) -> None:
    screening = screening_of("i'm pregnant, have a fever and chest pain", matcher, catalogue)
    assert screening.verdict is Verdict.EMERGENCY
    assert screening.red_flags == ("chest_pain",)


@pytest.mark.parametrize("text", [
    "no fever or anything, just stiff shoulders from my desk job",
    "my sister is pregnant, I just want to relax",
    "I had surgery five years ago and my back is stiff",
    "never had a blood clot",
])
def test_negated_other_and_long_past_conditions_do_not_count(text, matcher, catalogue) -> None:
    assert screening_of(text, matcher, catalogue).verdict is Verdict.CLEAR


def test_a_later_correction_withdraws_a_condition(matcher, catalogue) -> None:
    turns = [[m.as_entity("t") for m in matcher.find(t)]
             for t in ["I have a fever", "sorry, I don't have a fever, my back is sore"]]
    assert screen(Profile.from_turns(turns), catalogue.severities).verdict is Verdict.CLEAR


def test_an_absolute_condition_stays_for_the_rest_of_the_conversation(matcher, catalogue) -> None:
    turns = [[m.as_entity("t") for m in matcher.find(t)]
             for t in ["I have a rash on my back", "ok", "my shoulders are stiff too", "can I book?"]]
    assert screen(Profile.from_turns(turns), catalogue.severities).verdict is Verdict.AVOID


@pytest.mark.parametrize("condition, expected", [
    (ReportedCondition("recent_surgery", days_ago=14), False),
    (ReportedCondition("recent_surgery", days_ago=365), True),
    (ReportedCondition("fever", days_ago=30), True),
    (ReportedCondition("blood_clot", days_ago=3650), False),
    (ReportedCondition("severe_cardiovascular", days_ago=3650), False),
    (ReportedCondition("fever"), False),
])
def test_only_time_bound_conditions_pass_with_time(condition, expected) -> None:
    assert has_passed(condition) is expected


def test_first_trimester_from_weeks_or_words() -> None:
    assert is_first_trimester(ReportedCondition("pregnancy", weeks=8))
    assert not is_first_trimester(ReportedCondition("pregnancy", weeks=20))
    assert is_first_trimester(ReportedCondition("pregnancy", trimester=1))
