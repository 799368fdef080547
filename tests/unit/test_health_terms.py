"""Ages and conditions the knowledge base does not know, found in free text."""
from __future__ import annotations

from typing import List, Optional, Tuple

import pytest

from bot.nlu.matcher import VocabularyMatcher


def found(matcher: VocabularyMatcher, text: str, entity: str) -> List[Tuple[str, Optional[str]]]:
    return [(m.value, m.role) for m in matcher.find(text) if m.entity == entity]


@pytest.mark.parametrize("text", [
    "I'm 72, my joints are stiff",
    "im 68 and my back hurts",
    "I am 81 years old",
    "a 70 year old with sore knees",
    "I'm a 67-year-old retired nurse",
    "aged 75, bad hips",
])
def test_an_age_of_65_or_more_makes_a_senior(matcher, text) -> None:
    assert ("senior", None) in found(matcher, text, "audience")


@pytest.mark.parametrize("text", [
    "a 29 year old male with tight hamstrings",
    "I'm 20 weeks pregnant",
    "I'm 30 minutes away",
    "I'm 45 and stressed",
    "I ran 70 km last week",
])
def test_other_numbers_are_not_an_old_age(matcher, text) -> None:
    assert ("senior", None) not in found(matcher, text, "audience")


def test_someone_elses_age_is_theirs(matcher) -> None:
    assert found(matcher, "my dad is 80 and I'm 70", "audience")[-1] == ("senior", None)


@pytest.mark.parametrize("text, name", [
    ("I was diagnosed with Parkinson's", "Parkinson's"),
    ("I suffer from Crohn's", "Crohn's disease"),
    ("I have ME", "ME/CFS"),
    ("i have MS and tight legs", "multiple sclerosis"),
    ("I have epilepsy, can I get a massage", "epilepsy"),
    ("I've got Lyme disease", "Lyme disease"),
    ("i have gastritis", "gastritis"),
])
def test_a_condition_the_knowledge_base_does_not_know_is_still_noticed(matcher, text, name) -> None:
    assert found(matcher, text, "unknown_condition") == [(name, None)]


@pytest.mark.parametrize("text", [
    "I have a question about prices",
    "I have 30 minutes",
    "I have two kids and a stressful job",
    "call me when you can",
    "I have a blood clot",
    "I have plantar fasciitis",
    "I have high blood pressure",
    "what is the diagnosis process",
])
def test_ordinary_messages_and_known_conditions_are_not_unknown(matcher, text) -> None:
    assert found(matcher, text, "unknown_condition") == []


def test_negated_and_other_peoples_unknown_conditions_keep_their_role(matcher) -> None:
    assert found(matcher, "I don't have epilepsy", "unknown_condition") == [("epilepsy", "negated")]
    assert found(matcher, "my husband has Parkinson's", "unknown_condition") == [("Parkinson's", "other")]
