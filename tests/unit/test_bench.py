"""The benchmark reuses a trained model only while its training inputs are unchanged, and says so."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List

import pytest

from bench import bots as bench_bots
from bench.report import markdown
from bench.servers import Bot


def _bot(project: Path) -> Bot:
    (project / "data").mkdir(parents=True)
    (project / "data" / "nlu.yml").write_text("nlu: []\n")
    (project / "config.yml").write_text("pipeline: []\n")
    (project / "domain.yml").write_text("intents: []\n")
    return Bot("demo", "demo bot", project, project / "config.yml", project / "domain.yml", ["data"], [], probe="hi")


@pytest.fixture
def trainings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> List[List[str]]:
    calls: List[List[str]] = []

    def fake_rasa_train(command: List[str], **kwargs: object) -> subprocess.CompletedProcess:
        calls.append(command)
        out = Path(command[command.index("--out") + 1])
        (out / f"{command[command.index('--fixed-model-name') + 1]}.tar.gz").write_bytes(b"model")
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(bench_bots, "OUT", tmp_path / "out")
    monkeypatch.setattr(bench_bots, "MODELS", tmp_path / "models")
    monkeypatch.setattr(bench_bots.subprocess, "run", fake_rasa_train)
    return calls


def test_unchanged_inputs_reuse_the_model_and_its_measured_time(tmp_path: Path, trainings: List[List[str]]) -> None:
    bot = _bot(tmp_path / "project")
    model, seconds, reused = bench_bots.train(bot)
    assert reused is None and len(trainings) == 1 and "--force" in trainings[0]

    again, seconds_again, reused_again = bench_bots.train(bot)
    assert len(trainings) == 1, "same inputs: no second training"
    assert again == model and seconds_again == pytest.approx(seconds)
    assert reused_again and reused_again.endswith("UTC")


def test_another_clone_with_the_same_inputs_reuses_the_model(tmp_path: Path, trainings: List[List[str]]) -> None:
    model, seconds, _ = bench_bots.train(_bot(tmp_path / "clone-1"))
    again, seconds_again, reused = bench_bots.train(_bot(tmp_path / "clone-2"))
    assert len(trainings) == 1 and again == model and reused and seconds_again == pytest.approx(seconds)
    assert model.parent == tmp_path / "models"


def test_changed_data_or_retrain_trains_again(tmp_path: Path, trainings: List[List[str]]) -> None:
    bot = _bot(tmp_path / "project")
    bench_bots.train(bot)
    (bot.project / "data" / "nlu.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hi\n")
    assert bench_bots.train(bot)[2] is None and len(trainings) == 2
    assert bench_bots.train(bot, reuse=False)[2] is None and len(trainings) == 3
    (bot.project / "data" / "more.yml").write_text("nlu: []\n")
    assert bench_bots.train(bot)[2] is None and len(trainings) == 4


def test_table_marks_reused_training_times() -> None:
    report = {
        "machine": {"cpu": "cpu", "cores": 2, "memory_gb": 24, "python": "3.10", "rasa": "3.6",
                    "date": "2026-11-28 12:00 UTC", "load_average": "0.1 0.1 0.1"},
        "mode": "make bench (full)", "load_seconds": 30,
        "results": {"ours": {"train_s": 250.0, "train_reused_from": "2026-11-28 11:00 UTC", "e2e_messages": 10},
                    "init": {"train_s": 60.0}},
    }
    table = markdown(report, {"ours": "ours", "init": "`rasa init` bot"})
    assert "| training time (s) | 250 [2] | 60 |" in table
    assert "[2] Not trained in this run" in table and "2026-11-28 11:00 UTC (ours)" in table
    report["results"]["ours"].pop("train_reused_from")
    assert "[2]" not in markdown(report, {"ours": "ours", "init": "`rasa init` bot"})
