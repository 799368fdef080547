"""make bench: quality, speed and memory of our configuration and of Rasa's default, side by side.

Both configurations are trained on the same data (with an empty training cache, so training time
is real), then served by the real Rasa server and action server, one configuration at a time, and
measured the same way. Results go to bench/results.json and bench/RESULTS.md and are printed.
"""
from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import aiohttp
import requests
import yaml

from bot.deployment import endpoints
from tests.nlu.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BIN = ROOT / ".venv" / "bin"
CONFIGS = {"ours": ROOT / "config.yml", "default": ROOT / "bench" / "default_config.yml"}
TRAINING_DATA = ["data/nlu", "data/rules.yml"]
LOAD_LEVELS = (20, 50)
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
PARSE_SAMPLES = 200
START_TIMEOUT_S = 300
TARGETS = {
    "e2e_p95_ms": ("< 100 ms", lambda v: v < 100),
    "load20_p95_ms": ("< 400 ms", lambda v: v < 400),
    "load20_msgs_per_s": (">= 50", lambda v: v >= 50),
    "load20_errors": ("0", lambda v: v == 0),
    "rasa_peak_rss_mb": ("< 1200 MB", lambda v: v < 1200),
    "cold_start_s": ("< 40 s", lambda v: v < 40),
    "train_s": ("< 240 s", lambda v: v < 240),
}


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> Dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    import rasa

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(memory_kb / 1024 / 1024, 1),
            "python": platform.python_version(), "rasa": rasa.__version__, "os": platform.platform(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def conversations() -> List[List[str]]:
    return yaml.safe_load((ROOT / "bench" / "conversations.yml").read_text())["conversations"]


def train(name: str, config: Path) -> Tuple[Path, float]:
    """Train from scratch (empty cache) and time it."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, RASA_CACHE_DIRECTORY=cache, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "rasa"), "train", "--config", str(config), "--domain", "domain.yml", "--data",
             *TRAINING_DATA, "--out", str(OUT), "--fixed-model-name", name, "--num-threads", "2"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return OUT / f"{name}.tar.gz", time.monotonic() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Servers:
    rasa: subprocess.Popen
    actions: subprocess.Popen
    url: str
    cold_start_s: float

    def stop(self) -> Tuple[float, float]:
        """Stop both and return their peak RSS in MB."""
        peaks = (peak_rss_mb(self.rasa.pid), peak_rss_mb(self.actions.pid))
        for process in (self.rasa, self.actions):
            process.send_signal(signal.SIGTERM)
        for process in (self.rasa, self.actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        return peaks


def start(model: Path, workdir: Path) -> Servers:
    rasa_port, actions_port = free_port(), free_port()
    endpoint_file = workdir / "endpoints.yml"
    endpoint_file.write_text(yaml.safe_dump(endpoints(
        {"ACTIONS_PORT": str(actions_port), "TRACKER_DB_PATH": str(workdir / "tracker.db")})))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    log = open(workdir / "servers.log", "w")
    started = time.monotonic()
    actions = subprocess.Popen([str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port",
                                str(actions_port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    rasa = subprocess.Popen([str(BIN / "rasa"), "run", "--enable-api", "--port", str(rasa_port), "--model",
                             str(model), "--endpoints", str(endpoint_file), "--credentials",
                             str(ROOT / "credentials.yml")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{rasa_port}"
    while time.monotonic() - started < START_TIMEOUT_S:
        try:
            reply = requests.post(f"{url}/webhooks/rest/webhook",
                                  json={"sender": "cold-start", "message": "hello"}, timeout=10)
            if reply.ok and reply.json():
                return Servers(rasa, actions, url, time.monotonic() - started)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"servers did not start; see {workdir / 'servers.log'}")


def sequential_latencies(servers: Servers, scripts: List[List[str]]) -> Dict[str, float]:
    parse_ms, reply_ms, errors = [], [], 0
    texts = [m for script in scripts for m in script][:PARSE_SAMPLES]
    with requests.Session() as http:
        for text in texts:
            started = time.perf_counter()
            ok = http.post(f"{servers.url}/model/parse", json={"text": text}, timeout=30).ok
            parse_ms.append((time.perf_counter() - started) * 1000)
            errors += not ok
        for script in scripts:
            sender = uuid.uuid4().hex
            for message in script:
                started = time.perf_counter()
                response = http.post(f"{servers.url}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": message}, timeout=30)
                reply_ms.append((time.perf_counter() - started) * 1000)
                errors += not (response.ok and response.json())
    return {
        "parse_p50_ms": percentile(parse_ms, 50), "parse_p95_ms": percentile(parse_ms, 95),
        "e2e_messages": len(reply_ms), "e2e_p50_ms": percentile(reply_ms, 50),
        "e2e_p95_ms": percentile(reply_ms, 95), "e2e_p99_ms": percentile(reply_ms, 99), "e2e_errors": errors,
    }


async def _visitor(http: aiohttp.ClientSession, url: str, scripts: List[List[str]], start_index: int,
                   deadline: float, latencies: List[float], errors: List[int]) -> None:
    index = start_index
    while time.monotonic() < deadline:
        sender = uuid.uuid4().hex
        for message in scripts[index % len(scripts)]:
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                async with http.post(f"{url}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": message}) as response:
                    body = await response.json()
                    if response.status != 200 or not body:
                        errors.append(1)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                errors.append(1)
            latencies.append((time.perf_counter() - started) * 1000)
        index += 1


async def _load(url: str, scripts: List[List[str]], visitors: int, seconds: float) -> Dict[str, float]:
    latencies: List[float] = []
    errors: List[int] = []
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=visitors)) as http:
        started = time.monotonic()
        await asyncio.gather(*(_visitor(http, url, scripts, i, started + seconds, latencies, errors)
                               for i in range(visitors)))
        elapsed = time.monotonic() - started
    return {"msgs_per_s": len(latencies) / elapsed, "p95_ms": percentile(latencies, 95),
            "messages": len(latencies), "errors": len(errors)}


def measure(name: str, config: Path, scripts: List[List[str]]) -> Dict[str, Any]:
    print(f"==> {name}: training", flush=True)
    model, train_s = train(name, config)
    print(f"==> {name}: NLU quality on the held-out set", flush=True)
    quality = evaluate(model)
    results: Dict[str, Any] = {
        "train_s": train_s, "intent_accuracy": quality.intent_accuracy,
        "intent_macro_f1": quality.intent_macro_f1, "entity_f1": quality.entity_f1,
    }
    with tempfile.TemporaryDirectory() as workdir:
        print(f"==> {name}: starting the servers", flush=True)
        servers = start(model, Path(workdir))
        try:
            results["cold_start_s"] = servers.cold_start_s
            print(f"==> {name}: sequential latency", flush=True)
            results.update(sequential_latencies(servers, scripts))
            for visitors in LOAD_LEVELS:
                print(f"==> {name}: {visitors} concurrent conversations for {LOAD_SECONDS:.0f} s", flush=True)
                load = asyncio.run(_load(servers.url, scripts, visitors, LOAD_SECONDS))
                results.update({f"load{visitors}_{k}": v for k, v in load.items()})
        finally:
            results["rasa_peak_rss_mb"], results["actions_peak_rss_mb"] = servers.stop()
    return results


ROWS = [
    ("intent_accuracy", "NLU intent accuracy (held-out)", "{:.3f}"),
    ("intent_macro_f1", "NLU intent macro F1", "{:.3f}"),
    ("entity_f1", "NLU entity F1 (strict span)", "{:.3f}"),
    ("train_s", "training time (s)", "{:.0f}"),
    ("parse_p50_ms", "/model/parse p50 (ms)", "{:.1f}"),
    ("parse_p95_ms", "/model/parse p95 (ms)", "{:.1f}"),
    ("e2e_p50_ms", "reply p50, sequential (ms)", "{:.1f}"),
    ("e2e_p95_ms", "reply p95, sequential (ms)", "{:.1f}"),
    ("e2e_p99_ms", "reply p99, sequential (ms)", "{:.1f}"),
    ("e2e_errors", "errors, sequential", "{:.0f}"),
    ("load20_msgs_per_s", "20 conversations: replies/s", "{:.1f}"),
    ("load20_p95_ms", "20 conversations: p95 (ms)", "{:.0f}"),
    ("load20_errors", "20 conversations: errors", "{:.0f}"),
    ("load50_msgs_per_s", "50 conversations: replies/s", "{:.1f}"),
    ("load50_p95_ms", "50 conversations: p95 (ms)", "{:.0f}"),
    ("load50_errors", "50 conversations: errors", "{:.0f}"),
    ("rasa_peak_rss_mb", "Rasa server peak RSS (MB)", "{:.0f}"),
    ("actions_peak_rss_mb", "action server peak RSS (MB)", "{:.0f}"),
    ("cold_start_s", "cold start to first reply (s)", "{:.1f}"),
]


def markdown(report: Dict[str, Any]) -> str:
    ours, default = report["results"]["ours"], report["results"]["default"]
    m = report["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, "
        f"Rasa {m['rasa']}; {m['date']}. Sequential: {ours['e2e_messages']} scripted messages; "
        f"load: {report['load_seconds']:.0f} s per level.",
        "",
        "| measure | ours | Rasa default | ours / default | target (ours) |",
        "|---|---:|---:|---:|---|",
    ]
    for key, label, fmt in ROWS:
        a, b = ours.get(key), default.get(key)
        ratio = f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-"
        target = ""
        if key in TARGETS:
            text, check = TARGETS[key]
            target = f"{text} {'met' if check(a) else 'MISSED'}"
        lines.append(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {ratio} | {target} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    scripts = conversations()
    report: Dict[str, Any] = {"machine": machine(), "load_seconds": LOAD_SECONDS, "results": {}}
    for name, config in CONFIGS.items():
        report["results"][name] = measure(name, config, scripts)
    (ROOT / "bench" / "results.json").write_text(json.dumps(report, indent=2))
    table = markdown(report)
    (ROOT / "bench" / "RESULTS.md").write_text("# Benchmark results\n\n" + table)
    print("\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
