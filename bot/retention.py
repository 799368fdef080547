"""How long conversations are kept, and deleting them: on request ("forget me") or when older
than RETENTION_DAYS (default 30).

- `PrivateSQLTrackerStore` is Rasa's SQL tracker store (SQLite by default, PostgreSQL in
  production; configured by bot/deployment.py) with two additions: when a turn ends with the
  `forget_requested` slot set (the person confirmed "delete my conversation"), saving the turn
  deletes every stored event of the conversation instead. Rasa saves the tracker once at the end
  of each turn, while it holds the conversation's lock, so nothing is written back afterwards.
  It also never puts SQL parameters (message content) into error messages.
- `purge()` deletes every event older than the retention period. The server runs it every
  RETENTION_INTERVAL_S (default an hour; bot/security/hooks.py); for cron, or to run it by hand:

      .venv/bin/python -m bot.retention purge [--days 30] [--endpoints .run/endpoints.yml]
      .venv/bin/python -m bot.retention forget CONVERSATION_ID

Events already sent to an event broker (RabbitMQ) are outside these stores: whoever consumes
them must apply the same retention.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import Any, Callable, Optional

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

FORGET_SLOT = "forget_requested"
SECONDS_PER_DAY = 86400.0


def forget_requested(tracker: DialogueStateTracker) -> bool:
    """The person confirmed that this conversation must be deleted."""
    slot = tracker.slots.get(FORGET_SLOT)
    return slot is not None and slot.value is True


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store that can delete a conversation and events past retention."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # SQLAlchemy error messages otherwise include the row being written: the message text.
        self.engine.hide_parameters = True

    async def save(self, tracker: DialogueStateTracker) -> None:
        if forget_requested(tracker):
            await self.delete_conversation(tracker.sender_id)
            return
        await super().save(tracker)

    async def delete_conversation(self, sender_id: str) -> int:
        """Delete every stored event of the conversation; returns how many there were."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(
                synchronize_session=False)
            session.commit()
        logger.info("Deleted a conversation on request (%d events).", deleted)
        return deleted

    def delete_older_than(self, cutoff: float) -> int:
        """Delete every event with a timestamp before `cutoff` (seconds since the epoch)."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.timestamp < cutoff).delete(
                synchronize_session=False)
            session.commit()
        return deleted


def innermost(store: Any) -> Any:
    """The configured store inside Rasa's wrappers (FailSafeTrackerStore, AwaitableTrackerStore)."""
    seen = 0
    while hasattr(store, "_tracker_store") and seen < 5:
        store, seen = store._tracker_store, seen + 1
    return store


async def delete_conversation(store: TrackerStore, sender_id: str) -> int:
    """Delete a conversation from whichever store holds it (SQL, in-memory or Redis)."""
    store = innermost(store)
    if hasattr(store, "delete_conversation"):
        return await store.delete_conversation(sender_id)
    if isinstance(store, InMemoryTrackerStore):
        return 1 if store.store.pop(sender_id, None) is not None else 0
    if hasattr(store, "red"):  # RedisTrackerStore
        return int(store.red.delete(getattr(store, "key_prefix", "") + sender_id))
    raise NotImplementedError(f"Deleting conversations from {type(store).__name__} is not supported")


def purge(store: Any, days: float, now: Optional[Callable[[], float]] = None) -> int:
    """Delete every event older than `days`; `now` is the clock (tests pass their own)."""
    store = innermost(store)
    if not hasattr(store, "delete_older_than"):
        logger.warning("Retention: %s cannot delete old conversations; use the SQL tracker store.",
                       type(store).__name__)
        return 0
    cutoff = (now or time.time)() - days * SECONDS_PER_DAY
    deleted = store.delete_older_than(cutoff)
    logger.info("Retention: deleted %d events older than %g days.", deleted, days)
    return deleted


async def run_periodically(get_store: Callable[[], Any], days: float, interval_s: float,
                           now: Optional[Callable[[], float]] = None) -> None:
    """The in-server retention job: purge at start, then every `interval_s` seconds."""
    loop = asyncio.get_running_loop()
    while True:
        store = get_store()
        if store is not None:
            try:
                await loop.run_in_executor(None, purge, store, days, now)
            except Exception as error:  # keep the job alive; the next run tries again
                logger.error("Retention: purge failed (%s).", type(error).__name__)
        await asyncio.sleep(interval_s)


def _store_from_endpoints(path: str) -> Any:
    from rasa.core.tracker_store import create_tracker_store
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(path)
    return create_tracker_store(endpoints.tracker_store)


def main(argv: Optional[list] = None) -> int:
    from bot.security.settings import Settings

    parser = argparse.ArgumentParser(description="Delete old conversations, or one conversation.")
    parser.add_argument("--endpoints", default=".run/endpoints.yml",
                        help="Rasa endpoints file naming the tracker store (make run writes .run/endpoints.yml)")
    commands = parser.add_subparsers(dest="command", required=True)
    purge_cmd = commands.add_parser("purge", help="delete events older than the retention period")
    purge_cmd.add_argument("--days", type=float, default=Settings.from_env().retention_days)
    forget_cmd = commands.add_parser("forget", help="delete one conversation")
    forget_cmd.add_argument("conversation_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    store = _store_from_endpoints(args.endpoints)
    if args.command == "purge":
        deleted = purge(store, args.days)
        print(f"Deleted {deleted} events older than {args.days:g} days.")
    else:
        deleted = asyncio.run(delete_conversation(store, args.conversation_id))
        print(f"Deleted the conversation ({deleted} events).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
