"""Where the Rasa server's CPU goes under the bench's load: py-spy on the running server.

    .venv/bin/pip install py-spy          # a profiling tool, not a project dependency
    .venv/bin/python -m bench.profile [--seconds 30] [--visitors 20] [--unpatched] [--actions]

Starts our bot as bench/run.py does (SQLite tracker store, action server), runs `visitors`
concurrent conversations, samples the Rasa server (or, with --actions, the action server) with
`py-spy record -f raw`, and prints the functions with the largest share of samples: inclusive
(the function or anything it calls) and self. `--unpatched` starts plain `rasa run` instead of
`python -m bot.server run`, to see the cost the patches remove.
"""
from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Dict, List, Tuple

from bench.bots import bots
from bench.measure import load
from bench.servers import BIN, start

ROOT = Path(__file__).resolve().parents[1]


def summarise(raw: Path, top: int) -> str:
    """Top functions by inclusive and self share of the samples in a py-spy raw (collapsed) file."""
    inclusive: Dict[str, int] = collections.Counter()
    own: Dict[str, int] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")[1:]]  # first frame: the thread
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"{total} samples", "", "| inclusive | self | function |", "|---:|---:|---|"]
    ranked: List[Tuple[str, int]] = sorted(inclusive.items(), key=lambda kv: -kv[1])
    shown = 0
    for frame, count in ranked:
        if any(skip in frame for skip in ("<module>", "run_forever", "_run_once", "_run (asyncio", "main (rasa")):
            continue
        lines.append(f"| {100 * count / total:.1f} % | {100 * own[frame] / total:.1f} % | `{frame}` |")
        shown += 1
        if shown >= top:
            break
    lines += ["", "Top self:", ""]
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"- {100 * count / total:.1f} % `{frame}`")
    return "\n".join(lines)


def _short(frame: str) -> str:
    """`function (path/to/site-packages/pkg/module.py:123)` -> `function (pkg/module.py)`."""
    name, _, location = frame.partition(" (")
    path = location.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.10/", str(ROOT) + "/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--unpatched", action="store_true")
    parser.add_argument("--actions", action="store_true", help="profile the action server instead")
    parser.add_argument("--long", action="store_true",
                        help="each visitor replays all scripts as one long conversation (cost of length)")
    parser.add_argument("--gil", action="store_true", help="only samples holding the GIL (Python CPU, no waits)")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "model.tar.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "profile.raw")
    args = parser.parse_args()
    bot = bots()["ours"]
    if args.long:
        bot.scripts = [[message for script in bot.scripts for message in script] * 2] * len(bot.scripts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        servers = start(bot, args.model, Path(workdir), rasa_entry=[str(BIN / "rasa")] if args.unpatched else None)
        try:
            load(servers, bot.scripts, args.visitors, 5)  # warm up
            pid = servers.actions.pid if args.actions else servers.rasa.pid
            spy = subprocess.Popen([str(BIN / "py-spy"), "record", "-p", str(pid), "-d", str(int(args.seconds)),
                                    "-r", "200", "-f", "raw", "-o", str(args.out), "--nonblocking"] + (["--gil"] if args.gil else []),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            result: Dict[str, float] = {}
            runner = threading.Thread(target=lambda: result.update(
                load(servers, bot.scripts, args.visitors, args.seconds)))
            runner.start()
            runner.join()
            spy.wait()
        finally:
            servers.stop()
    print({k: round(v, 1) for k, v in result.items()})
    print(summarise(args.out, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
