"""Recall and precision per class on the held-out set in unseen_set.yml.

The set was written before any tuning and is never used to add vocabulary or training examples:
it estimates how the assistant does on wording it has not seen. Classes:

- conditions and red flags (absolute, relative, red_flags) and `unknown` (a condition of the
  person's own the knowledge base has no guidance for), found the way the assistant finds them:
  vocabulary matcher -> profile -> screening;
- `audience` (who the person is, ages included) and `one_time` (a one-off event to recover from);
- `topic` (aftercare, first_visit) from the trained model's intent, and the first-visit
  `etiquette` entity, when a model is given (`--model`).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import yaml

from bot.advice.preface import UNKNOWN_CONDITION, own_mentions
from bot.advice.profile import Profile
from bot.advice.safety import screen
from bot.knowledge.loader import read_knowledge_base
from bot.nlu.matcher import VocabularyMatcher
from tests.safety.evaluate import ClassScore

UNSEEN_SET = Path(__file__).resolve().parent / "unseen_set.yml"
TOPIC_INTENTS = {"ask_aftercare": "aftercare", "ask_first_visit": "first_visit"}
ONE_TIME_GOAL = "quick_relief"


def load_cases(path: Path = UNSEEN_SET) -> List[Dict]:
    return yaml.safe_load(path.read_text())["cases"]


def predict(text: str, matcher: VocabularyMatcher, severities: Dict[str, str],
            parse: Optional[Dict] = None) -> Dict[str, Set[str]]:
    entities = [m.as_entity("unseen") for m in matcher.find(text)]
    profile = Profile.from_turns([entities])
    screening = screen(replace(profile, red_flags=[]), severities)
    found: Dict[str, Set[str]] = {
        "absolute": set(screening.absolute),
        "relative": set(screening.relative),
        "red_flags": set(profile.red_flags),
        "unknown": {"unknown"} if own_mentions(entities, UNKNOWN_CONDITION) else set(),
        "audience": set(profile.audiences) - {"pregnant"},
        "one_time": {"one_time"} if ONE_TIME_GOAL in profile.goals else set(),
    }
    if parse is not None:
        topic = TOPIC_INTENTS.get((parse.get("intent") or {}).get("name") or "")
        found["topic"] = {topic} if topic else set()
        found["etiquette"] = {e["value"] for e in parse.get("entities") or [] if e.get("entity") == "etiquette"}
    return found


def expected(case: Dict) -> Dict[str, Set[str]]:
    return {
        "absolute": set(case.get("absolute") or []),
        "relative": set(case.get("relative") or []),
        "red_flags": set(case.get("red_flags") or []),
        "unknown": {"unknown"} if case.get("unknown") else set(),
        "audience": set(case.get("audience") or []) - {"pregnant"},
        "one_time": {"one_time"} if case.get("one_time") else set(),
        "topic": {case["topic"]} if case.get("topic") else set(),
        "etiquette": {case["etiquette"]} if case.get("etiquette") else set(),
    }


def _parse_all(model: Path, texts: List[str]) -> List[Dict]:
    from tests.nlu.evaluate import _parse_all as parse_all

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, parse_all(model, texts)).result()


def evaluate(model: Optional[Path] = None, path: Path = UNSEEN_SET) -> Tuple[Dict[str, ClassScore], List[str]]:
    kb = read_knowledge_base()
    matcher = VocabularyMatcher(kb.synonyms())
    severities = {c["id"]: c["severity"] for c in kb.entries["conditions"]}
    cases = load_cases(path)
    parses: List[Optional[Dict]] = _parse_all(model, [c["text"] for c in cases]) if model else [None] * len(cases)
    scores: Dict[str, ClassScore] = {}
    errors: List[str] = []
    for case, parse in zip(cases, parses):
        found = predict(case["text"], matcher, severities, parse)
        gold = expected(case)
        for group, labels in found.items():
            for label in gold[group] | labels:
                score = scores.setdefault(f"{group}:{label}", ClassScore(label, group))
                if label in gold[group] and label in labels:
                    score.tp += 1
                elif label in gold[group]:
                    score.fn += 1
                    errors.append(f"missed {group}:{label}: {case['text']!r}")
                else:
                    score.fp += 1
                    errors.append(f"false {group}:{label}: {case['text']!r}")
    return scores, errors


def table(scores: Dict[str, ClassScore]) -> str:
    lines = ["| group | class | recall | precision | found | missed | false |", "|---|---|---|---|---|---|---|"]
    for key in sorted(scores, key=lambda k: (scores[k].group, scores[k].label)):
        s = scores[key]
        lines.append(f"| {s.group} | {s.label} | {s.recall:.2f} | {s.precision:.2f} | {s.tp} | {s.fn} | {s.fp} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=None, help="trained model, to score topics too")
    args = parser.parse_args()
    scores, errors = evaluate(args.model)
    for error in errors:
        print(error)
    print(table(scores))
    fired, total, texts = unknown_condition_rate()
    print(f"unknown-condition reply on the held-out NLU set: {fired} of {total} messages ({fired / total:.1%})")
    for text in texts:
        print(f"  fires on: {text!r}")
    return 0



def unknown_condition_rate(matcher: Optional[VocabularyMatcher] = None) -> Tuple[int, int, List[str]]:
    """How often the "no specific guidance, check with your doctor" reply would fire on ordinary
    messages: the held-out NLU set, where nobody reports an unusual condition."""
    from tests.nlu.evaluate import load_examples

    matcher = matcher or VocabularyMatcher(read_knowledge_base().synonyms())
    texts = [text for text, _, _ in load_examples()]
    fired = [t for t in texts if own_mentions([m.as_entity("rate") for m in matcher.find(t)], UNKNOWN_CONDITION)]
    return len(fired), len(texts), fired


if __name__ == "__main__":
    sys.exit(main())
