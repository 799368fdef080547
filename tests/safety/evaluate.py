"""Recall and precision of the safety layer on the labelled set in safety_set.yml.

Runs the same path as the assistant: vocabulary matcher -> profile -> screening.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, List, Set, Tuple

import yaml

from bot.advice.profile import Profile
from bot.advice.safety import screen
from bot.knowledge.loader import read_knowledge_base
from bot.nlu.matcher import VocabularyMatcher

SAFETY_SET = Path(__file__).resolve().parent / "safety_set.yml"
GROUPS = ("absolute", "relative", "red_flags")


@dataclass
class ClassScore:
    label: str
    group: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def classify(text: str, matcher: VocabularyMatcher, severities: Dict[str, str]) -> Dict[str, Set[str]]:
    profile = Profile.from_turns([[m.as_entity("safety") for m in matcher.find(text)]])
    red_flags = set(profile.red_flags)
    conditions = screen(replace(profile, red_flags=[]), severities)
    return {"absolute": set(conditions.absolute), "relative": set(conditions.relative), "red_flags": red_flags}


def evaluate(path: Path = SAFETY_SET) -> Tuple[Dict[str, ClassScore], List[str]]:
    kb = read_knowledge_base()
    matcher = VocabularyMatcher(kb.synonyms())
    severities = {c["id"]: c["severity"] for c in kb.entries["conditions"]}
    cases = yaml.safe_load(path.read_text())["cases"]
    scores: Dict[str, ClassScore] = {}
    errors: List[str] = []
    for case in cases:
        found = classify(case["text"], matcher, severities)
        for group in GROUPS:
            expected = set(case.get(group) or [])
            for label in expected | found[group]:
                score = scores.setdefault(label, ClassScore(label, group))
                if label in expected and label in found[group]:
                    score.tp += 1
                elif label in expected:
                    score.fn += 1
                    errors.append(f"missed {label}: {case['text']!r}")
                else:
                    score.fp += 1
                    errors.append(f"false {label}: {case['text']!r}")
    return scores, errors


def table(scores: Dict[str, ClassScore]) -> str:
    lines = ["| class | group | recall | precision | found | missed | false |", "|---|---|---|---|---|---|---|"]
    for group in GROUPS:
        for score in sorted((s for s in scores.values() if s.group == group), key=lambda s: s.label):
            lines.append(f"| {score.label} | {group} | {score.recall:.2f} | {score.precision:.2f} | "
                         f"{score.tp} | {score.fn} | {score.fp} |")
        members = [s for s in scores.values() if s.group == group]
        tp, fp, fn = (sum(getattr(s, k) for s in members) for k in ("tp", "fp", "fn"))
        total = ClassScore("all", group, tp, fp, fn)
        lines.append(f"| **all {group}** | {group} | {total.recall:.2f} | {total.precision:.2f} | {tp} | {fn} | {fp} |")
    return "\n".join(lines)


def main() -> int:
    scores, errors = evaluate()
    for error in errors:
        print(error)
    print(table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
