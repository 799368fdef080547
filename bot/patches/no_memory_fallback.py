"""No in-memory fallback for the tracker store: a turn is on record or it is not answered.

Why: rasa 3.6's `Agent._create_tracker_store` wraps every tracker store in a
`FailSafeTrackerStore`, which on any error reads and writes an `InMemoryTrackerStore` in the
replica's memory instead. While PostgreSQL restarted, turns were answered but kept only there:
missing from the stored conversation, from the staff figures and from "forget me", and a read
during the outage started the conversation afresh. Here the configured store is used as it is;
bot.retention.PrivateSQLTrackerStore retries while the database is away and then says so
(bot/delivery/retry.py), and the message guard asks the person to try again in a moment.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the upstream source changes.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from rasa.core.agent import Agent
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain

UPSTREAM_SOURCES = {
    "rasa.core.agent.Agent._create_tracker_store":
        "97499b594b45581b2c6d8ff7adb9083af24eba85654995a40350de65633ca574",
}

UPSTREAM: Callable[..., Any] = Agent.__dict__.get(
    "_upstream_create_tracker_store", Agent.__dict__["_create_tracker_store"]).__func__


def _create_tracker_store(store: Optional[TrackerStore], domain: Domain) -> TrackerStore:
    """Rasa's, without the FailSafeTrackerStore around the store."""
    if store is not None:
        store.domain = domain
        return store
    return InMemoryTrackerStore(domain)


def apply() -> None:
    """Install the patch (idempotent)."""
    Agent._upstream_create_tracker_store = staticmethod(UPSTREAM)  # type: ignore[attr-defined]
    Agent._create_tracker_store = staticmethod(_create_tracker_store)  # type: ignore[assignment]
