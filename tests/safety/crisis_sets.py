"""The crisis layer measured on its sets, and every other message the tests and the bench send.

    .venv/bin/python -m tests.safety.crisis_sets     # recall, false alarms, tier agreement

- crisis_set.yml: messages from people in crisis (direct, indirect, misspelled, inside a massage
  question, about someone else): each must be found, for the right person, at least as urgent as
  labelled;
- idiom_set.yml: ordinary talk with the same words ("this knot is killing me"): none may be;
- everything else: the NLU training and held-out examples, the safety sets and the bench's
  conversations: none may be.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Tuple

import yaml

from bot.nlu.crisis import TIERS, find_crisis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CRISIS_SET = HERE / "crisis_set.yml"
IDIOM_SET = HERE / "idiom_set.yml"
ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass
class CrisisScore:
    found: int = 0
    total: int = 0
    missed: List[str] = field(default_factory=list)
    wrong_person: List[str] = field(default_factory=list)
    less_urgent: List[str] = field(default_factory=list)
    same_tier: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 1.0


def crisis_cases() -> List[dict]:
    return yaml.safe_load(CRISIS_SET.read_text())["cases"]


def idiom_cases() -> List[dict]:
    return yaml.safe_load(IDIOM_SET.read_text())["cases"]


def score_crisis_set() -> CrisisScore:
    score = CrisisScore()
    for case in crisis_cases():
        score.total += 1
        signal = find_crisis(case["text"])
        if signal is None:
            score.missed.append(case["text"])
            continue
        score.found += 1
        if signal.about != case["about"]:
            score.wrong_person.append(case["text"])
        if TIERS.index(signal.tier) > TIERS.index(case["tier"]):
            score.less_urgent.append(case["text"])
        score.same_tier += signal.tier == case["tier"]
    return score


def other_messages() -> Iterator[Tuple[str, str]]:
    """(where, text) for every message the project sends or trains on that is not about a crisis."""
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")) + [ROOT / "tests" / "nlu" / "test_nlu.yml"]:
        for item in yaml.safe_load(path.read_text()).get("nlu", []):
            if item.get("intent") == "report_crisis" or "examples" not in item:
                continue
            for line in item["examples"].splitlines():
                if line.strip().startswith("- "):
                    yield path.name, ANNOTATION.sub(r"\1", line.strip()[2:])
    for name in ("safety_set.yml", "unseen_set.yml"):
        for case in yaml.safe_load((HERE / name).read_text())["cases"]:
            yield name, case["text"]
    for name in ("conversations.yml", "init_conversations.yml"):
        yield from ((name, text) for text in _strings(yaml.safe_load((ROOT / "bench" / name).read_text())))
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if "crisis" in path.name:
            continue  # the crisis layer's own tests send crisis messages on purpose
        source = path.read_text()
        tree = ast.parse(source)
        # So do the tests elsewhere that check a crisis path (their function mentions it).
        skipped = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                   and "crisis" in (ast.get_source_segment(source, node) or "") for inner in ast.walk(node)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value
                    and id(node) not in skipped):
                yield path.name, node.value


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def false_alarms() -> Tuple[List[str], List[Tuple[str, str]], int]:
    """Idiom-set texts and other messages that set the crisis layer off, and how many were read."""
    idioms = [c["text"] for c in idiom_cases() if find_crisis(c["text"])]
    others = list(other_messages())
    return idioms, [(where, text) for where, text in others if find_crisis(text)], len(others)


def main() -> None:
    score = score_crisis_set()
    idioms, others, read = false_alarms()
    print(f"crisis set: {score.found}/{score.total} found (recall {score.recall:.2f}); "
          f"right person {score.found - len(score.wrong_person)}/{score.found}; "
          f"same tier {score.same_tier}/{score.found}; less urgent than labelled {len(score.less_urgent)}")
    for text in score.missed:
        print(f"  missed: {text}")
    print(f"idiom set: {len(idioms)} false alarms of {len(idiom_cases())}")
    print(f"other messages (NLU data, held-out set, safety sets, bench, tests): {len(others)} false alarms of {read}")
    for where, text in [("idiom_set.yml", t) for t in idioms] + others:
        print(f"  false alarm ({where}): {text}")


if __name__ == "__main__":
    main()
