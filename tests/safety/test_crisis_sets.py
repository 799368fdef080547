"""A person in crisis is never missed; ordinary talk never sets the crisis reply off."""
from __future__ import annotations

from collections import Counter

from tests.safety.crisis_sets import crisis_cases, false_alarms, idiom_cases, score_crisis_set


def test_the_sets_are_large_and_cover_every_tier_and_person() -> None:
    cases = crisis_cases()
    assert len(cases) >= 60 and len(idiom_cases()) >= 60
    assert set(Counter(c["tier"] for c in cases)) == {"danger_now", "suicide", "abuse"}
    assert {c["about"] for c in cases} == {"self", "other"}


def test_every_crisis_message_is_found_for_the_right_person_and_never_less_urgent() -> None:
    score = score_crisis_set()
    assert score.missed == []
    assert score.wrong_person == []
    assert score.less_urgent == []


def test_no_idiom_and_no_other_message_sets_it_off() -> None:
    idioms, others, read = false_alarms()
    assert read > 3000
    assert idioms == []
    assert others == []
