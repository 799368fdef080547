"""The real action server and Rasa server (started as bot.server starts it, with the security
hooks), with the messaging apps switched on and their APIs replaced by a local fake, for the
security suite and the messaging tests."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Mapping, Optional

import pytest
import requests
import yaml

from bot.deployment import credentials, endpoints
from tests.channels.fake_apis import TELEGRAM_BOT_NAME, FakeApis
from tests.conftest import PROJECT_ROOT
from tests.servers import free_port

START_TIMEOUT_S = 240
CHANNEL_ENV = {
    "TELEGRAM_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "TELEGRAM_BOT_NAME": TELEGRAM_BOT_NAME,
    "TELEGRAM_WEBHOOK_URL": "https://spa.example/webhooks/telegram/webhook",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_NUMBER": "+15550000000",
    "TWILIO_WEBHOOK_URL": "https://spa.example/webhooks/twilio/webhook",
    "SLACK_TOKEN": "xoxb-test-token",
    "SLACK_SIGNING_SECRET": "test-signing-secret",
}
API_TOKEN = "test-api-token-0123456789"


def vm_kib(pid: int, field: str) -> int:
    """VmHWM (peak) or VmRSS (now) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@contextmanager
def secured_servers(workdir: Path, extra_env: Optional[Mapping[str, str]] = None,
                    before_start: Any = None) -> Iterator[Dict[str, Any]]:
    """Start both servers; yields url, token, fake APIs, log path and the Rasa server's pid."""
    rasa_port, actions_port = free_port(), free_port()
    env = dict(os.environ, **CHANNEL_ENV, PYTHONPATH=str(PROJECT_ROOT), TF_CPP_MIN_LOG_LEVEL="3",
               RASA_TELEMETRY_ENABLED="false", RASA_TOKEN=API_TOKEN, RASA_PORT=str(rasa_port),
               **(extra_env or {}))
    tracker_db = workdir / "tracker.db"
    (workdir / "credentials.yml").write_text(yaml.safe_dump(credentials(env)))
    (workdir / "endpoints.yml").write_text(yaml.safe_dump(endpoints(
        {"ACTIONS_PORT": str(actions_port), "TRACKER_DB_PATH": str(tracker_db)})))
    if before_start:
        before_start(workdir)
    log = open(workdir / "servers.log", "w")
    with FakeApis() as fake:
        env["FAKE_API_URL"] = fake.url
        python = str(PROJECT_ROOT / ".venv" / "bin" / "python")
        actions_env = {k: v for k, v in env.items() if k != "RASA_TOKEN"}
        actions = subprocess.Popen([python, "-m", "bot.security.action_server", "--actions", "actions", "--port", str(actions_port)],
                                   cwd=PROJECT_ROOT, env=actions_env, stdout=log, stderr=subprocess.STDOUT)
        rasa = subprocess.Popen(
            [python, "-m", "tests.channels.serve_with_fake_apis", "run", "--enable-api", "--port", str(rasa_port),
             "--model", str(PROJECT_ROOT / "models" / "model.tar.gz"),
             "--credentials", str(workdir / "credentials.yml"), "--endpoints", str(workdir / "endpoints.yml")],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://localhost:{rasa_port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while True:
                if rasa.poll() is not None or actions.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("servers did not start:\n" + Path(log.name).read_text()[-3000:])
                try:
                    if (requests.get(f"{url}/status", params={"token": API_TOKEN}, timeout=2).ok
                            and requests.get(f"http://localhost:{actions_port}/health", timeout=2).ok):
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.5)
            yield {"url": url, "token": API_TOKEN, "fake": fake, "log": Path(log.name), "rasa_pid": rasa.pid,
                   "tracker_db": tracker_db, "rasa": rasa}
        finally:
            for process in (rasa, actions):
                process.send_signal(signal.SIGTERM)
            for process in (rasa, actions):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
