"""How long conversations and booking requests are kept, and deleting them: on request ("forget
me") or when older than RETENTION_DAYS (default 30) for conversations and BOOKING_RETENTION_DAYS
(default 90; 0 keeps them until deleted) for booking requests.

- `PrivateSQLTrackerStore` is Rasa's SQL tracker store (SQLite by default, PostgreSQL in
  production; configured by bot/deployment.py) with two additions: when a turn ends with the
  `forget_requested` slot set (the person confirmed "delete my conversation"), saving the turn
  deletes every stored event of the conversation instead, and the booking requests made in it
  (bot.booking.store, in DATABASE_URL). Rasa saves the tracker once at the end of each turn, while
  it holds the conversation's lock, so nothing is written back afterwards. Other deletions (the
  kiosk's reset, a planted conversation) keep the booking requests: reception still needs a
  request made at the kiosk after the screen is cleared.
  It also never puts SQL parameters (message content) into error messages.
- `purge()` deletes every event older than the retention period, `purge_bookings()` every
  booking request older than its own. The server runs both every RETENTION_INTERVAL_S (default an
  hour; bot/security/hooks.py); for cron, or to run them by hand:

      .venv/bin/python -m bot.retention purge [--days 30] [--booking-days 90] [--endpoints .run/endpoints.yml]
      .venv/bin/python -m bot.retention forget CONVERSATION_ID

Events already sent to an event broker (RabbitMQ) are outside these stores: whoever consumes
them must apply the same retention.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable, List, Mapping, Optional

from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import SQLAlchemyError

from bot.booking import appointment_store
from bot.booking import store as bookings
from bot.delivery import outbox as event_outbox
from bot.delivery import locks, once
from bot.delivery.retry import StoreUnavailable, retrying

logger = logging.getLogger(__name__)

FORGET_SLOT = "forget_requested"
SECONDS_PER_DAY = 86400.0
DEFAULT_BOOKING_RETENTION_DAYS = 90.0


def booking_retention_days(env: Optional[Mapping[str, str]] = None) -> float:
    """Booking requests are kept longer than chats (the visit may be weeks away); 0 keeps them."""
    env = os.environ if env is None else env
    return float(env.get("BOOKING_RETENTION_DAYS") or DEFAULT_BOOKING_RETENTION_DAYS)


def forget_requested(tracker: DialogueStateTracker) -> bool:
    """The person confirmed that this conversation must be deleted."""
    slot = tracker.slots.get(FORGET_SLOT)
    return slot is not None and slot.value is True


class PrivateSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store that can delete a conversation and events past retention, and
    that never loses a turn while its database is away.

    `booking_database_url` (endpoints.yml, optional) is where booking requests live when it is not
    DATABASE_URL. `outbox: true` writes each new event into the event outbox in the same
    transaction (bot/delivery/outbox.py; production), and Rasa's own broker is not used.
    Reads and writes that fail because the database is unreachable are retried until
    STORE_RETRY_S, then raise `StoreUnavailable` (bot/delivery/retry.py); Rasa's in-memory
    fallback, which kept such turns off the record, is switched off (bot/patches/no_memory_fallback.py).
    """

    def __init__(self, *args: Any, booking_database_url: Optional[str] = None, outbox: bool = False,
                 **kwargs: Any) -> None:
        self.booking_database_url = booking_database_url
        self.outbox = bool(outbox)
        super().__init__(*args, **kwargs)
        # SQLAlchemy error messages otherwise include the row being written: the message text.
        self.engine.hide_parameters = True
        if self.outbox:
            event_outbox.create_table(self.engine)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        read = once.take_read(sender_id)
        if read is not None:
            return read
        return await retrying(lambda: super(PrivateSQLTrackerStore, self).retrieve(sender_id), "reading a conversation")

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        return await retrying(lambda: super(PrivateSQLTrackerStore, self).retrieve_full_tracker(conversation_id),
                              "reading a conversation")

    async def save(self, tracker: DialogueStateTracker) -> None:
        if forget_requested(tracker):
            await retrying(lambda: self.delete_conversation(tracker.sender_id, with_bookings=True),
                           "deleting a conversation")
            return
        if locks.lock_lost(tracker.sender_id):
            await self._check_nothing_changed(tracker)
        # Retrying is safe: a write that did not commit left nothing behind, and one that did is
        # found by Rasa's count of the stored events, so only the rest is written.
        await retrying(lambda: super(PrivateSQLTrackerStore, self).save(tracker), "saving a turn")

    async def _check_nothing_changed(self, tracker: DialogueStateTracker) -> None:
        """The conversation's lock went with a connection PostgreSQL cut during the turn: take it
        back, and save only when no one else stored anything meanwhile (else the person is asked
        to send the message again, and nothing of this turn is kept)."""
        await locks.take_back(tracker.sender_id)
        # Rasa's own read (past the cache, which this replica filled before the lock was lost).
        read = getattr(SQLTrackerStore, "_upstream_retrieve", SQLTrackerStore._retrieve)
        stored = await retrying(lambda: read(self, tracker.sender_id, False), "reading a conversation")
        stored_events = [(e.type_name, e.timestamp) for e in (stored.events if stored else [])]
        ours = [(e.type_name, e.timestamp) for e in tracker.events]
        if ours[:len(stored_events)] != stored_events:
            logger.warning("A conversation changed while its lock was lost; its turn is not saved.")
            raise StoreUnavailable("the conversation changed while its lock was lost")

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """With the outbox the relay publishes the events, once they are stored."""
        if not self.outbox:
            await super().stream_events(tracker)

    def events_written(self, connection: Any, sender_id: str, serialised_events: List[str]) -> None:
        """Called by the save in the transaction that wrote the events (bot/patches/tracker_event_cache.py)."""
        if self.outbox:
            event_outbox.write(connection, sender_id, serialised_events)

    async def delete_conversation(self, sender_id: str, with_bookings: bool = False) -> int:
        """Delete every stored event of the conversation, and with "forget me" its booking
        requests too; returns how many events there were."""
        requests = forget_bookings(sender_id, self.booking_database_url) if with_bookings else 0
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(
                synchronize_session=False)
            if self.outbox:
                event_outbox.forget(session, sender_id)
            session.commit()
        logger.info("Deleted a conversation on request (%d events, %d booking requests).", deleted, requests)
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


