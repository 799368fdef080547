"""make bench / make bench-quick: our bot against Rasa's default configuration and Rasa's starter bot.

Full (`python -m bench.run`): trains each bot from scratch (empty cache, so training time is
real) unless the model from an earlier run was trained on the same inputs (then that model and
the training time measured then are reused; `--retrain` trains all again), scores NLU on the held-out set, then serves each bot the same way, one at
a time, and measures it: cold start, /model/parse (also at 1k/10k/100k characters), replies one
message at a time (with template vs custom-action turns and CPU per reply), a 100-turn
conversation, and 20 and 50 concurrent conversations. Writes bench/results.json and
bench/RESULTS.md and prints the table.

Quick (`--quick`, under 3 minutes): reuses models/model.tar.gz and the starter bot's model from
the last run (trains it once if missing), skips the default configuration and NLU scoring, and
runs the load levels for 10 s each. Writes bench/out/quick.json and prints the table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from bench import measure
from bench.bots import MODELS, OUT, bots, train
from bench.report import markdown
from bench.servers import ROOT, Bot, peak_rss_mb, start

LOAD_LEVELS = (20, 50)


def machine() -> Dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    import rasa

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "rasa": rasa.__version__, "os": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average": " ".join(f"{v:.2f}" for v in os.getloadavg())}


_STARTED = time.monotonic()


def step(bot: Bot, text: str) -> None:
    """Progress on stdout, with the minutes and seconds since the run started."""
    minutes, seconds = divmod(int(time.monotonic() - _STARTED), 60)
    print(f"==> [{minutes:02d}:{seconds:02d}] {bot.name}: {text}", flush=True)


def measure_bot(bot: Bot, model: Path, load_seconds: float, long_texts: bool,
                nlu_quality: bool = False) -> Dict[str, Any]:
    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as workdir:
        step(bot, "starting the servers")
        servers = start(bot, model, Path(workdir))
        try:
            results["cold_start_s"] = servers.cold_start_s
            step(bot, "/model/parse latency")
            results.update(measure.parse_latency(servers, bot.scripts))
            step(bot, "replies one message at a time")
            results.update(measure.sequential(servers, bot.scripts))
            step(bot, f"a {max(measure.LONG_TURNS)}-turn conversation")
            results.update(measure.long_conversation(servers, bot.scripts, bot.probe))
            for visitors in LOAD_LEVELS:
                step(bot, f"{visitors} concurrent conversations for {load_seconds:.0f} s")
                results.update(measure.load(servers, bot.scripts, visitors, load_seconds))
            results["rasa_peak_rss_mb"] = peak_rss_mb(servers.rasa.pid)
            if long_texts:
                step(bot, "/model/parse of 1k, 10k and 100k characters")
                results.update(measure.parse_by_length(servers))
            if nlu_quality:
                step(bot, "NLU quality on the held-out set")
                results.update(measure.nlu_quality(servers))
        finally:
            rasa_peak, results["actions_peak_rss_mb"] = servers.stop()
            results.setdefault("rasa_peak_rss_mb", rasa_peak)
            if long_texts:
                results["rasa_peak_rss_long_mb"] = rasa_peak
    return results


def full(load_seconds: float, retrain: bool) -> Dict[str, Any]:
    report: Dict[str, Any] = {"machine": machine(), "mode": "make bench (full)", "load_seconds": load_seconds,
                              "results": {}}
    for name, bot in bots().items():
        step(bot, "training (empty cache), unless its inputs are those of the last trained model")
        model, train_s, trained_at = train(bot, reuse=not retrain)
        results: Dict[str, Any] = {"train_s": train_s}
        if trained_at:
            step(bot, f"reusing the model trained {trained_at} on the same inputs")
            results["train_reused_from"] = trained_at
        results.update(measure_bot(bot, model, load_seconds, long_texts=name != "init",
                                   nlu_quality=bot.project == ROOT))
        report["results"][name] = results
    return report


def quick(load_seconds: float, only: List[str]) -> Dict[str, Any]:
    report: Dict[str, Any] = {"machine": machine(), "mode": "make bench-quick (trained models reused)",
                              "load_seconds": load_seconds, "results": {}}
    all_bots = bots()
    models = {"ours": ROOT / "models" / "model.tar.gz", "init": MODELS / "init.tar.gz"}
    for name, model in models.items():
        if only and name not in only:
            continue
        bot = all_bots[name]
        if not model.exists():
            step(bot, "training (no model to reuse yet)")
            model, _, _ = train(bot)
        report["results"][name] = measure_bot(bot, model, load_seconds, long_texts=name == "ours")
    return report


def main(argv: List[str] = sys.argv[1:]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="reuse trained models, shorter load (inner loop)")
    parser.add_argument("--load-seconds", type=float, default=None,
                        help="seconds per load level (default: $BENCH_LOAD_SECONDS, else 30 full / 10 quick)")
    parser.add_argument("--retrain", action="store_true",
                        help="full run: train every bot again even if its inputs are unchanged "
                             "(default: $BENCH_RETRAIN)")
    parser.add_argument("--bots", nargs="*", default=[], help="with --quick: only these bots (ours, init)")
    args = parser.parse_args(argv)
    load_seconds = args.load_seconds or float(os.environ.get("BENCH_LOAD_SECONDS", 10 if args.quick else 30))
    started = time.monotonic()
    retrain = args.retrain or os.environ.get("BENCH_RETRAIN", "") not in ("", "0")
    report = quick(load_seconds, args.bots) if args.quick else full(load_seconds, retrain)
    report["duration_s"] = time.monotonic() - started
    labels = {name: bot.label for name, bot in bots().items()}
    OUT.mkdir(parents=True, exist_ok=True)
    results_file = OUT / "quick.json" if args.quick else ROOT / "bench" / "results.json"
    results_file.write_text(json.dumps(report, indent=2))
    table = markdown(report, labels)
    if not args.quick:
        (ROOT / "bench" / "RESULTS.md").write_text("# Benchmark results\n\n" + table)
    print("\n" + table + f"\nTook {report['duration_s'] / 60:.1f} minutes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
