"""Choose the intent model's C on the training data alone: k-fold accuracy per candidate value.

The held-out set (tests/nlu/test_nlu.yml) stays out of the choice, so its score remains an honest
estimate. A prediction counts as FallbackClassifier would leave it (config.yml's threshold and
ambiguity): a fallback is right only for out_of_scope.

    .venv/bin/python -m tests.nlu.cross_validate [--c 0.1 0.3 0.5 1 3] [--folds 5]
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Sequence, Tuple

import numpy as np
from sklearn.model_selection import StratifiedKFold

from bot.nlu.intent_model import IntentModel, IntentModelSettings

FALLBACK_THRESHOLD = 0.3
AMBIGUITY_THRESHOLD = 0.1


def after_fallback(model: IntentModel, text: str) -> str:
    """The intent the pipeline would report for this text."""
    (best, first), (_, second) = model.ranking(text, length=2)
    if first < FALLBACK_THRESHOLD or first - second < AMBIGUITY_THRESHOLD:
        return "nlu_fallback"
    return best


def cross_validated_accuracy(texts: Sequence[str], labels: Sequence[str], c: float, folds: int) -> Tuple[float, float]:
    """Accuracy of the top intent, and after the fallback rule, over k folds of the training data."""
    y = np.asarray(labels)
    raw: List[bool] = []
    kept: List[bool] = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, y):
        model = IntentModel.fit([texts[i] for i in train], y[train].tolist(), IntentModelSettings(c=c))
        for i in test:
            predicted = after_fallback(model, texts[i])
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
