"""Retention and "forget me" in the tracker store, with a clock the test controls, on SQLite (the
embedded default) and PostgreSQL (production; the machine's server, as tests/prod uses it)."""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import retention
from bot.knowledge import migrate
from bot.retention import PrivateSQLTrackerStore, purge
from tests.conftest import PROJECT_ROOT

DAY = 86400.0
NOW = 1_800_000_000.0  # the test's "now"
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def postgres_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], capture_output=True).returncode == 0


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request: Any, tmp_path: Path) -> Iterator[Callable[[Path], PrivateSQLTrackerStore]]:
    """A factory of stores on one fresh database (the same database on every call)."""
    if request.param == "sqlite":
        yield lambda path: PrivateSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
        return
    if not postgres_up():
        version = sorted(os.listdir("/etc/postgresql"))[-1] if os.path.isdir("/etc/postgresql") else "15"
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], capture_output=True)
        deadline = time.monotonic() + 30
        while not postgres_up() and time.monotonic() < deadline:
            time.sleep(0.5)
    assert postgres_up(), "PostgreSQL is not running on 127.0.0.1 (the production tests need it too)"
    name = f"retention_test_{uuid.uuid4().hex[:8]}"
    user = os.environ.get("TRACKER_DB_USER", "root")
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", user, "-d", "postgres", "-qc", f'CREATE DATABASE "{name}"'],
                   check=True, capture_output=True)
    stores = []

    def make(_: Path) -> PrivateSQLTrackerStore:
        store = PrivateSQLTrackerStore(domain=DOMAIN, dialect="postgresql", host="127.0.0.1", port=5432, db=name,
                                       username=user, password=os.environ.get("TRACKER_DB_PASSWORD", ""))
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.engine.dispose()
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", user, "-d", "postgres", "-qc",
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


def conversation(sender: str, at: float, text: str = "my back hurts") -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(SessionStarted(timestamp=at))
    tracker.update(ActionExecuted("action_listen", timestamp=at))
    tracker.update(UserUttered(text, {"name": "describe_problem", "confidence": 1.0}, timestamp=at + 1,
                               input_channel="web"))
    return tracker


def stored(store: PrivateSQLTrackerStore, sender: str) -> int:
    with store.session_scope() as session:
        return session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).count()


def test_events_older_than_the_retention_period_are_deleted(tmp_path: Path, store_at: Any) -> None:
    store = store_at(tmp_path)
    asyncio.run(store.save(conversation("old", NOW - 31 * DAY)))
    asyncio.run(store.save(conversation("recent", NOW - 29 * DAY)))
    asyncio.run(store.save(conversation("today", NOW - 60)))
    assert purge(store, days=30, now=lambda: NOW) == 3
    assert stored(store, "old") == 0 and stored(store, "recent") == 3 and stored(store, "today") == 3
    assert asyncio.run(store.retrieve("old")) is None
    # a day later the 29-day-old conversation is past 30 days too
    assert purge(store, days=30, now=lambda: NOW + 2 * DAY) == 3
    assert stored(store, "recent") == 0 and stored(store, "today") == 3


def test_purge_reaches_the_store_inside_rasas_wrapper(tmp_path: Path, store_at: Any) -> None:
    store = store_at(tmp_path)
    asyncio.run(store.save(conversation("old", NOW - 40 * DAY)))
    assert purge(FailSafeTrackerStore(store), days=30, now=lambda: NOW) == 3


def test_the_retention_job_purges_at_start_and_then_periodically(tmp_path: Path, store_at: Any) -> None:
    store = store_at(tmp_path)
    clock = {"now": NOW}
    asyncio.run(store.save(conversation("a", NOW - 10 * DAY)))

    async def run_for_a_while() -> None:
        job = asyncio.ensure_future(retention.run_periodically(lambda: store, 30, 0.05, now=lambda: clock["now"],
                                                               booking_days=0))
        await asyncio.sleep(0.2)
        assert stored(store, "a") == 3
        clock["now"] = NOW + 21 * DAY
        await asyncio.sleep(0.3)
        job.cancel()

    asyncio.run(run_for_a_while())
    assert stored(store, "a") == 0


def test_a_turn_that_asks_to_be_forgotten_deletes_the_conversation_instead_of_saving(tmp_path: Path,
                                                                                    store_at: Any) -> None:
    store = store_at(tmp_path)
    tracker = conversation("me", NOW - 60, text="I have a fever")
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(conversation("someone-else", NOW - 60)))
    tracker.update(UserUttered("yes", {"name": "affirm", "confidence": 1.0}, input_channel="web"))
    tracker.update(SlotSet(retention.FORGET_SLOT, True))
    asyncio.run(store.save(tracker))
    assert stored(store, "me") == 0 and asyncio.run(store.retrieve("me")) is None
    assert stored(store, "someone-else") == 3


def test_delete_conversation_works_through_rasas_wrappers(tmp_path: Path, store_at: Any) -> None:
    store = store_at(tmp_path)
    asyncio.run(store.save(conversation("me", NOW)))
    assert asyncio.run(retention.delete_conversation(FailSafeTrackerStore(store), "me")) == 3
    assert stored(store, "me") == 0


def test_sql_errors_never_show_the_message_text(tmp_path: Path, store_at: Any) -> None:
    assert store_at(tmp_path).engine.hide_parameters


def test_the_cron_command_purges_and_forgets(tmp_path: Path, capsys) -> None:
    store = PrivateSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    asyncio.run(store.save(conversation("old", 1000.0)))
    asyncio.run(store.save(conversation("me", 10 ** 10)))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: bot.retention.PrivateSQLTrackerStore\n  dialect: sqlite\n"
                         f"  db: {tmp_path / 'tracker.db'}\n")
    bookings = f"sqlite:///{tmp_path / 'kb.db'}"  # booking requests: tests/unit/test_booking_retention.py
    migrate.upgrade(bookings)
    assert retention.main(["--endpoints", str(endpoints), "--database-url", bookings, "purge", "--days", "30"]) == 0
    assert "Deleted 3 events" in capsys.readouterr().out and stored(store, "old") == 0
    assert retention.main(["--endpoints", str(endpoints), "--database-url", bookings, "forget", "me"]) == 0
    assert stored(store, "me") == 0
