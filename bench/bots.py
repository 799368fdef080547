"""The three bots the benchmark compares, and training them.

- ours: config.yml on our data, served as `make run` serves it (SQLite tracker store, action server);
- default: Rasa's default pipeline and policies (bench/default_config.yml) on our data, same serving;
- init: Rasa's starter bot as `rasa init` creates it (its own config, domain and data, no custom
  actions), served with the in-memory tracker store: the floor of a Rasa server's per-turn cost.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from bench.servers import BIN, ROOT, Bot

OUT = ROOT / "bench" / "out"
INIT_PROJECT = OUT / "init-project"


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


def train(bot: Bot) -> Tuple[Path, float]:
    """Train from scratch (empty cache, two threads) and time it; the model goes to bench/out."""
    if bot.name == "init":
        init_project()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, RASA_CACHE_DIRECTORY=cache, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "rasa"), "train", "--config", str(bot.config), "--domain", str(bot.domain), "--data",
             *bot.data, "--out", str(OUT), "--fixed-model-name", bot.name, "--num-threads", "2"],
            cwd=bot.project, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return OUT / f"{bot.name}.tar.gz", time.monotonic() - started
