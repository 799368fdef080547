"""The accuracy guard of `make train`: a newly trained model replaces the current one only if it
understands the held-out test set as well and misses no safety case that the current one catches.

Staff labels (data/nlu/reviewed.yml, from /staff/review) retrain the model without a developer
looking, so a careless or malicious label set must not make the assistant worse. The candidate
is measured on
- intent accuracy on the held-out set tests/nlu/test_nlu.yml (tests/nlu/evaluate.py's scoring);
- safety recall: of the absolute contraindications and red flags in tests/safety/safety_set.yml,
  the share the model's own parse carries (the same profile -> screening path as
  tests/safety/evaluate.py, with the entities the trained pipeline found), a red flag also
  having to come out as report_emergency;
and compared with what was recorded for the current model (models/model.metrics.json, written
when it was accepted). With no record that still matches the current model and the test sets,
the current model is measured again; with no current model (a fresh clone) the floors apply.
Intent accuracy may drop by INTENT_TOLERANCE (two or three held-out examples: retraining alone
moves it that much); safety recall may not drop at all and never below SAFETY_FLOOR.

    .venv/bin/python -m tests.nlu.guard --candidate DIR/model.tar.gz --model models/model.tar.gz

exits 1 and leaves the current model alone when the candidate is refused; TRAIN_GUARD=off
accepts it anyway (say why in the commit).
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from tests.nlu.evaluate import TEST_SET, load_examples, score
from tests.safety.evaluate import SAFETY_SET

INTENT_FLOOR = 0.95  # tests/nlu/test_nlu_quality.py's bar
SAFETY_FLOOR = 1.0
INTENT_TOLERANCE = 0.005
EMERGENCY_INTENT = "report_emergency"
METRICS_SUFFIX = ".metrics.json"


@dataclass
class Metrics:
    intent_accuracy: float
    safety_recall: float
    entity_f1: float = 0.0
    test_sets: str = ""  # fingerprint of the sets measured on: a record of other sets is not comparable
    model_sha256: str = ""
    intent_errors: List[Tuple[str, str, str]] = field(default_factory=list)
    safety_misses: List[str] = field(default_factory=list)


@dataclass
class Check:
    metric: str
    new: float
    old: Optional[float]  # None: no current model, the floor applies
    bar: float

    @property
    def passed(self) -> bool:
        return self.new >= self.bar - 1e-9

    def __str__(self) -> str:
        before = f"was {self.old:.3f}" if self.old is not None else "no current model"
        return f"{self.metric}: {self.new:.3f} ({before}; at least {self.bar:.3f} needed)"

    def refusal(self) -> str:
        if self.old is None:
            return f"{self.metric} is {self.new:.3f}, below the floor of {self.bar:.3f}"
        return f"{self.metric} would drop from {self.old:.3f} to {self.new:.3f} (at least {self.bar:.3f} needed)"


@dataclass
class Verdict:
    checks: List[Check]

    @property
    def accepted(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> List[Check]:
        return [c for c in self.checks if not c.passed]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def test_sets_fingerprint(paths: Sequence[Path] = (TEST_SET, SAFETY_SET)) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def safety_cases(path: Path = SAFETY_SET) -> List[Dict[str, Any]]:
    """The cases the model must not miss: an absolute contraindication or a red flag of their own."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    return [c for c in cases if c.get("absolute") or c.get("red_flags")]


def safety_recall(cases: List[Dict[str, Any]], parses: List[Dict[str, Any]]) -> Tuple[float, List[str]]:
    """Share of expected absolute contraindications and red flags found in the model's parses."""
    from bot.advice.profile import Profile
    from bot.advice.safety import screen
    from bot.knowledge.loader import read_knowledge_base

    severities = {c["id"]: c["severity"] for c in read_knowledge_base().entries["conditions"]}
    found = missed = 0
    misses: List[str] = []
    for case, parse in zip(cases, parses):
        profile = Profile.from_turns([parse.get("entities") or []])
        absolute = set(screen(replace(profile, red_flags=[]), severities).absolute)
        emergency = (parse.get("intent") or {}).get("name") == EMERGENCY_INTENT
        expected = [(label, label in absolute) for label in case.get("absolute") or []]
        expected += [(label, label in profile.red_flags and emergency) for label in case.get("red_flags") or []]
        for label, caught in expected:
            found, missed = found + caught, missed + (not caught)
            if not caught:
                misses.append(f"missed {label}: {case['text']!r}")
    total = found + missed
    return (found / total if total else 1.0), misses