def forget_bookings(sender_id: str, url: Optional[str] = None) -> int:
    """"Forget me" covers the booking requests made in the conversation. A failure is logged, not
    raised: the conversation itself must still be deleted."""
    try:
        deleted = bookings.delete_for_sender(sender_id, url=url)
        appointment_store.forget_sender(sender_id, url=url)
    except SQLAlchemyError as error:
        logger.error("Could not delete a conversation's booking requests (%s).", type(error).__name__)
        deleted = 0
    forget_review_labels(sender_id, url)
    return deleted


def forget_review_labels(sender_id: str, url: Optional[str] = None) -> None:
    """"Forget me" also takes back what staff labelled from the conversation on the review page,
    and the training-data export made from it."""
    from bot.staff import review, review_export

    try:
        if review.forget(sender_id, url):
            review_export.export(url, review_export.export_path())
    except (SQLAlchemyError, OSError) as error:
        logger.error("Could not delete a conversation's review labels (%s).", type(error).__name__)


async def delete_conversation(store: TrackerStore, sender_id: str, with_bookings: bool = False) -> int:
    """Delete a conversation from whichever store holds it (SQL, in-memory or Redis); with
    `with_bookings` (the person asked to be forgotten) its booking requests go too."""
    store = innermost(store)
    if hasattr(store, "delete_conversation"):
        return await store.delete_conversation(sender_id, with_bookings=with_bookings)
    if isinstance(store, InMemoryTrackerStore):
        deleted = 1 if store.store.pop(sender_id, None) is not None else 0
    elif hasattr(store, "red"):  # RedisTrackerStore
        deleted = int(store.red.delete(getattr(store, "key_prefix", "") + sender_id))
    else:
        raise NotImplementedError(f"Deleting conversations from {type(store).__name__} is not supported")
    if with_bookings:
        forget_bookings(sender_id)
    return deleted


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


