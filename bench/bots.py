"""The three bots the benchmark compares, and training them.

- ours: config.yml on our data, served as `make run` serves it (SQLite tracker store, action server);
- default: Rasa's default pipeline and policies (bench/default_config.yml) on our data, same serving;
- init: Rasa's starter bot as `rasa init` creates it (its own config, domain and data, no custom
  actions), served with the in-memory tracker store: the floor of a Rasa server's per-turn cost.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bench.servers import BIN, ROOT, Bot

OUT = ROOT / "bench" / "out"
INIT_PROJECT = OUT / "init-project"


def _model_cache() -> Path:
    """Where trained models are kept between runs, and between clones of the project on one
    machine (a model is reused only for the same training inputs): $BENCH_MODEL_CACHE, else
    massage-therapy-assistant/bench-models in the user's cache directory."""
    configured = os.environ.get("BENCH_MODEL_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "massage-therapy-assistant" / "bench-models"


MODELS = _model_cache()


def _scripts(name: str) -> List[List[str]]:
    return yaml.safe_load((ROOT / "bench" / name).read_text())["conversations"]


def init_project() -> Path:
    """A fresh copy of the project `rasa init --no-prompt` creates (without its training run)."""
    from rasa.cli.scaffold import create_initial_project

    shutil.rmtree(INIT_PROJECT, ignore_errors=True)
    INIT_PROJECT.mkdir(parents=True)
    create_initial_project(str(INIT_PROJECT))
    return INIT_PROJECT


def bots() -> Dict[str, Bot]:
    ours = _scripts("conversations.yml")
    starter = _scripts("init_conversations.yml")
    # As many messages as ours, so both sequential runs have the same weight.
    starter = starter * max(1, round(sum(map(len, ours)) / sum(map(len, starter))))
    data = ["data/nlu", "data/rules.yml"] + (["data/stories.yml"] if (ROOT / "data" / "stories.yml").exists() else [])
    return {
        "ours": Bot("ours", "ours", ROOT, ROOT / "config.yml", ROOT / "domain.yml", data, ours,
                    probe="what are the benefits"),
        "default": Bot("default", "Rasa default config", ROOT, ROOT / "bench" / "default_config.yml",
                       ROOT / "domain.yml", data, ours, probe="what are the benefits"),
        "init": Bot("init", "`rasa init` bot", INIT_PROJECT, INIT_PROJECT / "config.yml",
                    INIT_PROJECT / "domain.yml", ["data"], starter, probe="hello",
                    custom_actions=False, tracker_store="memory", credentials={"rest": None}),
    }


def _inputs(bot: Bot) -> List[Path]:
    paths = [bot.config, bot.domain]
    for entry in bot.data:
        path = bot.project / entry
        paths += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if bot.project == ROOT:
        # The vocabulary and the custom NLU components live outside Rasa's training data.
        paths += sorted((ROOT / "data" / "kb").glob("*.yml")) + sorted((ROOT / "bot" / "nlu").glob("*.py"))
    return paths


def inputs_digest(bot: Bot) -> str:
    """What a trained model depends on: Rasa's version and the bytes of every training input."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}".encode())
    for path in _inputs(bot):
        digest.update(str(path.relative_to(bot.project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def train(bot: Bot, reuse: bool = True) -> Tuple[Path, float, Optional[str]]:
    """The bot's model in MODELS, its training time, and when it was trained if reused.

    Training runs from scratch (empty cache, two threads) and is timed. When the model from an
    earlier run was trained on the same inputs (`inputs_digest`), it is reused with the training
    time measured then, and the date of that run is returned; `reuse=False` always trains.
    """
    if bot.name == "init":
        init_project()
    MODELS.mkdir(parents=True, exist_ok=True)
    model, record = MODELS / f"{bot.name}.tar.gz", MODELS / f"{bot.name}.train.json"
    digest = inputs_digest(bot)
    if reuse and model.exists() and record.exists():
        saved = json.loads(record.read_text())
        if saved.get("inputs") == digest:
            return model, float(saved["train_s"]), saved["trained_at"]
    record.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, RASA_CACHE_DIRECTORY=cache, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "rasa"), "train", "--config", str(bot.config), "--domain", str(bot.domain), "--data",
             *bot.data, "--out", str(MODELS), "--fixed-model-name", bot.name, "--num-threads", "2", "--force"],
            cwd=bot.project, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        train_s = time.monotonic() - started
    trained_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    record.write_text(json.dumps({"inputs": digest, "train_s": train_s, "trained_at": trained_at}))
    return model, train_s, None
