"""SQL tracker store: keep each conversation's stored events in memory between its turns.

Why: on every message rasa 3.6's `SQLTrackerStore` reads all events of the conversation's
current session back from the database, parses their JSON, rebuilds Event objects and replays
them, and on saving counts them again to know which ones are new. That cost grows with the
conversation: with 100-turn conversations it was 35 % of the Rasa server's CPU (py-spy;
bench/README.md), and a large part of the 14 % SQL share of a short conversation's turn.

What it does: after a turn is saved, the conversation's events (exactly as the database returns
them: each new event goes through the same JSON round trip) and a marker of what the database
holds for it (row count and highest id, as of that insert) stay in a
small LRU cache. The next `retrieve` reads only that marker (one indexed query); when it matches,
the tracker comes from the cached events, without reading, parsing or deserialising them: the
entry also keeps those events replayed into a tracker (as rasa's `from_events` does, then only
each turn's new events), and hands out a duplicate of it (bot/patches/tracker_copy.py), so the
conversation is not replayed from its start on every turn.
When another process (a second replica) only added events after the cached ones, just those
rows are read and replayed onto the cached tracker: with a balancer that sends a conversation's
turns to alternate replicas, each replica otherwise re-read and replayed the whole conversation on
every turn, and two replicas served fewer replies than one.
Anything else falls back to Rasa's own code and drops the entry: a marker that changed otherwise
(the conversation was deleted on request, purged by retention, a new session), a
turn that started a new session (Rasa then reads only the new session's events), a tracker that
was not built from the cached events, `retrieve_full_tracker`, and entries idle for TTL_S (so a
forgotten conversation does not linger in memory).

`save` writes the same rows as Rasa's own `save` (and calls the store's `events_written` hook,
if it has one, in the same transaction); when the database still holds exactly the
cached events (marker read in the same transaction), it skips Rasa's count query, since that
count is the number of cached events. That path runs on a plain connection, not an ORM session
(whose set-up was most of the SQL cost of a turn), with the turn's rows in one multi-row INSERT
(Rasa's ORM adds them one statement each), and reads the new marker in the same transaction.
Targets rasa 3.6.21 (SQLAlchemy 1.4). tests/unit/test_patches.py fails when any of the replaced
or reproduced upstream functions changes.
"""
from __future__ import annotations

import itertools
import json
import time
from collections import OrderedDict
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.patches import tracker_copy
from bot.patches.cache_bounds import MAX_CONVERSATIONS, TTL_S


UPSTREAM_SOURCES = {
    "rasa.core.tracker_store.SQLTrackerStore._retrieve":
        "c8adbf6f4b61ddd1124690944ebdf2ebc82d0723bd07c6704caab0b80120a0ef",
    "rasa.core.tracker_store.SQLTrackerStore.save":
        "57165e46eab3de0866e77f03df0bf7fd5eac2c1de617ed431b934c9a4edfeef6",
    "rasa.core.tracker_store.SQLTrackerStore._additional_events":
        "d22f99eb863acb07afee63d9fe3a04ca8464251e67a43eb7d36c2d65ffc1653f",
    "rasa.core.tracker_store.SQLTrackerStore._event_query":
        "cd44f7901b860bfd598a813bde17d0d5b0d7bab129feaf76bb2dca87d628625b",
}

UPSTREAM_RETRIEVE = SQLTrackerStore.__dict__.get("_upstream_retrieve", SQLTrackerStore._retrieve)
UPSTREAM = SQLTrackerStore.__dict__.get("_upstream_save", SQLTrackerStore.save)

Marker = Tuple[int, Optional[int]]


class Cached(NamedTuple):
    events: Tuple[Event, ...]  # the current session's events, as the database returns them
    marker: Marker  # (rows, highest id) of the conversation when these events were cached
    used_at: float
    # Those events replayed into a tracker that nothing else holds or changes (None: not yet).
    replay: Optional[DialogueStateTracker] = None


def _cache(store: SQLTrackerStore) -> "OrderedDict[str, Cached]":
    return store.__dict__.setdefault("_event_cache", OrderedDict())


class Statements(NamedTuple):
    marker: Any
    insert: Any
    newer: Any


def _statements(store: SQLTrackerStore) -> Statements:
    """The marker query and the events INSERT, built once per store: SQLAlchemy works out a
    statement's cache key once per statement object, so a new object each turn paid for it again
    (0.15-0.23 against 0.09-0.10 ms of CPU per marker query and INSERT on SQLite)."""
    statements = store.__dict__.get("_event_cache_statements")
    if statements is None:
        table = store.SQLEvent.__table__
        statements = store.__dict__["_event_cache_statements"] = Statements(
            sa.text(f"SELECT count(id), max(id) FROM {table.name} WHERE sender_id = :sender_id"), table.insert(),
            sa.text(f"SELECT data FROM {table.name} WHERE sender_id = :sender_id AND id > :low AND id <= :high "
                    "ORDER BY id"))
    return statements


def _marker(store: SQLTrackerStore, session: Any, sender_id: str) -> Marker:
    """(rows, highest id) of the conversation: one indexed query, no ORM (on a session or a
    connection)."""
    count, highest = session.execute(_statements(store).marker, {"sender_id": sender_id}).one()
    return int(count), highest


def _forget_idle(cache: "OrderedDict[str, Cached]", now: float) -> None:
    while cache and (len(cache) > MAX_CONVERSATIONS or now - next(iter(cache.values())).used_at > TTL_S):
        cache.popitem(last=False)


