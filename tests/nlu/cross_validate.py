"""Choose the intent model's C on the training data alone: k-fold accuracy per candidate value.

The held-out set (tests/nlu/test_nlu.yml) stays out of the choice, so its score remains an honest
estimate. A prediction counts as FallbackClassifier would leave it (config.yml's threshold and
ambiguity): a fallback is right only for out_of_scope.

    .venv/bin/python -m tests.nlu.cross_validate [--c 0.1 0.3 0.5 1 3] [--folds 5]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np
from sklearn.model_selection import StratifiedKFold

from bot.nlu.intent_model import IntentModel, IntentModelSettings

CONFIG = Path(__file__).resolve().parents[2] / "config.yml"


def fallback_thresholds(config: Path = CONFIG) -> Tuple[float, float]:
    """config.yml's FallbackClassifier threshold and ambiguity threshold."""
    from rasa.shared.utils.io import read_yaml_file

    fallback = next(c for c in read_yaml_file(config)["pipeline"] if c["name"] == "FallbackClassifier")
    return float(fallback["threshold"]), float(fallback["ambiguity_threshold"])


def after_fallback(model: IntentModel, text: str, thresholds: Tuple[float, float]) -> str:
    """The intent the pipeline would report for this text."""
    (best, first), (_, second) = model.ranking(text, length=2)
    threshold, ambiguity = thresholds
    if first < threshold or first - second < ambiguity:
        return "nlu_fallback"
    return best


def cross_validated_accuracy(texts: Sequence[str], labels: Sequence[str], c: float, folds: int) -> Tuple[float, float]:
    """Accuracy of the top intent, and after the fallback rule, over k folds of the training data."""
    y = np.asarray(labels)
    thresholds = fallback_thresholds()
    raw: List[bool] = []
    kept: List[bool] = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, y):
        model = IntentModel.fit([texts[i] for i in train], y[train].tolist(), IntentModelSettings(c=c))
        for i in test:
            predicted = after_fallback(model, texts[i], thresholds)
            raw.append(model.ranking(texts[i], length=1)[0][0] == y[i])
            kept.append(predicted == y[i] or (y[i] == "out_of_scope" and predicted == "nlu_fallback"))
    return float(np.mean(raw)), float(np.mean(kept))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--c", type=float, nargs="+", default=[0.1, 0.3, 0.5, 1.0, 3.0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--data", default="data/nlu")
    args = parser.parse_args()
    from rasa.shared.nlu.training_data.loading import load_data

    examples = [m for m in load_data(args.data).intent_examples if m.get("text") and m.get("intent")]
    texts, labels = [m.get("text") for m in examples], [m.get("intent") for m in examples]
    print(f"{len(texts)} training examples, {len(set(labels))} intents, {args.folds} folds")
    for c in args.c:
        raw, kept = cross_validated_accuracy(texts, labels, c, args.folds)
        print(f"C = {c:g}: top intent {raw:.3f}, after the fallback rule {kept:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
