"""The production stack (scripts/run-prod.sh) started for the tests, a client for it, and the
machine's services stopped and brought back exactly as the session machine starts them.

Each test run gets its own PostgreSQL database, RabbitMQ queue, ports and run folder, and drops
the database and the queue at the end. Faults are injected with the commands of
/work/.library/env/machines/python-svc.md, and every fault is undone in a `finally`.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import requests

from bot.security.limits import SOMETHING_WENT_WRONG, TRY_AGAIN_SOON

PROJECT_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 300

# How the session machine starts each service (python-svc.md); a test that stops one starts it
# again with exactly this command.
POSTGRES_VERSION = os.environ.get("PG_VERSION") or sorted(os.listdir("/etc/postgresql"))[-1] \
    if os.path.isdir("/etc/postgresql") else "15"
START_POSTGRES = ["pg_ctlcluster", "--skip-systemctl-redirect", POSTGRES_VERSION, "main", "start"]
RESTART_POSTGRES = ["pg_ctlcluster", "--skip-systemctl-redirect", POSTGRES_VERSION, "main", "restart"]
STOP_POSTGRES = ["pg_ctlcluster", "--skip-systemctl-redirect", POSTGRES_VERSION, "main", "stop", "-m", "fast"]
START_REDIS = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]
START_RABBITMQ = ["rabbitmq-server", "-detached"]


def free_port_block(size: int) -> int:
    """A base port with `size` free consecutive ports after it."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + size >= 65000:
            continue
        ok = True
        for port in range(base, base + size):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no block of free ports")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Reply:
    ok: bool
    status: int
    messages: List[Dict[str, Any]]
    seconds: float
    started: float
    error: str = ""
    wall: float = 0.0  # time.time() when it was sent: stored events carry wall-clock timestamps
    message_id: str = ""
    attempts: int = 1  # the widget's "Try again": the same message id sent again after a failure
    first_error: str = ""

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)


