"""The vocabulary matcher: canonical ids, several at once, negation, other people, time, typos."""
from __future__ import annotations

from typing import List, Optional, Tuple

import pytest

from bot.nlu.matcher import NEGATED, OTHER_PERSON, VocabularyMatcher


def found(matcher: VocabularyMatcher, text: str) -> List[Tuple[str, str, Optional[str]]]:
    return [(m.entity, m.value, m.role) for m in matcher.find(text)]


@pytest.mark.parametrize("text, expected", [
    ("dvt", ("condition", "blood_clot")),
    ("blood clot in my leg", ("condition", "blood_clot")),
    ("I think it's a clot", ("condition", "blood_clot")),
    ("I have the flu", ("condition", "fever")),
    ("running a temperature", ("condition", "fever")),
    ("on chemo at the moment", ("condition", "cancer_treatment")),
    ("there's a rash on my arm", ("condition", "skin_infection")),
    ("cut on my back", ("condition", "skin_infection")),
    ("bp is low", ("condition", "low_blood_pressure")),
    ("dizzy when I stand up", ("condition", "low_blood_pressure")),
    ("RA flare", ("condition", "inflammatory_flare")),
    ("spider veins on my legs", ("condition", "varicose_veins")),
    ("varicose veins", ("condition", "varicose_veins")),
    ("broke my wrist", ("condition", "recent_surgery")),
    ("heart failure", ("condition", "severe_cardiovascular")),
    ("whats the diffrence between swedish and deep tisue", ("technique", "deep_tissue")),
    ("my shoulers are killing me", ("body_part", "shoulders")),
    ("i'm pregant", ("condition", "pregnancy")),
    ("desk job", ("audience", "office_worker")),
    ("marathon runner", ("audience", "athlete")),
    ("i want to unwind", ("goal", "stress_relief")),
    ("something gentler please", ("pressure", "gentle")),
    ("i have chest pain", ("red_flag", "chest_pain")),
    ("my calf is swollen and warm", ("red_flag", "calf_clot_signs")),
])
def test_lay_words_and_typos_map_to_canonical_ids(matcher: VocabularyMatcher, text: str, expected) -> None:
    assert expected in [(m.entity, m.value) for m in matcher.find(text)]


def test_several_mentions_at_once_in_a_long_message(matcher: VocabularyMatcher) -> None:
    text = "my lower back is stiff from my desk job and I can't sleep, want to relax"
    assert found(matcher, text) == [
        ("body_part", "lower_back", None), ("symptom", "stiffness", None),
        ("audience", "office_worker", None), ("symptom", "insomnia", None), ("goal", "stress_relief", None),
    ]


@pytest.mark.parametrize("text, value", [
    ("no fever", "fever"),
    ("I don't have any blood clots", "blood_clot"),
    ("not pregnant", "pregnancy"),
    ("never had surgery", "recent_surgery"),
    ("I haven't had any surgery", "recent_surgery"),
    ("fever free for a week", "fever"),
])
def test_negated_conditions_are_marked(matcher: VocabularyMatcher, text: str, value: str) -> None:
    assert ("condition", value, NEGATED) in found(matcher, text)


def test_negation_stops_at_the_end_of_its_scope(matcher: VocabularyMatcher) -> None:
    assert found(matcher, "no fever or anything, just stiff shoulders from my desk job") == [
        ("condition", "fever", NEGATED), ("symptom", "stiffness", None),
        ("body_part", "shoulders", None), ("audience", "office_worker", None),
    ]


def test_negation_carries_across_a_list(matcher: VocabularyMatcher) -> None:
    assert found(matcher, "no fever, rash or blood clots") == [
        ("condition", "fever", NEGATED), ("condition", "skin_infection", NEGATED),
        ("condition", "blood_clot", NEGATED),
    ]


@pytest.mark.parametrize("text", [
    "I can't walk because of a blood clot",
    "I don't know if I have a fever",
    "not sure whether it is a blood clot",
])
def test_uncertainty_and_unrelated_negation_do_not_hide_a_condition(matcher: VocabularyMatcher, text: str) -> None:
    roles = [m.role for m in matcher.find(text) if m.entity == "condition"]
    assert roles == [None]


@pytest.mark.parametrize("text", ["my sister is pregnant", "my husband had a DVT", "she has a fever"])
def test_someone_elses_condition_is_not_the_persons_own(matcher: VocabularyMatcher, text: str) -> None:
    assert [m.role for m in matcher.find(text) if m.entity == "condition"] == [OTHER_PERSON]


def test_own_mentions_after_someone_else_are_own(matcher: VocabularyMatcher) -> None:
    assert found(matcher, "my wife has a rash but i have back pain") == [
        ("condition", "skin_infection", OTHER_PERSON), ("body_part", "back", None), ("symptom", "pain", None),
    ]


def test_time_is_kept_for_the_safety_logic(matcher: VocabularyMatcher) -> None:
    surgery = matcher.find("had knee surgery two weeks ago")[0]
    assert (surgery.value, surgery.days_ago) == ("recent_surgery", 14)
    old = matcher.find("I had surgery five years ago")[0]
    assert old.days_ago == 5 * 365
    pregnant = [m for m in matcher.find("I'm 12 weeks pregnant and my lower back kills me") if m.entity == "condition"][0]
    assert (pregnant.weeks, pregnant.trimester) == (12, 1)
    later = [m for m in matcher.find("i'm 30 weeks pregnant") if m.entity == "condition"][0]
    assert later.trimester == 3
    assert matcher.find("in my first trimester")[0].trimester == 1


def test_words_that_merely_look_alike_are_not_matched(matcher: VocabularyMatcher) -> None:
    assert found(matcher, "I tried it once and should book again") == []


def test_entity_dict_for_rasa(matcher: VocabularyMatcher) -> None:
    entity = matcher.find("no fever")[0].as_entity("KnowledgeBaseEntityExtractor")
    assert entity == {"entity": "condition", "value": "fever", "start": 3, "end": 8, "confidence_entity": 1.0,
                      "extractor": "KnowledgeBaseEntityExtractor", "role": NEGATED}


def test_huge_and_odd_input_does_not_break_it(matcher: VocabularyMatcher) -> None:
    assert matcher.find("") == []
    assert matcher.find("\x00\x01<img src=x onerror=alert(1)>") == []
    assert len(matcher.find("back pain " * 5000)) > 0


def test_time_available(matcher: VocabularyMatcher) -> None:
    def minutes(text):
        return [m.value for m in matcher.find(text) if m.entity == "time_available"]

    assert minutes("I only have 30 minutes") == ["30"]
    assert minutes("got half an hour at lunch") == ["30"]
    assert minutes("I can stay for an hour") == ["60"]
    assert minutes("had surgery 30 years ago") == []


def test_a_panic_attack_with_fast_breathing_is_not_an_emergency_but_with_chest_pain_it_is(matcher) -> None:
    flags = lambda text: {m.value for m in matcher.find(text) if m.entity == "red_flag"}  # noqa: E731
    assert flags("I get panic attacks where I can't breathe") == set()
    assert flags("panic attack, chest pain and I can't breathe") == {"chest_pain", "breathing_trouble"}
    assert flags("I can't breathe") == {"breathing_trouble"}


def test_the_text_for_the_intent_classifier_has_its_vocabulary_typos_corrected(matcher) -> None:
    assert matcher.read("Is it ok to get a masage while pregant?")[1] == "is it ok to get a massage while pregnant?"
    assert matcher.read("I wash my hair")[1] == "i wash my hair"
