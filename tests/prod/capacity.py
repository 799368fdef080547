"""One Rasa replica against two on the same machine, for a lock store (the README's capacity
model and the lock store comparison; not part of CI):

    .venv/bin/python -m tests.prod.capacity [--lock-store postgres|redis] [--seconds 20]

Starts the production stack, then 8 conversations without pauses: straight to replica 1, then
through nginx to both; prints replies per second, p50/p95 and CPU seconds per reply (the Rasa
servers', the action servers' and nginx's). With --py-spy PATH (py-spy installed anywhere), both
replicas are profiled during the two-replica run and the functions taking the most of their CPU
are printed (inclusive, from py-spy's collapsed stacks).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Dict, List

from tests.prod import stack as st
from tests.prod.test_stack import load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lock-store", default="postgres", choices=["postgres", "redis"])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--py-spy", default="", help="path to py-spy: profile both replicas in the two-replica run")
    args = parser.parse_args()
    prod = st.start_stack(Path(tempfile.mkdtemp(prefix="capacity-")), LOCK_STORE=args.lock_store)
    try:
        actions = ["actions-1", "actions-2", "nginx"]
        load(prod, prod.port, ["rasa-1", "rasa-2"] + actions, seconds=5)  # warm both replicas
        one = load(prod, prod.replica_ports()[0], ["rasa-1"] + actions, seconds=args.seconds)
        profilers = []
        if args.py_spy:
            out = Path(tempfile.mkdtemp(prefix="py-spy-"))
            profilers = [subprocess.Popen([args.py_spy, "record", "-p", str(prod.pid(name)), "-d", str(int(args.seconds)),
                                           "-f", "raw", "-o", str(out / f"{name}.txt"), "-r", "50", "--nonblocking"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                         for name in ("rasa-1", "rasa-2")]
        before = cpu_by_process()
        two = load(prod, prod.port, ["rasa-1", "rasa-2"] + actions, seconds=args.seconds)
        spent = {k: round((v - before.get(k, 0)) / max(two["replies"], 1), 4) for k, v in cpu_by_process().items()}
        two["cpu_s_per_reply_by_process"] = dict(sorted(spent.items(), key=lambda kv: -kv[1]))
        for profiler in profilers:
            profiler.wait(timeout=60)
        if profilers:
            print(summarise([out / "rasa-1.txt", out / "rasa-2.txt"]))
        result = {"lock_store": args.lock_store, "one_replica": one, "two_replicas": two,
                  "two_over_one": round(two["replies_per_s"] / max(one["replies_per_s"], 0.1), 2)}
        print(json.dumps(result, indent=2))
        st.write_result(f"capacity_{args.lock_store}", result)
    finally:
        st.stop_stack(prod)


GENERIC = ("<module>", "_run_code", "_run_module_as_main", "main (", "serve", "run (", "_run_once",
           "run_forever", "run_until_complete", "serve_application", "http1", "connection_task",
           "handle_request", "receive (", "__call__ (hooks", "handler (hooks")


def cpu_by_process() -> Dict[str, float]:
    """CPU seconds so far of every process on the machine, grouped by what it is."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    groups: Dict[str, float] = Counter()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = ("postgres" if "postgres" in cmd else "rabbitmq" if "beam" in cmd or "rabbit" in cmd
                else "rasa replicas" if "bot.server" in cmd else "action servers" if "action_server" in cmd
                else "outbox relay" if "bot.delivery.outbox" in cmd else "analytics consumer" if "analytics" in cmd
                else "load generator" if "tests.prod.capacity" in cmd else "nginx" if "nginx" in cmd else "other")
        groups[name] += (int(fields[11]) + int(fields[12])) / tick
    return groups


def summarise(files: List[Path], top: int = 20) -> str:
    """The functions with the largest inclusive share of the server thread's samples (a function
    counted once per stack), from py-spy's raw (collapsed) output; the server's own plumbing
    (Sanic, the event loop) is left out."""
    inclusive: Dict[str, int] = Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if "serve_application" not in stack:  # idle pool threads
                continue
            n = int(count)
            total += n
            frames = {frame.split(" (")[0] + " (" + frame.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
                      for frame in stack.split(";") if frame}
            for frame in frames:
                inclusive[frame] += n
    lines = [f"{100 * n / max(total, 1):5.1f} %  {frame}" for frame, n in inclusive.most_common(top + 40)
             if not frame.startswith(GENERIC)]
    return f"py-spy, {total} samples of both replicas' server threads (inclusive):\n" + "\n".join(lines[:top])


if __name__ == "__main__":
    main()
