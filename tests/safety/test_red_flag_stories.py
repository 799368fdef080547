"""A blood clot's warning signs told as a story are a red flag; ordinary leg soreness is not."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CASES = yaml.safe_load((Path(__file__).resolve().parent / "red_flag_stories.yml").read_text())["cases"]


def _red_flags(matcher, text: str):
    return [m for m in matcher.find(text) if m.entity == "red_flag" and m.role != "negated"]


def test_the_set_has_long_stories_about_the_person_and_about_others() -> None:
    assert len(CASES) >= 40
    assert {c["about"] for c in CASES if c["red_flag"]} == {"self", "other"}
    assert sum(not c["red_flag"] for c in CASES) >= 15


@pytest.mark.parametrize("case", [c for c in CASES if c["red_flag"]], ids=lambda c: c["text"][:60])
def test_every_story_of_the_warning_signs_is_a_red_flag_for_the_right_person(matcher, case) -> None:
    found = _red_flags(matcher, case["text"])
    assert found
    assert any((m.role == "other") == (case["about"] == "other") for m in found)


@pytest.mark.parametrize("case", [c for c in CASES if not c["red_flag"]], ids=lambda c: c["text"][:60])
def test_ordinary_leg_soreness_is_not(matcher, case) -> None:
    assert _red_flags(matcher, case["text"]) == []


@pytest.mark.parametrize("text", [
    "So I had my knee scope about three weeks ago and everything went fine, physio is going ok, but the last "
    "couple of days the back of my left leg feels really hot and it's way bigger than the right one. My sister "
    "said a massage would loosen it up, is that a good idea?",
    "one leg is puffy and aches since I gave birth three weeks ago",
    "my calf is tight and twice the size of the other one",
])
def test_the_issue_examples(matcher, text) -> None:
    assert [m.value for m in _red_flags(matcher, text)] == ["calf_clot_signs"]


def test_recent_childbirth_asks_for_medical_clearance(matcher) -> None:
    assert "recent_childbirth" in {m.value for m in matcher.find("i gave birth five weeks ago, is a massage ok?")}
