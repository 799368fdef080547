"""The Rasa server's memory against the number of conversations it has served.

    .venv/bin/python -m bench.memory [--counts 10 100 300 600 1000 1500]

Starts our bot as bench/run.py does (SQLite tracker store, action server), then plays the
scripted conversations of bench/conversations.yml one after another, each as a new visitor, and
prints the Rasa server's resident memory (VmRSS) after each count. The per-conversation caches
of bot/patches (bound in bot/patches/cache_bounds.py) show as growth that stops at the bound.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path
from typing import List

import requests

from bench.bots import bots
from bench.servers import ROOT, rss_mb, start


def main(argv: List[str] = sys.argv[1:]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 100, 300, 600, 1000, 1500])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "model.tar.gz")
    args = parser.parse_args(argv)
    bot = bots()["ours"]
    with tempfile.TemporaryDirectory() as workdir:
        servers = start(bot, args.model, Path(workdir))
        try:
            print(f"conversations 0: Rasa server RSS {rss_mb(servers.rasa.pid):.0f} MB", flush=True)
            served = 0
            with requests.Session() as http:
                for count in sorted(args.counts):
                    while served < count:
                        sender = uuid.uuid4().hex
                        for message in bot.scripts[served % len(bot.scripts)]:
                            http.post(f"{servers.url}/webhooks/rest/webhook",
                                      json={"sender": sender, "message": message}, timeout=60).raise_for_status()
                        served += 1
                    print(f"conversations {count}: Rasa server RSS {rss_mb(servers.rasa.pid):.0f} MB", flush=True)
        finally:
            servers.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
