"""Conversation locks as PostgreSQL advisory locks: the production lock store.

Rasa serialises the messages of one conversation with a lock store. Its Redis store keeps a lock
for a fixed lifetime (10 s here), so when a replica dies holding one, the conversation waits for
the expiry, and a Redis outage fails every message. Here a conversation's lock is
`pg_advisory_lock(key)` on a connection that the holder keeps until the turn is saved:

- tied to the holder's liveness: a killed replica's connections close with it, and PostgreSQL
  releases its locks at once, so another replica takes the conversation over without waiting;
- no extra service: PostgreSQL already holds the conversations; while it restarts, waiting for
  a lock is retried with backoff (bot/delivery/retry.py), like the tracker store's reads;
- fair enough: waiters queue in PostgreSQL's lock manager, in order of arrival.

endpoints.yml:
    lock_store:
      type: bot.delivery.locks.PostgresLockStore
      url: 127.0.0.1        # host, like the tracker store's
      port: 5432
      db: massage
      username: root
      password: ${TRACKER_DB_PASSWORD}
      pool_size: 60         # connections per replica: one per conversation being answered or waiting
      wait_s: 30            # a message waits at most this long for its conversation's turn

Redis (`type: redis`) stays available: LOCK_STORE=redis (bot/deployment.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Dict, NamedTuple, Optional, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore

from bot.delivery.retry import StoreUnavailable, deadline_s, transient

logger = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 60
DEFAULT_WAIT_S = 30.0


def lock_key(conversation_id: str) -> int:
    """The conversation's advisory lock key: 64 bits of a hash of its id (signed, as PostgreSQL's
    bigint)."""
    digest = hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=8, person=b"rasa-conv").digest()
    return int.from_bytes(digest, "big", signed=True)


def dsn_from(kwargs: Dict[str, Any]) -> Dict[str, Any]:
    return {"host": kwargs.get("url") or kwargs.get("host") or "127.0.0.1", "port": int(kwargs.get("port") or 5432),
            "database": kwargs.get("db") or "rasa", "user": kwargs.get("username") or None,
            "password": kwargs.get("password") or None}


class Held(NamedTuple):
    connection: Any
    key: int
    store: "PostgresLockStore"


# The locks this process holds, by conversation: the tracker store checks before saving a turn
# that its lock was not lost meanwhile (a PostgreSQL restart cuts the holding connection, and
# another replica may then have taken the conversation).
_held: Dict[str, Held] = {}


def lock_lost(conversation_id: str) -> bool:
    """Whether this process holds the conversation's lock on a connection that has since closed."""
    held = _held.get(conversation_id)
    if held is None:
        return False
    try:
        return held.connection.is_closed()
    except Exception:  # noqa: BLE001 - asyncpg's pool took a broken connection back: lost too
        return True


async def take_back(conversation_id: str) -> None:
    """Acquire a lost lock again (waiting for whoever holds it now)."""
    held = _held[conversation_id]
    await held.store._discard(held.connection)
    _held[conversation_id] = held._replace(connection=await held.store._acquire(conversation_id, held.key))


def asyncpg_errors() -> Tuple[type, ...]:
    """asyncpg's own failures of a connection that a new attempt on a fresh one gets past."""
    import asyncpg

    return (asyncpg.exceptions.InternalClientError,)


async def _no_reset(connection: Any) -> None:
    """A released lock connection holds nothing to reset."""


class PostgresLockStore(LockStore):
    """Advisory locks held on a pooled asyncpg connection for the length of a turn."""

    def __init__(self, endpoint_config: Any = None, **settings: Any) -> None:
        kwargs = dict(getattr(endpoint_config, "kwargs", None) or {})
        if endpoint_config is not None and getattr(endpoint_config, "url", None):
            kwargs.setdefault("url", endpoint_config.url)
        kwargs.update(settings)
        self.connect = dsn_from(kwargs)
        self.pool_size = int(kwargs.get("pool_size") or DEFAULT_POOL_SIZE)
        self.wait_s = float(kwargs.get("wait_s") or DEFAULT_WAIT_S)
        self._pool: Any = None
        self._pool_loop: Optional[asyncio.AbstractEventLoop] = None

    async def _get_pool(self) -> Any:
        import asyncpg

        loop = asyncio.get_running_loop()
        if self._pool is None or self._pool_loop is not loop:
            # No reset on release (asyncpg's runs four statements): the connection only ever
            # takes and releases one advisory lock, and one whose release failed is closed.
            self._pool = await asyncpg.create_pool(min_size=1, max_size=self.pool_size, command_timeout=None,
                                                   max_inactive_connection_lifetime=60, reset=_no_reset,
                                                   **self.connect)
            self._pool_loop = loop
        return self._pool

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = 0, wait_time_in_seconds: float = 0
                   ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock for the body of the `async with`."""
        key = lock_key(conversation_id)
        _held[conversation_id] = Held(await self._acquire(conversation_id, key), key, self)
        try:
            yield TicketLock(conversation_id)
        finally:
            held = _held.pop(conversation_id)
            await self._release(held.connection, key)

    async def _acquire(self, conversation_id: str, key: int) -> Any:
        started = time.monotonic()
        give_up_unreachable = started + deadline_s()
        delay, warned = 0.05, False
        while True:
            remaining = self.wait_s - (time.monotonic() - started)
            if remaining <= 0:
                raise LockError(f"Waited {self.wait_s:.0f} s for a conversation's lock.")
            connection = None
            try:
                pool = await self._get_pool()
                connection = await pool.acquire(timeout=remaining)
                await connection.execute("SELECT pg_advisory_lock($1)", key, timeout=remaining)
                return connection
            except Exception as error:  # noqa: BLE001 - sorted below
                if connection is not None:
                    await self._discard(connection)
                if isinstance(error, asyncio.TimeoutError):
                    raise LockError(f"Waited {self.wait_s:.0f} s for a conversation's lock.") from error
                if not (transient(error) or isinstance(error, asyncpg_errors())):
                    raise
                if time.monotonic() + delay > give_up_unreachable:
                    raise StoreUnavailable("conversation lock") from error
                if not warned:
                    logger.warning("Lock store: PostgreSQL is unreachable (%s); trying again.", type(error).__name__)
                    warned = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _release(self, connection: Any, key: int) -> None:
        try:
            released = await connection.fetchval("SELECT pg_advisory_unlock($1)", key, timeout=5)
            if not released:  # the connection was replaced (PostgreSQL restarted mid-turn)
                logger.warning("Lock store: a conversation's lock was gone before the turn ended.")
            await self._pool.release(connection)
        except Exception as error:  # noqa: BLE001 - a lost connection has released the lock anyway
            logger.warning("Lock store: could not release a lock (%s); dropping its connection.", type(error).__name__)
            await self._discard(connection)

    async def _discard(self, connection: Any) -> None:
        """Close a connection for good: PostgreSQL then releases whatever it held."""
        for step in (connection.terminate, lambda: self._pool.release(connection)):
            try:
                result = step()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:  # noqa: BLE001 - already closed or released
                pass

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