async def _parse(model: Path, texts: List[str]) -> List[Dict[str, Any]]:
    from tests.nlu.evaluate import _parse_all

    return await _parse_all(model, texts)


def measure(model: Path) -> Metrics:
    """Both metrics of one model, with one load of it."""
    examples = load_examples(TEST_SET)
    cases = safety_cases()
    texts = [text for text, _, _ in examples] + [c["text"] for c in cases]
    with ThreadPoolExecutor(max_workers=1) as pool:
        parses = pool.submit(asyncio.run, _parse(model, texts)).result()
    nlu = score(examples, parses[:len(examples)])
    recall, misses = safety_recall(cases, parses[len(examples):])
    return Metrics(intent_accuracy=nlu.intent_accuracy, safety_recall=recall, entity_f1=nlu.entity_f1,
                   test_sets=test_sets_fingerprint(), model_sha256=sha256(model),
                   intent_errors=nlu.intent_errors, safety_misses=misses)


def judge(new: Metrics, old: Optional[Metrics]) -> Verdict:
    """Accept the new model only if neither metric fell (pure: the comparison the guard makes)."""
    if old is None:
        return Verdict([Check("held-out intent accuracy", new.intent_accuracy, None, INTENT_FLOOR),
                        Check("safety recall", new.safety_recall, None, SAFETY_FLOOR)])
    return Verdict([
        Check("held-out intent accuracy", new.intent_accuracy, old.intent_accuracy, old.intent_accuracy - INTENT_TOLERANCE),
        Check("safety recall", new.safety_recall, old.safety_recall, max(old.safety_recall, SAFETY_FLOOR)),
    ])


def metrics_path(model: Path) -> Path:
    return model.with_name(model.name.split(".")[0] + METRICS_SUFFIX)


def recorded(model: Path) -> Optional[Metrics]:
    """The metrics written when the current model was accepted, if they still describe it."""
    path = metrics_path(model)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        metrics = Metrics(**{k: v for k, v in data.items() if k in Metrics.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None
    if metrics.test_sets != test_sets_fingerprint() or metrics.model_sha256 != sha256(model):
        return None
    return metrics


def baseline(model: Path, say: Any = print) -> Optional[Metrics]:
    """What the candidate must match: the current model's record, or its measure, or nothing."""
    if not model.exists():
        say("==> No current model: the candidate must reach the floors.")
        return None
    found = recorded(model)
    if found is not None:
        return found
    say(f"==> Measuring the current model ({model}): it has no up-to-date record.")
    try:
        return measure(model)
    except Exception as error:  # a model this Rasa cannot load is no baseline
        say(f"==> The current model cannot be measured ({type(error).__name__}): the floors apply.")
        return None


def write_record(model: Path, metrics: Metrics) -> None:
    record = asdict(metrics)
    record["intent_errors"] = [list(e) for e in metrics.intent_errors]
    metrics_path(model).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def accept(candidate: Path, model: Path, forced: bool = False, say: Any = print) -> int:
    """Measure the candidate, compare, and move it into place when it is not worse (0), else 1."""
    started = time.monotonic()
    new = measure(candidate)
    old = baseline(model, say)
    verdict = judge(new, old)
    for check in verdict.checks:
        say(f"    {check}")
    if not verdict.accepted and not forced:
        for text, gold, predicted in new.intent_errors[:15]:
            say(f"    intent error: {text!r}: expected {gold}, got {predicted}")
        for miss in new.safety_misses[:15]:
            say(f"    safety: {miss}")
        say(f"==> Refused the new model: {'; '.join(c.refusal() for c in verdict.failed)}. {model} is unchanged. "
            "If data/nlu/reviewed.yml changed, check its labels on /staff/review; TRAIN_GUARD=off accepts "
            "the model anyway.")
        return 1
    if not verdict.accepted:
        say("==> TRAIN_GUARD=off: accepting a model the guard would refuse.")
    model.parent.mkdir(parents=True, exist_ok=True)
    os.replace(candidate, model)
    write_record(model, new)
    say(f"==> New model accepted ({model}); the guard took {time.monotonic() - started:.0f} s.")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Keep a newly trained model only when it is not worse.")
    parser.add_argument("--candidate", type=Path, required=True, help="the model just trained")
    parser.add_argument("--model", type=Path, default=Path("models/model.tar.gz"), help="the current model")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # Rasa's deprecation notices while loading a model are not the guard's news
    logging.getLogger().setLevel(logging.ERROR)
    forced = os.environ.get("TRAIN_GUARD", "").strip().lower() in ("off", "0", "no", "false")
    return accept(args.candidate, args.model, forced)


if __name__ == "__main__":
    sys.exit(main())
