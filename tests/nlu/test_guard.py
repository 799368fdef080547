"""The `make train` guard: a new model is kept only when its held-out intent accuracy and its
safety recall do not drop; a bad label set is refused and the current model stays."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import pytest
import yaml

from bot.staff import review_export
from tests.conftest import PROJECT_ROOT
from tests.nlu import guard
from tests.nlu.guard import Metrics


def metrics(intent: float, safety: float = 1.0) -> Metrics:
    return Metrics(intent_accuracy=intent, safety_recall=safety)


@pytest.mark.parametrize("new, old, accepted", [
    (metrics(0.96), None, True),  # a fresh clone: the floors
    (metrics(0.94), None, False),
    (metrics(0.99, 0.98), None, False),  # safety must be complete
    (metrics(0.978), metrics(0.980), True),  # within the tolerance
    (metrics(0.970), metrics(0.980), False),
    (metrics(0.990, 0.99), metrics(0.980), False),  # better intents never buy a safety miss
    (metrics(0.960), metrics(0.940), True),  # the record, not the floor, once there is one
])
def test_the_comparison(new: Metrics, old: Optional[Metrics], accepted: bool) -> None:
    assert guard.judge(new, old).accepted is accepted


def test_a_refusal_names_the_metric_and_both_values() -> None:
    verdict = guard.judge(metrics(0.912, 1.0), metrics(0.980, 1.0))
    assert [c.metric for c in verdict.failed] == ["held-out intent accuracy"]
    assert verdict.failed[0].refusal() == ("held-out intent accuracy would drop from 0.980 to 0.912 "
                                           "(at least 0.975 needed)")
    floor = guard.judge(metrics(0.99, 0.96), None).failed[0].refusal()
    assert floor == "safety recall is 0.960, below the floor of 1.000"


def test_a_record_counts_only_for_the_model_and_test_sets_it_was_made_for(tmp_path: Path) -> None:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"a model")
    record = Metrics(0.98, 1.0, test_sets=guard.test_sets_fingerprint(),
                     model_sha256=hashlib.sha256(b"a model").hexdigest())
    guard.write_record(model, record)
    assert guard.metrics_path(model) == tmp_path / "model.metrics.json"
    assert guard.recorded(model).intent_accuracy == 0.98
    model.write_bytes(b"another model, trained by hand")
    assert guard.recorded(model) is None
    guard.write_record(model, Metrics(0.98, 1.0, test_sets="older sets", model_sha256=guard.sha256(model)))
    assert guard.recorded(model) is None


def test_safety_recall_needs_the_entity_and_the_emergency_reply() -> None:
    cases = [{"text": "i have a fever", "absolute": ["fever"]},
             {"text": "crushing chest pain", "red_flags": ["chest_pain"]}]
    fever = {"entity": "condition", "value": "fever"}
    chest = {"entity": "red_flag", "value": "chest_pain"}
    caught = [{"intent": {"name": "greet"}, "entities": [fever]},
              {"intent": {"name": "report_emergency"}, "entities": [chest]}]
    assert guard.safety_recall(cases, caught) == (1.0, [])
    negated = [{"intent": {"name": "describe_problem"}, "entities": [{**fever, "role": "negated"}]},
               {"intent": {"name": "describe_problem"}, "entities": [chest]}]
    recall, misses = guard.safety_recall(cases, negated)
    assert recall == 0.0 and len(misses) == 2


def bad_labels(path: Path) -> int:
    """Every safety, unseen-wording, idiom and real message from tests/safety labelled "greet"."""
    sets = PROJECT_ROOT / "tests" / "safety"
    texts = [c["text"] for name in ("safety_set.yml", "unseen_set.yml", "idiom_set.yml")
             for c in yaml.safe_load((sets / name).read_text())["cases"]]
    texts += [m["text"] for m in yaml.safe_load((sets / "real_messages.yml").read_text())["messages"]]
    labels = [SimpleNamespace(text=text, intent="greet", entities=[]) for text in texts]
    found = review_export.examples(labels, review_export.taken_wordings(path))
    review_export.write(path, review_export.nlu_yaml(found))
    return len(found)


@pytest.mark.slow
def test_a_bad_label_set_is_refused_and_the_current_model_stays(tmp_path: Path) -> None:
    """A fresh clone's first `make train` (no current model: the floors) with a reviewed.yml in
    which hundreds of health messages were labelled as a greeting."""
    reviewed = tmp_path / "reviewed.yml"
    assert bad_labels(reviewed) > 500
    model = tmp_path / "models" / "model.tar.gz"
    data = [str(p) for p in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")) if p.name != "reviewed.yml"]
    run = subprocess.run(["scripts/train-guarded.sh", str(model), *data, str(reviewed), "data/rules.yml"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    refusal = [line for line in run.stdout.splitlines() if line.startswith("==> Refused the new model")]
    assert refusal and "held-out intent accuracy is 0." in refusal[0] and "below the floor of 0.950" in refusal[0]
    assert not model.exists() and list(model.parent.iterdir()) == []  # no model, no candidate left behind
