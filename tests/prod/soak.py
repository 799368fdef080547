"""The soak (make soak): the production stack for SOAK_MINUTES (default 20) at half its measured
capacity, with a fault every two minutes, each in turn, and per fault what the people talking
saw. Not part of CI; the README shows its latest output.

    make soak                         # 20 minutes
    SOAK_MINUTES=4 make soak          # a shorter run

Per fault window (the two minutes from the fault on): messages, failed, lost, duplicated (each
message checked against the stored conversation by its id), p95 during the first 15 s of the
fault and in the rest of the window; the Rasa replicas' memory (RSS) at the start and the end.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

from tests.prod import stack as st
from tests.prod.test_stack import check_conversation, p95_ms

WINDOW_S = 120.0
CONVERSATIONS = 20
CONVERSATION_TURNS = 14  # then the sender starts a new conversation (conversations stay short, as in a spa)


def rss_mb(prod: st.Stack, name: str) -> float:
    try:
        for line in Path(f"/proc/{prod.pid(name)}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return 0.0


def faults(prod: st.Stack) -> List[Tuple[str, Callable[[], Any]]]:
    @contextmanager
    def kill_replica() -> Iterator[None]:
        prod.kill("rasa-1", signal.SIGKILL)
        yield

    @contextmanager
    def kill_actions() -> Iterator[None]:
        prod.kill("actions-2", signal.SIGKILL)
        yield

    def held(fault: Callable[[], Any], seconds: float) -> Callable[[], Any]:
        @contextmanager
        def run() -> Iterator[None]:
            with fault():
                time.sleep(seconds)
            yield
        return run

    return [("SIGKILL a Rasa replica", kill_replica),
            ("restart PostgreSQL", held(st.postgres_restarted, 0)),
            ("stop PostgreSQL 5 s", held(st.postgres_stopped, 5)),
            ("stop RabbitMQ 5 s", held(st.rabbitmq_stopped, 5)),
            ("SIGKILL an action server", kill_actions)]


def capacity(prod: st.Stack, seconds: float = 15.0) -> float:
    senders = [st.new_sender("soak-capacity") for _ in range(8)]
    started = time.monotonic()
    results = st.run_traffic(prod, senders, seconds, pause_s=0.0)
    return sum(r.ok for _, _, r in results) / (time.monotonic() - started)


def main() -> int:
    minutes = float(os.environ.get("SOAK_MINUTES", "20"))
    run_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    print(f"==> Starting the production stack in {run_dir}", flush=True)
    prod = st.start_stack(run_dir)
    try:
        measured = capacity(prod)
        rate = measured / 2
        per_sender_s = CONVERSATIONS / rate
        print(f"==> Capacity {measured:.1f} replies/s; soaking at {rate:.1f}/s for {minutes:g} min, "
              f"a fault every {WINDOW_S:.0f} s", flush=True)
        memory_start = {n: rss_mb(prod, n) for n in ("rasa-1", "rasa-2")}
        started = time.monotonic()
        deadline = started + minutes * 60
        log: List[Tuple[str, str, st.Reply]] = []
        lock = threading.Lock()

        def talk(index: int) -> None:
            sender, turn = st.new_sender("soak"), 0
            while time.monotonic() < deadline:
                began = time.monotonic()
                message = st.SCRIPT[turn % len(st.SCRIPT)]
                reply = prod.send(sender, message, timeout=30, retries=1)
                with lock:
                    log.append((sender, message, reply))
                turn += 1
                if turn >= CONVERSATION_TURNS:
                    sender, turn = st.new_sender("soak"), 0
                time.sleep(max(0.0, per_sender_s - (time.monotonic() - began)))

        windows: List[Tuple[str, float]] = []

        def inject() -> None:
            schedule = faults(prod)
            index = 0
            while True:
                at = started + 30 + index * WINDOW_S
                if at + 30 > deadline:
                    return
                time.sleep(max(0.0, at - time.monotonic()))
                name, fault = schedule[index % len(schedule)]
                windows.append((name, time.monotonic()))
                print(f"    {time.monotonic() - started:6.0f} s  {name}", flush=True)
                try:
                    with fault():
                        pass
                except Exception as error:  # noqa: BLE001 - reported in the table
                    print(f"    fault {name} failed: {error}", flush=True)
                index += 1

        injector = threading.Thread(target=inject, daemon=True)
        injector.start()
        with ThreadPoolExecutor(CONVERSATIONS) as pool:
            list(pool.map(talk, range(CONVERSATIONS)))
        injector.join(timeout=60)
        for name in ("rasa-1", "rasa-2"):
            prod.wait_replica(name, 120)
        memory_end = {n: rss_mb(prod, n) for n in ("rasa-1", "rasa-2")}
        prod.wait_outbox_empty(60)

        by_sender: Dict[str, List[Tuple[str, st.Reply]]] = {}
        for sender, message, reply in log:
            by_sender.setdefault(sender, []).append((message, reply))
        lost_ids, dup_ids = set(), set()
        for sender, sent in by_sender.items():
            events = prod.events(sender)
            counts = Counter(e.get("message_id") for e in events if e["event"] == "user")
            for _, reply in sent:
                if reply.ok and counts[reply.message_id] == 0:
                    lost_ids.add(reply.message_id)
                if counts[reply.message_id] > 1:
                    dup_ids.add(reply.message_id)
        rows = []
        bounds = windows + [("end", deadline)]
        baseline = [r for _, _, r in log if r.started < (windows[0][1] if windows else deadline)]
        if baseline:
            rows.append(("(no fault, first 30 s)", baseline, [], [r.seconds for r in baseline if r.ok]))
        for (name, at), (_, until) in zip(bounds, bounds[1:]):
            window = [r for _, _, r in log if at <= r.started < until]
            during = [r.seconds for r in window if r.ok and r.started < at + 15]
            after = [r.seconds for r in window if r.ok and r.started >= at + 15]
            rows.append((name, window, during, after))
        print("\n| fault | messages | failed | sent again | lost | duplicated | p95 during (ms) | p95 after (ms) |")
        print("|---|---|---|---|---|---|---|---|")
        table = []
        for name, window, during, after in rows:
            row = {"fault": name, "messages": len(window), "failed": sum(not r.ok for r in window),
                   "sent_again": sum(r.attempts > 1 for r in window),
                   "lost": sum(r.message_id in lost_ids for r in window),
                   "duplicated": sum(r.message_id in dup_ids for r in window),
                   "p95_during_ms": p95_ms(sorted(during)) if during else "-",
                   "p95_after_ms": p95_ms(sorted(after)) if after else "-"}
            table.append(row)
            print("| " + " | ".join(str(v) for v in row.values()) + " |")
        total = len(log)
        summary = {"minutes": minutes, "capacity_replies_per_s": round(measured, 1), "rate": round(rate, 1),
                   "messages": total, "failed": sum(not r.ok for _, _, r in log), "lost": len(lost_ids),
                   "duplicated": len(dup_ids), "memory_mb_start": memory_start, "memory_mb_end": memory_end,
                   "windows": table}
        print(f"\nmessages {total}, failed {summary['failed']}, lost {len(lost_ids)}, duplicated {len(dup_ids)}; "
              f"Rasa replicas' memory (MB) at start {memory_start}, at end {memory_end}")
        st.write_result("soak", summary)
        return 0 if not lost_ids and not dup_ids else 1
    finally:
        st.stop_stack(prod)


if __name__ == "__main__":
    sys.exit(main())
