"""Booking requests have their own retention period, and "forget me" takes them along with the
conversation, while a kiosk reset (which also deletes the conversation) leaves them for reception."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import List

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import retention
from bot.booking import store as bookings
from bot.knowledge import migrate
from bot.retention import PrivateSQLTrackerStore
from tests.conftest import PROJECT_ROOT

DAY = 86400.0
NOW = 1_800_000_000.0  # the test's "now", seconds since the epoch
TODAY = datetime.utcfromtimestamp(NOW)
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
def url(tmp_path: Path) -> str:
    address = f"sqlite:///{tmp_path / 'kb.db'}"
    migrate.upgrade(address)
    return address


@pytest.fixture
def tracker_store(tmp_path: Path, url: str) -> PrivateSQLTrackerStore:
    return PrivateSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"),
                                  booking_database_url=url)


def request(url: str, sender: str = "me", days_ago: float = 0) -> str:
    return bookings.create_request(sender_id=sender, channel="web", technique="swedish", minutes=60,
                                   url=url, now=TODAY - timedelta(days=days_ago)).code


def codes(url: str) -> List[str]:
    return sorted(r.code for r in bookings.search(url=url))


def conversation(sender: str, at: float = NOW) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(SessionStarted(timestamp=at))
    tracker.update(ActionExecuted("action_listen", timestamp=at))
    tracker.update(UserUttered("book me a massage", {"name": "book", "confidence": 1.0}, timestamp=at + 1,
                               input_channel="web"))
    return tracker


def test_booking_requests_are_kept_90_days_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOKING_RETENTION_DAYS", raising=False)
    assert retention.booking_retention_days() == 90
    assert retention.booking_retention_days({"BOOKING_RETENTION_DAYS": "14"}) == 14


def test_requests_older_than_the_booking_retention_period_are_purged(url: str) -> None:
    old, recent = request(url, days_ago=91), request(url, days_ago=89)
    assert retention.purge_bookings(90, url=url, now=lambda: NOW) == 1
    assert codes(url) == [recent]
    assert retention.purge_bookings(90, url=url, now=lambda: NOW + 2 * DAY) == 1
    assert codes(url) == [] and old != recent


def test_a_booking_retention_of_zero_keeps_every_request(url: str) -> None:
    request(url, days_ago=1000)
    assert retention.purge_bookings(0, url=url, now=lambda: NOW) == 0
    assert len(codes(url)) == 1


def test_the_retention_job_purges_booking_requests_too(url: str, tracker_store: PrivateSQLTrackerStore) -> None:
    asyncio.run(tracker_store.save(conversation("old", NOW - 40 * DAY)))
    old, recent = request(url, "old", days_ago=100), request(url, "new", days_ago=10)

    async def run_once() -> None:
        job = asyncio.ensure_future(retention.run_periodically(
            lambda: tracker_store, 30, 60, now=lambda: NOW, booking_days=90, booking_url=url))
        await asyncio.sleep(0.3)
        job.cancel()

    asyncio.run(run_once())
    assert codes(url) == [recent] and old != recent
    assert asyncio.run(tracker_store.retrieve("old")) is None


def test_the_retention_job_survives_a_database_without_the_booking_table(tmp_path: Path) -> None:
    async def run_once() -> None:
        job = asyncio.ensure_future(retention.run_periodically(
            lambda: None, 30, 60, now=lambda: NOW, booking_days=90,
            booking_url=f"sqlite:///{tmp_path / 'empty.db'}"))
        await asyncio.sleep(0.2)
        assert not job.done()
        job.cancel()

    asyncio.run(run_once())


def test_forget_me_deletes_the_conversations_booking_requests(url: str, tracker_store: PrivateSQLTrackerStore) -> None:
    tracker = conversation("me")
    asyncio.run(tracker_store.save(tracker))
    request(url, "me")
    request(url, "me", days_ago=3)
    someone_else = request(url, "someone-else")
    tracker.update(UserUttered("yes", {"name": "affirm", "confidence": 1.0}, input_channel="web"))
    tracker.update(SlotSet(retention.FORGET_SLOT, True))
    asyncio.run(tracker_store.save(tracker))
    assert asyncio.run(tracker_store.retrieve("me")) is None
    assert codes(url) == [someone_else]


def test_a_kiosk_reset_deletes_the_conversation_but_keeps_its_booking_request(
    url: str, tracker_store: PrivateSQLTrackerStore
) -> None:
    asyncio.run(tracker_store.save(conversation("kiosk-visitor")))
    code = request(url, "kiosk-visitor")
    assert asyncio.run(retention.delete_conversation(FailSafeTrackerStore(tracker_store), "kiosk-visitor")) == 3
    assert codes(url) == [code]


def test_forget_me_still_deletes_the_conversation_when_bookings_cannot_be_reached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = PrivateSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"),
                                   booking_database_url=f"sqlite:///{tmp_path / 'never-migrated.db'}")
    asyncio.run(store.save(conversation("me")))
    assert asyncio.run(store.delete_conversation("me", with_bookings=True)) == 3
    assert "booking requests" in caplog.text and "me" not in caplog.text.split()


def test_other_tracker_stores_forget_booking_requests_too(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    store = InMemoryTrackerStore(DOMAIN)
    asyncio.run(store.save(conversation("me")))
    request(url, "me")
    assert asyncio.run(retention.delete_conversation(store, "me", with_bookings=True)) == 1
    assert codes(url) == []


def endpoints_for(tmp_path: Path) -> Path:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(f"tracker_store:\n  type: bot.retention.PrivateSQLTrackerStore\n  dialect: sqlite\n"
                         f"  db: {tmp_path / 'tracker.db'}\n")
    return endpoints


def test_the_purge_command_purges_booking_requests(url: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bookings.create_request(sender_id="old", channel="web", url=url, now=datetime.utcnow() - timedelta(days=40))
    recent = request(url, "new", days_ago=0)
    assert retention.main(["--endpoints", str(endpoints_for(tmp_path)), "--database-url", url,
                           "purge", "--booking-days", "30"]) == 0
    assert "Deleted 1 booking requests older than 30 days." in capsys.readouterr().out
    assert [r.code for r in bookings.search(url=url)] == [recent]


def test_the_purge_command_says_when_the_booking_table_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert retention.main(["--endpoints", str(endpoints_for(tmp_path)), "--database-url",
                           f"sqlite:///{tmp_path / 'never-migrated.db'}", "purge"]) == 1
    assert "make kb" in capsys.readouterr().err


def test_the_forget_command_deletes_the_booking_requests(
    url: str, tmp_path: Path, tracker_store: PrivateSQLTrackerStore, capsys: pytest.CaptureFixture
) -> None:
    asyncio.run(tracker_store.save(conversation("me")))
    request(url, "me")
    kept = request(url, "someone-else")
    assert retention.main(["--endpoints", str(endpoints_for(tmp_path)), "--database-url", url, "forget", "me"]) == 0
    assert "booking requests (1)" in capsys.readouterr().out
    assert codes(url) == [kept]
    assert asyncio.run(tracker_store.retrieve("me")) is None