@dataclass
class Stack:
    """A running scripts/run-prod.sh and a client for it."""

    process: subprocess.Popen
    run_dir: Path
    env: Dict[str, str]
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def port(self) -> int:
        return int(self.env["RASA_PORT"])

    def replica_ports(self) -> List[int]:
        base = int(self.env["RASA_REPLICA_BASE_PORT"])
        return [base + i for i in range(int(self.env["RASA_REPLICAS"]))]

    def action_ports(self) -> List[int]:
        base = int(self.env["ACTION_REPLICA_BASE_PORT"])
        return [base + i for i in range(int(self.env["ACTION_REPLICAS"]))]

    def pid(self, name: str) -> int:
        return int((self.run_dir / "pids" / f"{name}.pid").read_text())

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        pid = self.pid(name)
        os.kill(pid, sig)
        return pid

    def send(self, sender: str, message: str, port: Optional[int] = None, timeout: float = 30,
             message_id: Optional[str] = None, retries: int = 0) -> Reply:
        """One message over the REST channel, to the balancer or straight to one replica, with a
        message id; after a failure it is sent again with the same id up to `retries` times, as
        the widget's "Try again" does. The reply's timings cover every attempt."""
        message_id = message_id or uuid.uuid4().hex
        started, wall = time.monotonic(), time.time()
        reply = self._post(sender, message, port, timeout, message_id, started, wall)
        first_error = reply.error
        while not reply.ok and reply.attempts <= retries:
            attempts = reply.attempts + 1
            time.sleep(0.5)
            reply = self._post(sender, message, port, timeout, message_id, started, wall)
            reply.attempts = attempts
        reply.first_error = first_error if reply.attempts > 1 else ""
        return reply

    def _post(self, sender: str, message: str, port: Optional[int], timeout: float, message_id: str,
              started: float, wall: float) -> Reply:
        try:
            response = requests.post(f"http://127.0.0.1:{port or self.port}/webhooks/rest/webhook",
                                     json={"sender": sender, "message": message, "message_id": message_id},
                                     timeout=timeout)
            seconds = time.monotonic() - started
            if response.status_code != 200:
                return Reply(False, response.status_code, [], seconds, started, response.text[:200], wall, message_id)
            messages = response.json()
            text = "\n".join(m.get("text") or "" for m in messages)
            if SOMETHING_WENT_WRONG in text:  # bot/security/hooks.py: the message was not handled
                return Reply(False, 200, messages, seconds, started, "'Sorry, something went wrong' reply", wall,
                             message_id)
            if TRY_AGAIN_SOON in text:  # the store was away too long: not handled, nothing stored
                return Reply(False, 200, messages, seconds, started, "'please send it again' reply", wall, message_id)
            return Reply(bool(messages), 200, messages, seconds, started, "" if messages else "empty reply", wall,
                         message_id)
        except (requests.RequestException, ValueError) as error:
            return Reply(False, 0, [], time.monotonic() - started, started, type(error).__name__, wall, message_id)

    def outbox_waiting(self) -> int:
        """Events stored but not yet published by the outbox relay."""
        return int(requests.get(f"http://127.0.0.1:{self.env['RELAY_PORT']}/health", timeout=5).json()["waiting"])

    def wait_outbox_empty(self, timeout_s: float = 60) -> bool:
        def empty() -> bool:
            try:
                return self.outbox_waiting() == 0
            except (requests.RequestException, ValueError, KeyError):
                return False
        return wait_until(empty, timeout_s)

    def events(self, sender: str) -> List[Dict[str, Any]]:
        """The conversation as stored in the tracker store (PostgreSQL), through the HTTP API."""
        for _ in range(10):
            try:
                response = requests.get(f"http://127.0.0.1:{self.port}/conversations/{sender}/tracker",
                                        params={"token": self.token, "include_events": "ALL"}, timeout=30)
                if response.status_code == 200:
                    return response.json()["events"]
            except requests.RequestException:
                pass
            time.sleep(1)
        raise AssertionError(f"could not read the tracker of {sender}")

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"run-prod.sh exited:\n{self.log_tail()}")
            if "The production stack is ready" in self.log_tail(100000):
                return
            time.sleep(1)
        raise AssertionError(f"run-prod.sh not ready after {timeout_s}s:\n{self.log_tail()}")

    def wait_replica(self, name: str, timeout_s: float = 180) -> float:
        """Seconds until a restarted replica answers again."""
        started = time.monotonic()
        kind, index = name.rsplit("-", 1)
        ports = self.replica_ports() if kind == "rasa" else self.action_ports()
        port = ports[int(index) - 1]
        path = "/" if kind == "rasa" else "/health"
        while time.monotonic() - started < timeout_s:
            try:
                if requests.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{name} did not come back within {timeout_s}s")

    def log_tail(self, chars: int = 3000) -> str:
        path = self.run_dir / "run-prod.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def cpu_seconds(self, names: List[str]) -> float:
        """utime + stime of the named processes (from /proc), in seconds."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for name in names:
            try:
                fields = Path(f"/proc/{self.pid(name)}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError):
                pass
        return total


def start_stack(run_dir: Path, **overrides: str) -> Stack:
    rasa_base = free_port_block(3)
    actions_base = free_port_block(3)
    suffix = uuid.uuid4().hex[:8]
    env = dict(os.environ)
    env.pop("RASA_TOKEN", None)
    env.update({
        "RASA_PORT": str(rasa_base), "ACTIONS_PORT": str(actions_base),
        "RASA_REPLICA_BASE_PORT": str(rasa_base + 1), "ACTION_REPLICA_BASE_PORT": str(actions_base + 1),
        "RASA_REPLICAS": "2", "ACTION_REPLICAS": "2",
        "TRACKER_DB_NAME": f"massage_test_{suffix}", "RABBITMQ_QUEUE": f"rasa_events_test_{suffix}",
        "ANALYTICS_QUEUE": f"rasa_analytics_test_{suffix}", "ANALYTICS_PORT": str(free_port_block(1)),
        "RELAY_PORT": str(free_port_block(1)),
        "RUN_DIR": str(run_dir), "RASA_TOKEN_FILE": str(run_dir / "rasa-token"),
        "RATE_LIMIT_ADDRESS": "1000000/60", "RATE_LIMIT_CONVERSATION": "1000000/60",
        "PROD_RESTART_DELAY_S": "1",
    })
    env.update(overrides)
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(run_dir / "run-prod.log", "w")
    process = subprocess.Popen(["scripts/run-prod.sh"], cwd=PROJECT_ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    stack = Stack(process, run_dir, env)
    try:
        stack.wait_ready()
    except AssertionError:
        stop_stack(stack)  # drop the database and queues of a stack that never came up
        raise
    stack.token = (run_dir / "rasa-token").read_text().strip()
    return stack


def stop_stack(stack: Stack) -> None:
    if stack.process.poll() is None:
        os.killpg(stack.process.pid, signal.SIGTERM)
        try:
            stack.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.process.pid, signal.SIGKILL)
    drop = f'DROP DATABASE IF EXISTS "{stack.env["TRACKER_DB_NAME"]}" WITH (FORCE)'
    subprocess.run(["psql", "-h", "127.0.0.1", "-d", "postgres", "-qc", drop], capture_output=True)
    for queue in (stack.env["RABBITMQ_QUEUE"], stack.env["ANALYTICS_QUEUE"]):
        subprocess.run(["rabbitmqctl", "delete_queue", queue], capture_output=True)


# --- the machine's services -------------------------------------------------------------------

def postgres_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0


def redis_up() -> bool:
    result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, text=True)
    return result.stdout.strip() == "PONG"


def rabbitmq_up() -> bool:
    return subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True).returncode == 0 and port_open(5672)


def wait_until(check: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


@contextmanager
def postgres_restarted() -> Iterator[None]:
    """`pg_ctlcluster ... restart` (every connection is cut); started again if it is down after."""
    try:
        subprocess.run(RESTART_POSTGRES, check=False, capture_output=True, timeout=120)
        yield
    finally:
        if not wait_until(postgres_up, 20):
            subprocess.run(START_POSTGRES, check=False, capture_output=True, timeout=120)
        assert wait_until(postgres_up, 60), "PostgreSQL did not come back"


@contextmanager
def stopped(stop: List[str], up: Any, start: List[str], back_s: float) -> Iterator[None]:
    """A service stopped with `stop`, then, if it is not back by itself, started with the machine's
    own command `start`; `up` says whether it answers."""
    try:
        subprocess.run(stop, check=False, capture_output=True, timeout=120)
        wait_until(lambda: not up(), 10)
        yield
    finally:
        if not up():
            subprocess.run(start, check=False, capture_output=True, timeout=120)
        assert wait_until(up, back_s), f"{start[0]} did not come back"


def postgres_stopped() -> Any:
    """`pg_ctlcluster ... stop` (fast shutdown: every connection is cut, nothing is accepted)."""
    return stopped(STOP_POSTGRES, postgres_up, START_POSTGRES, 60)


def redis_stopped() -> Any:
    """Redis shut down (it keeps nothing on disk anyway)."""
    return stopped(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], redis_up, START_REDIS, 30)


@contextmanager
def rabbitmq_stopped() -> Iterator[None]:
    """The RabbitMQ application stopped (`rabbitmqctl stop_app`: the port closes, connections
    drop), then started again; if the node itself is gone, started with the machine's command."""
    try:
        subprocess.run(["rabbitmqctl", "stop_app"], capture_output=True, timeout=120)
        wait_until(lambda: not port_open(5672), 20)
        yield
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], capture_output=True, timeout=120)
        if not wait_until(rabbitmq_up, 30):
            subprocess.run(START_RABBITMQ, check=False, capture_output=True, timeout=60)
        assert wait_until(rabbitmq_up, 120), "RabbitMQ did not come back"


