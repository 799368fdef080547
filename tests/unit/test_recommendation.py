"""Recommendations from real descriptions: techniques, length, frequency and modifications."""
from __future__ import annotations

from typing import List, NamedTuple, Optional, Sequence

import pytest

from bot.advice.profile import Profile
from bot.advice.recommendation import ASK_AREA, ASK_GOAL, missing_information, recommend
from bot.advice.safety import screen


class Case(NamedTuple):
    text: str
    first: Optional[str] = None            # the top technique
    includes: Sequence[str] = ()           # techniques that must be among the choices
    excludes: Sequence[str] = ()           # techniques that must not be
    minutes: Optional[int] = None
    frequency: Optional[str] = None
    modification: Optional[str] = None     # words the modifications must contain


CASES: List[Case] = [
    # audiences
    Case("I'm a runner and my calves are tight", first="sports", includes=["deep_tissue"], minutes=30, frequency="chronic"),
    Case("athlete here, want to recover faster", first="sports", minutes=60, frequency="chronic"),
    Case("I play soccer and pulled a muscle in my hamstring", first="sports", minutes=30),
    Case("marathon runner, sore legs after the race", first="sports", frequency="one_time"),
    Case("desk job, stiff neck and shoulders", includes=["trigger_point", "deep_tissue"], minutes=45, frequency="chronic"),
    Case("I sit at a computer all day and have tech neck", includes=["trigger_point"], minutes=30),
    Case("office worker with knots between my shoulder blades", first="trigger_point", minutes=30),
    Case("software engineer, lower back pain from sitting all day", includes=["deep_tissue", "trigger_point"], minutes=30),
    Case("I have fibromyalgia and ache all over", first="swedish", excludes=["deep_tissue", "trigger_point"], minutes=60, frequency="chronic"),
    Case("arthritis in my hands", first="swedish", excludes=["deep_tissue"], minutes=30, frequency="chronic"),
    Case("chronic back pain for years", includes=["swedish"], frequency="chronic"),
    Case("I'm anxious all the time and can't sleep", first="swedish", includes=["reflexology"], minutes=60, frequency="wellness"),
    Case("insomniac, need to sleep better", first="swedish", includes=["reflexology"], frequency="wellness"),
    Case("I'm a senior and want to move more easily", first="swedish", excludes=["deep_tissue", "trigger_point"], frequency="chronic"),
    Case("retired, poor circulation in my feet", first="swedish", excludes=["deep_tissue"], minutes=30),
    # goals
    Case("I just want to relax", first="swedish", minutes=60, frequency="wellness"),
    Case("I want better sleep", first="swedish", frequency="wellness"),
    Case("looking for pain relief for my back", includes=["deep_tissue"], frequency="chronic"),
    Case("I want more flexibility in my hips", includes=["deep_tissue"], minutes=30, frequency="chronic"),
    Case("want to improve circulation", first="swedish", frequency="wellness"),
    Case("had a really stressful week and want to unwind", first="swedish", frequency="one_time"),
    Case("one-off treat before my wedding", frequency="one_time"),
    Case("stressed out and burned out", first="swedish", frequency="wellness"),
    # body areas: one, two or three, full body
    Case("my neck hurts", minutes=30),
    Case("my neck and shoulders hurt", minutes=45),
    Case("neck, shoulders and lower back are tight", minutes=45),
    Case("neck, shoulders, lower back and legs are all sore", minutes=60),
    Case("sore all over my whole body", minutes=60),
    Case("tension headaches and a stiff jaw", includes=["trigger_point"], minutes=30),
    # pressure preferences
    Case("stiff shoulders, something gentle please", excludes=["deep_tissue", "trigger_point"], first="swedish"),
    Case("my back is tight and I like firm pressure", first="deep_tissue"),
    # relative contraindications
    Case("I'm 12 weeks pregnant and my lower back kills me", excludes=["deep_tissue", "trigger_point"], minutes=30, modification="prenatal"),
    Case("pregnant, second trimester, swollen feet", excludes=["deep_tissue"], modification="no deep tissue"),
    Case("on chemo and my shoulders are tense", excludes=["deep_tissue", "trigger_point"], modification="clearance"),
    Case("I finished radiation and feel exhausted", excludes=["deep_tissue"], modification="adjust the pressure"),
    Case("varicose veins in my legs and a sore back", modification="direct pressure", minutes=30),
    Case("rheumatoid arthritis, stiff hands", excludes=["deep_tissue", "trigger_point"], modification="Gentle"),
    Case("RA flare in my knees", excludes=["deep_tissue"], modification="never during"),
    Case("low blood pressure, want to relax", first="swedish", modification="slowly"),
    Case("I get dizzy when I stand and my neck is stiff", modification="caution"),
    # time available
    Case("neck, shoulders and lower back are tight but I only have 30 minutes", minutes=30),
    Case("I want to relax, I have about 45 min", minutes=45, first="swedish"),
    Case("stiff neck, I've got an hour", minutes=30),
    # mixed
    Case("runner with varicose veins and tight calves", modification="veins"),
    Case("desk job, stiff neck, and I'm 8 weeks pregnant", excludes=["deep_tissue", "trigger_point"], modification="prenatal"),
    Case("I'm a senior with arthritis and can't sleep", first="swedish", excludes=["deep_tissue"]),
]


