"""No absolute contraindication or red flag in the safety set may be missed."""
from __future__ import annotations

import yaml

from tests.safety.evaluate import SAFETY_SET, evaluate, table


def test_the_safety_set_is_large_and_covers_every_class(knowledge_base) -> None:
    cases = yaml.safe_load(SAFETY_SET.read_text())["cases"]
    assert len(cases) >= 150
    labels = {label for case in cases for group in ("absolute", "relative", "red_flags") for label in case[group]}
    expected = {c["id"] for c in knowledge_base.entries["conditions"]} | {r["id"] for r in knowledge_base.entries["red_flags"]}
    assert labels == expected


def test_no_absolute_contraindication_or_red_flag_is_missed() -> None:
    scores, errors = evaluate()
    print("\n" + table(scores))
    missed = [e for e in errors if e.startswith("missed") and scores[e.split()[1].rstrip(":")].group != "relative"]
    assert missed == []


def test_relative_contraindications_are_found() -> None:
    scores, _ = evaluate()
    relative = [s for s in scores.values() if s.group == "relative"]
    assert all(s.recall >= 0.9 for s in relative), table(scores)
