"""The trained model meets the quality bar on the held-out test set (never trained on)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.nlu.evaluate import TEST_SET, evaluate, load_examples

MODEL = Path(os.environ.get("MODEL", PROJECT_ROOT / "models" / "model.tar.gz"))
MIN_INTENT_ACCURACY = 0.95
MIN_ENTITY_F1 = 0.90


def test_the_test_set_is_held_out() -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    training = {m.get("text").lower() for m in load_data(str(PROJECT_ROOT / "data" / "nlu")).intent_examples}
    overlap = [text for text, _, _ in load_examples(TEST_SET) if text.lower() in training]
    assert overlap == []


def test_held_out_intent_accuracy_and_entity_f1() -> None:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make train`")
    scores = evaluate(MODEL)
    print(
        f"\nheld-out NLU: intent accuracy {scores.intent_accuracy:.3f}, macro F1 {scores.intent_macro_f1:.3f}, "
        f"entity F1 {scores.entity_f1:.3f} (P {scores.entity_precision:.3f}, R {scores.entity_recall:.3f})"
    )
    for text, gold, predicted in scores.intent_errors:
        print(f"  {text!r}: expected {gold}, got {predicted}")
    assert scores.intent_accuracy >= MIN_INTENT_ACCURACY
    assert scores.entity_f1 >= MIN_ENTITY_F1