def recommendation_for(text, matcher, catalogue):
    profile = Profile.from_turns([[m.as_entity("t") for m in matcher.find(text)]])
    screening = screen(profile, catalogue.severities)
    assert screening.allows_massage, text
    return recommend(profile, catalogue, screening)


@pytest.mark.parametrize("case", CASES, ids=[c.text[:50] for c in CASES])
def test_recommendation(case: Case, matcher, catalogue) -> None:
    result = recommendation_for(case.text, matcher, catalogue)
    chosen = [t.id for t in result.techniques]
    assert 1 <= len(chosen) <= 3
    if case.first:
        assert chosen[0] == case.first, chosen
    assert set(case.includes) <= set(chosen), chosen
    assert not set(case.excludes) & set(chosen), chosen
    if case.minutes:
        assert result.minutes == case.minutes
    if case.frequency:
        assert result.frequency.id == case.frequency
    if case.modification:
        assert case.modification.lower() in " ".join(result.modifications + tuple(result.avoided_areas)).lower() or \
            case.modification.lower() in " ".join(result.modifications).lower()


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


def test_reasons_cite_what_the_person_said_and_the_knowledge_base(matcher, catalogue) -> None:
    result = recommendation_for("desk job, stiff neck", matcher, catalogue)
    reasons = " ".join(t.reason for t in result.techniques)
    assert "neck" in reasons and "office workers" in reasons
    deep = catalogue.technique("deep_tissue")
    assert any(deep.effects in t.reason for t in result.techniques)


def test_the_same_input_gives_the_same_answer(matcher, catalogue) -> None:
    text = "runner, tight calves and I can't sleep"
    assert recommendation_for(text, matcher, catalogue) == recommendation_for(text, matcher, catalogue)


def test_varicose_veins_keep_the_therapist_away_from_the_legs(matcher, catalogue) -> None:
    result = recommendation_for("varicose veins and my legs ache", matcher, catalogue)
    assert result.avoided_areas == ("legs",)
    assert "legs" not in " ".join(t.reason for t in result.techniques)


def test_recommending_is_refused_when_massage_is_not_safe(matcher, catalogue) -> None:
    profile = Profile.from_turns([[m.as_entity("t") for m in matcher.find("I have a fever")]])
    with pytest.raises(ValueError):
        recommend(profile, catalogue, screen(profile, catalogue.severities))


@pytest.mark.parametrize("text, missing", [
    ("what massage should I get?", ASK_GOAL),
    ("it hurts so much", ASK_AREA),
    ("my back hurts", None),
    ("I want to relax", None),
])
def test_what_is_missing(text, missing, matcher) -> None:
    profile = Profile.from_turns([[m.as_entity("t") for m in matcher.find(text)]])
    assert missing_information(profile) == missing
