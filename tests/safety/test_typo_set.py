"""Safety words however they are typed (tests/safety/typo_set.py): recall per class >= 0.98."""
from __future__ import annotations

from tests.safety.typo_set import evaluate


def test_every_absolute_condition_and_red_flag_is_found_when_mistyped(knowledge_base, matcher) -> None:
    scores, missed = evaluate(knowledge_base, matcher)
    assert sum(s.total for s in scores.values()) > 1500
    low = {label: round(score.recall, 3) for label, score in scores.items() if score.recall < 0.98}
    assert low == {}, "\n".join(missed)


def test_ordinary_words_are_never_corrected_into_safety_words(matcher) -> None:
    for text in ("i wash my hair every day", "the cast of the show", "i rush to work", "my flue is blocked",
                 "a hash of it", "i feel fine", "she came home", "that word again"):
        assert not [m for m in matcher.find(text) if m.entity in ("condition", "red_flag")], text


def test_capitals_title_case_joined_and_split_words(matcher) -> None:
    for text, value in (("I HAVE A FEVER", "fever"), ("I Can't Breathe", "breathing_trouble"),
                        ("i have a bloodclot in my calf", "blood_clot"), ("Im on blood thiners", "blood_thinners"),
                        ("i'm pregant", "pregnancy"), ("feaver since monday", "fever"),
                        ("on chemotherepy", "cancer_treatment"), ("my hyper tension is controlled", "high_blood_pressure"),
                        ("lymph oedema in my arm", "lymphoedema"), ("CANT BREATHE", "breathing_trouble")):
        assert value in {m.value for m in matcher.find(text) if not m.role}, text
