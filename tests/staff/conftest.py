"""A booking database in a temporary folder and the staff page served in-process by a Sanic app
built with the same hook as Rasa's server (bot.security.hooks.secure_app)."""
from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import datetime
from typing import Any, Dict, Iterator

import pytest

from bot.booking import store
from bot.booking.models import BookingRequest  # noqa: F401  (registers the table)
from bot.knowledge.loader import load
from bot.knowledge.models import Base
from bot.knowledge.db import get_engine
from bot.staff.config import StaffConfig
from bot.staff.passwords import hash_password
from tests.conftest import KB_DIR
from tests.servers import free_port

PASSWORD = "correct horse battery"
API_TOKEN = "api-token-for-tests"

PREGNANCY = {"id": "pregnancy", "name": "Pregnancy", "severity": "relative",
             "modification": "Book a certified prenatal therapist; side-lying position."}
INTAKE = {"conditions": [{"id": "arthritis", "name": "Arthritis", "severity": "relative", "modification": ""}, PREGNANCY],
          "areas": ["lower back", "neck"], "goals": ["relaxation"], "symptoms": ["stiffness"],
          "pressure": "light", "audiences": ["pregnant"]}


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic rewrites its request handler once per process unless told that several apps start."""
    from sanic import Sanic

    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A knowledge base (for the spa's details) with an empty booking table."""
    url = f"sqlite:///{tmp_path / 'knowledge.db'}"
    load(KB_DIR, url)
    Base.metadata.create_all(get_engine(url))
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def add_request(url: str, **overrides: Any) -> BookingRequest:
    values: Dict[str, Any] = dict(
        sender_id=f"test-{uuid.uuid4().hex[:8]}", channel="web", technique="swedish", technique_name="Swedish massage",
        minutes=45, preferred_at=datetime(2026, 12, 1, 14, 30), preferred_text="next Tuesday at 2:30",
        name="Dana Rivers", phone="+15550100123", email="dana@example.com", intake=INTAKE)
    values.update(overrides)
    return store.create_request(url=url, **values)


class InProcessServer:
    """A Sanic app on a free port, run by an event loop in a background thread."""

    def __init__(self, app: Any) -> None:
        self.app, self.port = app, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready = threading.Event()
        self.started = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            server = self.loop.run_until_complete(self.app.create_server(
                host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False))
            self.loop.run_until_complete(server.startup())
            self.loop.run_until_complete(server.before_start())
            self.loop.run_until_complete(server.after_start())
            self.started = True
        finally:
            self.ready.set()
        try:
            self.loop.run_until_complete(server.serve_forever())
        except (RuntimeError, asyncio.CancelledError):
            pass

    def __enter__(self) -> "InProcessServer":
        self.thread.start()
        assert self.ready.wait(20) and self.started, "the in-process server did not start"
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def build_app(staff: StaffConfig, env: Dict[str, str]) -> Any:
    from sanic import Sanic, response

    from bot.security.hooks import secure_app
    from bot.security.settings import Settings

    app = Sanic(f"staff_test_{uuid.uuid4().hex[:10]}")

    @app.get("/status")
    async def status(_: Any) -> Any:  # stands in for Rasa's HTTP API
        return response.json({"ok": True})

    secure_app(app, Settings.from_env({"RETENTION_DAYS": "0", **env}, port=5005), API_TOKEN, False, staff=staff)
    return app


@pytest.fixture
def staff_config(password_hash: str) -> StaffConfig:
    return StaffConfig(accounts={"alice": password_hash}, secret_key=b"s" * 32)


@pytest.fixture
def staff_server(database: str, staff_config: StaffConfig) -> Iterator[InProcessServer]:
    app = build_app(staff_config, {"ALLOWED_ORIGINS": "https://www.spa.example", "MAX_REQUEST_BYTES": "20000"})
    with InProcessServer(app) as server:
        yield server
