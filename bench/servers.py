"""The bots the benchmark compares, and starting/stopping their servers the way `make run` does.

A bot is served by the Rasa server started through `bot.server` (our patches applied, as in
scripts/run.sh) and, when it has custom actions, by `rasa run actions`. CPU time and peak memory
are read from /proc, so the load generator running beside them is not counted.
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import requests
import yaml

from bot.deployment import credentials, endpoints

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
START_TIMEOUT_S = 300
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The HTTP API needs a token (bot/security); the bench also switches the rate limits off and
# raises the message cap, to measure the servers rather than those limits (tests/security does).
API_TOKEN = secrets.token_hex(16)
SERVER_ENV = {"RASA_TOKEN": API_TOKEN, "RATE_LIMIT_CONVERSATION": "0", "RATE_LIMIT_ADDRESS": "0",
              "MAX_MESSAGE_CHARS": "1000000", "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}


@dataclass
class Bot:
    """One column of the table: what is trained, with which data, and how it is served."""

    name: str
    label: str
    project: Path
    config: Path
    domain: Path
    data: List[str]
    scripts: List[List[str]]
    probe: str  # the message sent at turns 1, 10, 50 and 100 of the long conversation
    custom_actions: bool = True
    tracker_store: str = "sqlite"  # "sqlite" (what `make run` uses) or "memory"
    credentials: Optional[Dict[str, Any]] = None  # None: what `make run` writes (bot/deployment.py)
    env: Dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _status_mb(pid: int, field: str) -> float:
    """A memory field of /proc/<pid>/status (VmRSS, VmHWM) in MB; NaN once the process exited."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():  # already exited
        return float("nan")
    for line in status.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmHWM")


def rss_mb(pid: int) -> float:
    return _status_mb(pid, "VmRSS")


@dataclass
class Servers:
    rasa: subprocess.Popen
    actions: Optional[subprocess.Popen]
    url: str
    cold_start_s: float
    log: Path

    def cpu(self) -> Tuple[float, float]:
        """CPU seconds used so far by the Rasa server and the action server."""
        return cpu_seconds(self.rasa.pid), cpu_seconds(self.actions.pid) if self.actions else 0.0

    def stop(self) -> Tuple[float, float]:
        """Stop both and return their peak RSS in MB."""
        processes = [p for p in (self.rasa, self.actions) if p]
        peaks = (peak_rss_mb(self.rasa.pid), peak_rss_mb(self.actions.pid) if self.actions else float("nan"))
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        return peaks


def rasa_command(bot: Bot, model: Path, workdir: Path, port: int, actions_port: int) -> List[str]:
    endpoint_file, credentials_file = workdir / "endpoints.yml", workdir / "credentials.yml"
    env = {"ACTIONS_PORT": str(actions_port), "TRACKER_DB_PATH": str(workdir / "tracker.db")}
    config = endpoints(env)
    if bot.tracker_store == "memory":
        config.pop("tracker_store")
    if not bot.custom_actions:
        config.pop("action_endpoint")
    endpoint_file.write_text(yaml.safe_dump(config))
    credentials_file.write_text(yaml.safe_dump(bot.credentials if bot.credentials is not None else credentials({})))
    return [str(BIN / "python"), "-m", "bot.server", "run", "--enable-api", "--port", str(port),
            "--model", str(model), "--endpoints", str(endpoint_file), "--credentials", str(credentials_file)]


def action_server_command(port: int) -> List[str]:
    """The action server as scripts/run.sh starts it."""
    if (ROOT / "bot" / "security" / "action_server.py").exists():
        return [str(BIN / "python"), "-m", "bot.security.action_server", "--actions", "actions", "--port", str(port)]
    return [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(port)]


def start(bot: Bot, model: Path, workdir: Path, rasa_entry: Optional[List[str]] = None) -> Servers:
    """Start the servers and wait for the first reply (the cold start)."""
    rasa_port, actions_port = free_port(), free_port()
    command = rasa_command(bot, model, workdir, rasa_port, actions_port)
    if rasa_entry:  # e.g. [.venv/bin/rasa] to measure the server without our patches
        command = rasa_entry + command[3:]
    env = dict(os.environ, PYTHONPATH=str(ROOT), **SERVER_ENV, **bot.env)
    log_path = workdir / "servers.log"
    log = open(log_path, "w")
    started = time.monotonic()
    actions = None
    if bot.custom_actions:
        actions = subprocess.Popen(action_server_command(actions_port), cwd=ROOT, env={k: v for k, v in env.items() if k != "RASA_TOKEN"},
                                   stdout=log, stderr=subprocess.STDOUT)
    rasa = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{rasa_port}"
    servers = Servers(rasa, actions, url, 0.0, log_path)
    while time.monotonic() - started < START_TIMEOUT_S:
        if rasa.poll() is not None or (actions and actions.poll() is not None):
            break
        try:
            reply = requests.post(f"{url}/webhooks/rest/webhook",
                                  json={"sender": "cold-start", "message": bot.scripts[0][0]}, timeout=10)
            if reply.ok and reply.json():
                servers.cold_start_s = time.monotonic() - started
                return servers
        except requests.RequestException:
            pass
        time.sleep(0.1)
    servers.stop()
    raise RuntimeError(f"{bot.name}: servers did not start; see {log_path}:\n{log_path.read_text()[-3000:]}")
