"""The intake a booking carries: only the person's own reports, conditions first."""
from __future__ import annotations

from typing import Any, Dict, List

from bot.advice.catalogue import AudienceInfo, Catalogue, ConditionInfo, SymptomInfo
from bot.advice.profile import Profile
from bot.booking.intake import build_intake, summary_lines

PRENATAL = "See a certified prenatal therapist; side-lying position."


def condition(id: str, name: str, severity: str, modification: str = None) -> ConditionInfo:
    return ConditionInfo(id, name, severity, "reason", None, modification, None, ())


CATALOGUE = Catalogue(
    techniques=(),
    audiences={"senior": AudienceInfo("senior", "Seniors", (), (), 2)},
    symptoms={"stiffness": SymptomInfo("stiffness", "stiffness", (), ()), "pain": SymptomInfo("pain", "pain", (), ())},
    conditions={
        "pregnancy": condition("pregnancy", "Pregnancy", "relative", PRENATAL),
        "fever": condition("fever", "Fever or contagious illness", "absolute"),
        "recent_surgery": condition("recent_surgery", "Recent surgery or fracture", "absolute"),
        "varicose_veins": condition(
            "varicose_veins", "Varicose veins", "relative", "  No direct pressure\n  on the veins. "
        ),
        "diabetes": condition("diabetes", "Diabetes", "relative", "Check your feet."),
    },
    goals={"better_sleep": "Better sleep", "pain_relief": "Pain and tension relief"},
    body_parts={"lower_back": "lower back", "neck": "neck"},
    full_body_parts=(),
    pressure_levels={"gentle": 1, "firm": 3},
    frequencies=(),
    session_lengths=(),
)


def entity(kind: str, value: str, role: str = None, **extra: Any) -> Dict[str, Any]:
    found = {"entity": kind, "value": value, **extra}
    if role:
        found["role"] = role
    return found


def profile_of(*turns: List[Dict[str, Any]]) -> Profile:
    return Profile.from_turns(turns)


def test_a_full_intake() -> None:
    profile = profile_of([
        entity("condition", "pregnancy", trimester=2),
        entity("body_part", "lower_back"), entity("body_part", "neck"),
        entity("goal", "better_sleep"), entity("symptom", "stiffness"),
        entity("pressure", "gentle"), entity("audience", "senior"),
    ])
    intake = build_intake(profile, CATALOGUE)
    assert intake == {
        "conditions": [{"id": "pregnancy", "name": "Pregnancy", "severity": "relative", "modification": PRENATAL}],
        "areas": ["lower back", "neck"],
        "goals": ["Better sleep"],
        "symptoms": ["stiffness"],
        "pressure": "gentle",
        "audiences": ["Seniors"],
    }
    assert summary_lines(intake) == [
        f"Condition: Pregnancy — Modification: {PRENATAL}",
        "Areas: lower back, neck",
        "Goals: better sleep",
        "Symptoms: stiffness",
        "Pressure: gentle",
        "About you: seniors",
    ]


def test_other_peoples_and_denied_conditions_stay_out() -> None:
    profile = profile_of(
        [entity("condition", "pregnancy", role="other"), entity("condition", "diabetes")],
        [entity("condition", "diabetes", role="negated"), entity("condition", "fever", role="other")],
        [entity("body_part", "neck", role="other"), entity("goal", "pain_relief")],
    )
    intake = build_intake(profile, CATALOGUE)
    assert intake["conditions"] == []
    assert intake["areas"] == []
    assert summary_lines(intake) == ["Goals: pain and tension relief"]


def test_conditions_come_most_serious_first_and_long_past_ones_say_so() -> None:
    profile = profile_of([
        entity("condition", "varicose_veins"),
        entity("condition", "recent_surgery", days_ago=400),
        entity("condition", "fever"),
        entity("condition", "unknown_to_the_kb"),
    ])
    intake = build_intake(profile, CATALOGUE)
    assert [(c["id"], c["severity"]) for c in intake["conditions"]] == [
        ("fever", "absolute"), ("varicose_veins", "relative"), ("recent_surgery", "past"),
    ]
    assert intake["conditions"][1]["modification"] == "No direct pressure on the veins."
    assert intake["conditions"][2]["modification"] is None
    assert summary_lines(intake) == [
        "Condition: Fever or contagious illness — massage must wait until a doctor clears it",
        "Condition: Varicose veins — Modification: No direct pressure on the veins.",
        "Condition: Recent surgery or fracture — reported as in the past",
    ]


def test_an_empty_profile_gives_an_empty_intake_and_no_lines() -> None:
    intake = build_intake(Profile(), CATALOGUE)
    assert intake == {"conditions": [], "areas": [], "goals": [], "symptoms": [], "pressure": None, "audiences": []}
    assert summary_lines(intake) == []
    assert summary_lines({}) == []


def test_summary_lines_read_a_stored_intake_defensively() -> None:
    stored = {"conditions": [{"name": "DVT"}, "junk", {"id": "x"}], "areas": ["", "neck"], "goals": None}
    assert summary_lines(stored) == ["Condition: DVT", "Areas: neck"]


def test_the_real_knowledge_base_names(catalogue: Catalogue) -> None:
    profile = profile_of([entity("condition", "pregnancy"), entity("body_part", "lower_back")])
    lines = summary_lines(build_intake(profile, catalogue))
    assert lines[0].startswith("Condition: Pregnancy — Modification: ")
    assert "prenatal" in lines[0]
    assert lines[1] == "Areas: lower back"