def purge_bookings(days: float, url: Optional[str] = None, now: Optional[Callable[[], float]] = None) -> int:
    """Delete booking requests made more than `days` ago; `days` <= 0 keeps them all."""
    if days <= 0:
        return 0
    clock = datetime.utcfromtimestamp((now or time.time)()).replace(microsecond=0)
    deleted = bookings.purge_older_than(days, url=url, now=clock)
    appointment_store.forget_older_than(days, now=clock.replace(tzinfo=timezone.utc), url=url)
    logger.info("Retention: deleted %d booking requests older than %g days.", deleted, days)
    return deleted


async def run_periodically(get_store: Callable[[], Any], days: float, interval_s: float,
                           now: Optional[Callable[[], float]] = None, booking_days: Optional[float] = None,
                           booking_url: Optional[str] = None) -> None:
    """The in-server retention job: purge conversations and booking requests at start, then every
    `interval_s` seconds. `booking_days` defaults to BOOKING_RETENTION_DAYS."""
    loop = asyncio.get_running_loop()
    booking_days = booking_retention_days() if booking_days is None else booking_days
    while True:
        store = get_store()
        if store is not None:
            try:
                await loop.run_in_executor(None, purge, store, days, now)
            except Exception as error:  # keep the job alive; the next run tries again
                logger.error("Retention: purge failed (%s).", type(error).__name__)
        try:
            await loop.run_in_executor(None, purge_bookings, booking_days, booking_url, now)
        except Exception as error:
            logger.error("Retention: booking purge failed (%s).", type(error).__name__)
        await asyncio.sleep(interval_s)


def _store_from_endpoints(path: str) -> Any:
    from rasa.core.tracker_store import create_tracker_store
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(path)
    return create_tracker_store(endpoints.tracker_store)


def main(argv: Optional[list] = None) -> int:
    from bot.security.settings import Settings

    parser = argparse.ArgumentParser(description="Delete old conversations and booking requests, or one conversation.")
    parser.add_argument("--endpoints", default=".run/endpoints.yml",
                        help="Rasa endpoints file naming the tracker store (make run writes .run/endpoints.yml)")
    parser.add_argument("--database-url", default=None,
                        help="database of the booking requests (defaults to DATABASE_URL or SQLite)")
    commands = parser.add_subparsers(dest="command", required=True)
    purge_cmd = commands.add_parser("purge", help="delete events and booking requests older than their retention periods")
    purge_cmd.add_argument("--days", type=float, default=Settings.from_env().retention_days)
    purge_cmd.add_argument("--booking-days", type=float, default=booking_retention_days(),
                           help="booking retention in days (BOOKING_RETENTION_DAYS, default 90; 0 keeps them)")
    forget_cmd = commands.add_parser("forget", help="delete one conversation and its booking requests")
    forget_cmd.add_argument("conversation_id")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    store = _store_from_endpoints(args.endpoints)
    if args.command == "purge":
        deleted = purge(store, args.days)
        print(f"Deleted {deleted} events older than {args.days:g} days.")
        if args.booking_days > 0:
            try:
                requests = purge_bookings(args.booking_days, args.database_url)
            except SQLAlchemyError as error:
                print(f"Booking requests not purged ({type(error).__name__}): run `make kb` to create "
                      "their table.", file=sys.stderr)
                return 1
            print(f"Deleted {requests} booking requests older than {args.booking_days:g} days.")
    else:
        deleted = asyncio.run(delete_conversation(store, args.conversation_id))
        requests = forget_bookings(args.conversation_id,
                                   args.database_url or getattr(innermost(store), "booking_database_url", None))
        print(f"Deleted the conversation ({deleted} events) and its booking requests ({requests}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
