"""The real action server and Rasa server (scripts/run.sh) on free ports, for the e2e and browser tests.

As with `make run` and no RASA_TOKEN, run.sh creates the HTTP API token in a file (here in the
test's run folder); `Assistant.token` is read from it and `Assistant.api()` passes it. The rate
limits are raised here because these tests send many messages from one address quickly; the
security suite (tests/security) tests the limits themselves.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional

import pytest
import requests

from tests.conftest import PROJECT_ROOT

START_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Assistant:
    """A client for the running servers."""

    def __init__(self, rasa_url: str, actions_url: str, token: str = "") -> None:
        self.rasa_url, self.actions_url, self.token = rasa_url, actions_url, token

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A call to the HTTP API (it needs the token)."""
        return requests.request(method, f"{self.rasa_url}{path}", params={"token": self.token}, timeout=30, **kwargs)

    def send(self, message: str, sender: str) -> List[Dict[str, Any]]:
        response = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def parse(self, text: str) -> Dict[str, Any]:
        response = self.api("POST", "/model/parse", json={"text": text})
        response.raise_for_status()
        return response.json()

    def conversation(self) -> "Chat":
        return Chat(self, f"test-{uuid.uuid4().hex[:12]}")


class Chat:
    def __init__(self, assistant: Assistant, sender: str) -> None:
        self.assistant, self.sender = assistant, sender

    def say(self, message: str) -> List[Dict[str, Any]]:
        return self.assistant.send(message, self.sender)


def reply_text(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def buttons(messages: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    return [b for m in messages for b in m.get("buttons") or []]


def start_servers(tmp_path_factory: pytest.TempPathFactory,
                  extra_env: Optional[Mapping[str, str]] = None) -> Iterator[Dict[str, Any]]:
    """Start run.sh; `extra_env` adds or overrides variables (e.g. DATABASE_URL, STAFF_ACCOUNTS)."""
    rasa_port, actions_port = free_port(), free_port()
    run_dir = tmp_path_factory.mktemp("run")
    token_file = run_dir / "rasa-token"
    env = dict(os.environ, RASA_PORT=str(rasa_port), ACTIONS_PORT=str(actions_port), RUN_DIR=str(run_dir),
               TRACKER_DB_PATH=str(run_dir / "tracker.db"), RASA_TOKEN_FILE=str(token_file),
               RATE_LIMIT_ADDRESS="100000/60", RATE_LIMIT_CONVERSATION="100000/60")
    env.pop("RASA_TOKEN", None)
    env.update(extra_env or {})
    log = open(run_dir / "servers.log", "w")
    started = time.monotonic()
    process = subprocess.Popen(
        ["scripts/run.sh"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assistant = Assistant(f"http://localhost:{rasa_port}", f"http://localhost:{actions_port}")
    deadline = started + START_TIMEOUT_S
    first_reply_s = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"servers exited early:\n{Path(log.name).read_text()[-3000:]}")
        if not assistant.token and token_file.exists():
            assistant.token = token_file.read_text().strip()
        try:
            if assistant.send("hello", "startup-check"):
                first_reply_s = time.monotonic() - started
                break
        except requests.RequestException:
            pass
        time.sleep(0.5)
    else:
        process.kill()
        pytest.fail(f"servers did not answer within {START_TIMEOUT_S}s:\n{Path(log.name).read_text()[-3000:]}")
    yield {"assistant": assistant, "process": process, "log": Path(log.name), "first_reply_s": first_reply_s}
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    log.close()


