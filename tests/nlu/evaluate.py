"""NLU quality on the held-out test set: intent accuracy, macro F1 and entity F1.

Entities count as correct only with the exact span and entity type (strict micro F1), whichever
component found them, so configurations with different extractors compare fairly.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Set, Tuple

TEST_SET = Path(__file__).resolve().parent / "test_nlu.yml"
# The assistant answers both the same way (action_default_fallback), so they count as a match.
EQUIVALENT_INTENTS = {("out_of_scope", "nlu_fallback")}
ENTITY_TYPES = {"technique", "body_part", "condition", "symptom", "goal", "audience", "red_flag", "pressure"}


@dataclass
class NluScores:
    examples: int
    intent_accuracy: float
    intent_macro_f1: float
    entity_precision: float
    entity_recall: float
    entity_f1: float
    intent_errors: List[Tuple[str, str, str]]


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def macro_f1(gold: List[str], predicted: List[str]) -> float:
    labels = sorted(set(gold))
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(_f1(precision, recall))
    return sum(scores) / len(scores) if scores else 0.0


def entity_set(entities: List[Dict]) -> Set[Tuple[int, int, str]]:
    return {
        (int(e["start"]), int(e["end"]), e["entity"])
        for e in entities
        if e.get("entity") in ENTITY_TYPES and "start" in e
    }


def score(examples: List[Tuple[str, str, List[Dict]]], parses: List[Dict]) -> NluScores:
    gold_intents = [intent for _, intent, _ in examples]
    predicted = []
    for gold, parse in zip(gold_intents, parses):
        name = (parse.get("intent") or {}).get("name") or ""
        predicted.append(gold if (gold, name) in EQUIVALENT_INTENTS else name)
    tp = fp = fn = 0
    for (_, _, gold_entities), parse in zip(examples, parses):
        gold, found = entity_set(gold_entities), entity_set(parse.get("entities") or [])
        tp += len(gold & found)
        fp += len(found - gold)
        fn += len(gold - found)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    errors = [(text, g, p) for (text, g, _), p in zip(examples, predicted) if g != p]
    return NluScores(
        examples=len(examples),
        intent_accuracy=sum(g == p for g, p in zip(gold_intents, predicted)) / len(examples),
        intent_macro_f1=macro_f1(gold_intents, predicted),
        entity_precision=precision,
        entity_recall=recall,
        entity_f1=_f1(precision, recall),
        intent_errors=errors,
    )


def load_examples(path: Path = TEST_SET) -> List[Tuple[str, str, List[Dict]]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent"), list(m.get("entities") or [])) for m in data.intent_examples]


async def _parse_all(model: Path, texts: List[str]) -> List[Dict]:
    import structlog
    from rasa.core.agent import Agent

    # Rasa logs each parsed message at debug level; the test messages need not be echoed.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def evaluate(model: Path, test_set: Path = TEST_SET) -> NluScores:
    """Parse every held-out example with the trained model and score it."""
    examples = load_examples(test_set)
    texts = [text for text, _, _ in examples]
    # Its own thread, so it also works where another event loop is running (e.g. under Playwright).
    with ThreadPoolExecutor(max_workers=1) as pool:
        parses = pool.submit(asyncio.run, _parse_all(model, texts)).result()
    return score(examples, parses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=Path("models/model.tar.gz"))
    parser.add_argument("--test-set", type=Path, default=TEST_SET)
    parser.add_argument("--json", type=Path, default=None, help="also write the scores here")
    args = parser.parse_args()
    scores = evaluate(args.model, args.test_set)
    for text, gold, predicted in scores.intent_errors:
        print(f"  intent error: {text!r}: expected {gold}, got {predicted}")
    print(
        f"held-out NLU ({scores.examples} examples): intent accuracy {scores.intent_accuracy:.3f}, "
        f"intent macro F1 {scores.intent_macro_f1:.3f}, entity precision {scores.entity_precision:.3f}, "
        f"recall {scores.entity_recall:.3f}, F1 {scores.entity_f1:.3f}"
    )
    if args.json:
        args.json.write_text(json.dumps(asdict(scores), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