# --- traffic -----------------------------------------------------------------------------------

SCRIPT = [
    "hi",
    "my lower back is stiff from sitting all day",
    "how often should I get a massage",
    "what should I wear",
    "what are the benefits of massage",
    "how long is a session",
    "thanks",
]


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_traffic(stack: Stack, senders: List[str], duration_s: float, pause_s: float = 0.3,
                port: Optional[int] = None, retries: int = 0) -> List[Tuple[str, str, Reply]]:
    """Each sender talks through SCRIPT in a loop for `duration_s`, one message at a time (each
    failed message sent again with its id up to `retries` times)."""
    deadline = time.monotonic() + duration_s

    def talk(sender: str) -> List[Tuple[str, str, Reply]]:
        sent = []
        i = 0
        while time.monotonic() < deadline:
            message = SCRIPT[i % len(SCRIPT)]
            sent.append((sender, message, stack.send(sender, message, port=port, timeout=30, retries=retries)))
            i += 1
            time.sleep(pause_s)
        return sent

    with ThreadPoolExecutor(len(senders)) as pool:
        return [item for result in pool.map(talk, senders) for item in result]


def user_and_bot_turns(events: List[Dict[str, Any]]) -> List[Tuple[str, List[str]]]:
    """(user text, bot texts after it until the next user message) for each stored user event."""
    turns: List[Tuple[str, List[str]]] = []
    for event in events:
        if event["event"] == "user":
            turns.append((event.get("text") or "", []))
        elif event["event"] == "bot" and turns:
            turns[-1][1].append(event.get("text") or "")
    return turns


def write_result(name: str, data: Any) -> Path:
    out = PROJECT_ROOT / "results" / "prod"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
