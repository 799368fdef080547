"""Retrying a store operation while its database is away, up to a deadline.

A PostgreSQL restart or fail-over cuts every connection for a few seconds. Rasa's own answer is
to keep the turn in the replica's memory (FailSafeTrackerStore), which loses it from the record.
Here a read or write that fails for a reason that goes away by itself (the connection refused,
cut or not yet accepting) is tried again with backoff until STORE_RETRY_S (default 15 s) has
passed; then `StoreUnavailable` is raised, and the person is asked to try again in a moment
(bot/security/hooks.py), so nothing they saw is missing from the stored conversation.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Awaitable, Callable, Optional, Tuple, Type, TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_DEADLINE_S = 15.0
FIRST_DELAY_S = 0.05
MAX_DELAY_S = 1.0


class StoreUnavailable(Exception):
    """A store could not be reached before the deadline: nothing was handled or written."""


def deadline_s() -> float:
    return float(os.environ.get("STORE_RETRY_S") or DEFAULT_DEADLINE_S)


def _sqlalchemy_transient(error: BaseException) -> bool:
    from sqlalchemy import exc

    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError))


def _asyncpg_transient(error: BaseException) -> bool:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - pinned in requirements.txt
        return False
    transient: Tuple[Type[BaseException], ...] = (
        asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
        asyncpg.exceptions.OperatorInterventionError, asyncpg.exceptions.ConnectionDoesNotExistError)
    return isinstance(error, transient)


def transient(error: BaseException) -> bool:
    """Whether `error` says the database is away (for now), not that the operation is wrong."""
    if isinstance(error, (ConnectionError, OSError, asyncio.TimeoutError)):
        return True
    return _sqlalchemy_transient(error) or _asyncpg_transient(error)


async def retrying(operation: Callable[[], Awaitable[T]], what: str, deadline: Optional[float] = None,
                   sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                   clock: Callable[[], float] = time.monotonic) -> T:
    """`operation()`, tried again after transient failures until `deadline` seconds have passed."""
    limit = deadline_s() if deadline is None else deadline
    started, delay, attempt = clock(), FIRST_DELAY_S, 0
    while True:
        attempt += 1
        try:
            return await operation()
        except Exception as error:  # noqa: BLE001 - sorted by `transient`
            if not transient(error):
                raise
            if clock() - started + delay > limit:
                logger.error("%s: the database is still unreachable after %.0f s (%d attempts, %s).",
                             what, clock() - started, attempt, type(error).__name__)
                raise StoreUnavailable(what) from error
            if attempt == 1:
                logger.warning("%s: the database is unreachable (%s); trying again.", what, type(error).__name__)
            await sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)


def retrying_sync(operation: Callable[[], T], what: str, deadline: Optional[float] = None,
                  before_retry: Callable[[], None] = lambda: None,
                  sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> T:
    """`retrying` for blocking code (the action server's knowledge-base reads): `before_retry`
    undoes what a failed attempt left behind (its half-written reply)."""
    limit = deadline_s() if deadline is None else deadline
    started, delay = clock(), FIRST_DELAY_S
    while True:
        try:
            return operation()
        except Exception as error:  # noqa: BLE001 - sorted by `transient`
            if not transient(error) or clock() - started + delay > limit:
                raise
            logger.warning("%s: the database is unreachable (%s); trying again.", what, type(error).__name__)
            before_retry()
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)