async def _retrieve(self: SQLTrackerStore, sender_id: str,
                    fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
    """Rasa's `_retrieve`, from the cache when the database still holds what was cached."""
    if fetch_events_from_all_sessions or not self.domain:
        return await UPSTREAM_RETRIEVE(self, sender_id, fetch_events_from_all_sessions)
    cache, now = _cache(self), time.monotonic()
    _forget_idle(cache, now)
    with self.engine.connect() as connection:
        marker = _marker(self, connection, sender_id)
        cached = cache.pop(sender_id, None)
        if cached is not None and cached.marker != marker:
            cached = _caught_up(self, connection, sender_id, cached, marker)
    if cached is not None and cached.marker == marker:
        replay = cached.replay or DialogueStateTracker.from_events(sender_id, list(cached.events), self.domain.slots)
        cache[sender_id] = cached._replace(used_at=now, replay=replay)
        return handed_out(replay)
    tracker = await UPSTREAM_RETRIEVE(self, sender_id, fetch_events_from_all_sessions)
    if tracker is not None:  # read after the marker: at worst newer, then the next marker differs
        cache[sender_id] = Cached(tuple(tracker.events), marker, now)
    return tracker


def _caught_up(store: SQLTrackerStore, connection: Any, sender_id: str, cached: Cached,
               marker: Marker) -> Optional[Cached]:
    """The cached entry moved on to `marker` when the database only added events after the cached
    ones (another replica answered the conversation's last turns): those rows are read, parsed and
    replayed onto the cached tracker, instead of the whole conversation. None when anything else
    changed (rows deleted, a new session), so Rasa's own retrieve decides."""
    count, highest = marker
    low = cached.marker[1]
    if low is None or highest is None or count <= cached.marker[0] or highest <= low:
        return None
    rows = connection.execute(_statements(store).newer, {"sender_id": sender_id, "low": low, "high": highest}).all()
    if cached.marker[0] + len(rows) != count:
        return None
    stored = [Event.from_parameters(json.loads(data)) for (data,) in rows]
    if any(event is None or isinstance(event, SessionStarted) for event in stored):
        return None
    replay = cached.replay  # popped from the cache: no one else holds it
    if replay is not None:
        for event in stored:
            replay.update(event)
    return Cached(cached.events + tuple(stored), marker, cached.used_at, replay)


def handed_out(replay: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker in the replay's state for the caller to change, with a replay of its own for
    its copies; the cached replay stays untouched."""
    tracker = tracker_copy.duplicate(replay)
    tracker.__dict__[tracker_copy.REPLAY] = tracker_copy.duplicate(replay)
    return tracker


async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    """Rasa's `save` (same rows), then the cache entry moves on to the saved events."""
    await self.stream_events(tracker)
    sender_id = tracker.sender_id
    cached = _cache(self).pop(sender_id, None)
    if cached is not None and tracker_copy.starts_with_the_same(tracker.events, cached.events) and _append(self, tracker, cached):
        return
    with self.session_scope() as session:
        # only store recent events
        rows = _rows(self, sender_id, list(self._additional_events(session, tracker)))
        if rows:
            session.execute(self.SQLEvent.__table__.insert(), [row for row, _ in rows])
            _written(self, session, sender_id, rows)
        session.commit()


def _written(store: SQLTrackerStore, connection: Any, sender_id: str, rows: List[Tuple[Dict[str, Any], str]]) -> None:
    """A store's `events_written(connection, sender_id, serialised_events)`, when it has one, in
    the transaction that wrote the rows (bot.retention's store writes its event outbox there)."""
    hook = getattr(store, "events_written", None)
    if hook is not None:
        hook(connection, sender_id, [serialised for _, serialised in rows])


def _rows(store: SQLTrackerStore, sender_id: str, events: List[Event]) -> List[Tuple[Dict[str, Any], str]]:
    """The rows Rasa's `save` writes for `events`, each with its serialised event."""
    rows = []
    for event in events:
        data = event.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
        serialised = json.dumps(data)
        rows.append(({"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                      "intent_name": intent, "action_name": data.get("name"), "data": serialised}, serialised))
    return rows


def _append(store: SQLTrackerStore, tracker: DialogueStateTracker, cached: Cached) -> bool:
    """Write the turn's new events when the database holds exactly the cached ones: one
    transaction on a plain connection, the rows in one multi-row INSERT. False (nothing written)
    when the database holds anything else; Rasa's own way then decides what to store."""
    sender_id = tracker.sender_id
    with store.engine.begin() as connection:
        if _marker(store, connection, sender_id) != cached.marker:
            return False
        # Rasa's count of the current session's stored events (`_additional_events`) is the
        # number of cached events.
        rows = _rows(store, sender_id, list(itertools.islice(tracker.events, len(cached.events), None)))
        if rows:
            connection.execute(_statements(store).insert, [row for row, _ in rows])
            _written(store, connection, sender_id, rows)
        marker = _marker(store, connection, sender_id)
    stored = [Event.from_parameters(json.loads(serialised)) for _, serialised in rows]
    if marker[0] == cached.marker[0] + len(rows) and all(
            e is not None and not isinstance(e, SessionStarted) for e in stored):
        replay = cached.replay  # the popped entry's, so no one else holds it
        if replay is not None:
            for event in stored:
                replay.update(event)
        _cache(store)[sender_id] = Cached(cached.events + tuple(stored), marker, time.monotonic(), replay)
    return True


def apply() -> None:
    """Install the patch (idempotent)."""
    SQLTrackerStore._upstream_retrieve = UPSTREAM_RETRIEVE  # type: ignore[attr-defined]
    SQLTrackerStore._upstream_save = UPSTREAM  # type: ignore[attr-defined]
    SQLTrackerStore._retrieve = _retrieve  # type: ignore[assignment]
    SQLTrackerStore.save = save  # type: ignore[assignment]
