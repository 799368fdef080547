"""SQLite tracker store: write-ahead log, no disk flush on every commit, connections kept open.

Why: Rasa's SQL tracker store commits once per turn, and SQLite's default (rollback journal,
`synchronous=FULL`) waits for the disk on every commit. Rasa runs that commit on its event loop,
so while one conversation's turn waits for the disk, every other conversation waits too: under
the bench's load `do_commit` was 13-17 % of the Rasa server's wall-clock samples (py-spy;
bench/README.md), more on a busy disk.

With `journal_mode=WAL` and `synchronous=NORMAL`, a commit appends to the write-ahead log without
waiting for the disk; the log is flushed at checkpoints. An application crash loses nothing; a
power loss or OS crash can lose the last turns written before it (the database stays
consistent). That is the usual trade for SQLite behind a server, and it applies only to the
embedded default (SQLite): PostgreSQL, the production tracker store, is untouched.

Connections are pooled (SQLAlchemy's QueuePool) instead of opened and closed for every session
(SQLAlchemy 1.4's NullPool default for SQLite files): closing the last connection to a WAL
database checkpoints it, and Python's sqlite3 does that while holding the GIL (11.5 % of the Rasa
server's CPU samples with WAL and NullPool). `check_same_thread=False` lets the retention job
use a pooled connection from its worker thread; the pool hands a connection to one user at a time.

Targets rasa 3.6.21 with SQLAlchemy 1.4 (pysqlite, a new connection per session).
tests/unit/test_patches.py fails when `SQLTrackerStore.__init__` changes upstream.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
POOL_SIZE = 4  # the event loop, the retention job, and headroom

UPSTREAM_SOURCES = {
    "rasa.core.tracker_store.SQLTrackerStore.__init__":
        "64e704d159dfa35b86175cccdc9d08b05cbf91b2e0779bccf115671106ad9314",
}

UPSTREAM = SQLTrackerStore.__dict__.get("_upstream_init", SQLTrackerStore.__init__)


def _set_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def __init__(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
    """Rasa's constructor; then, for an SQLite file, a pooled engine whose connections get the
    pragmas above."""
    UPSTREAM(self, *args, **kwargs)
    url = self.engine.url
    if self.engine.dialect.name != "sqlite" or url.database in (None, "", ":memory:"):
        return
    self.engine.dispose()
    self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=POOL_SIZE, max_overflow=0,
                                   connect_args={"check_same_thread": False})
    event.listen(self.engine, "connect", _set_pragmas)
    self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)


def apply() -> None:
    """Install the patch (idempotent)."""
    SQLTrackerStore._upstream_init = UPSTREAM  # type: ignore[attr-defined]
    SQLTrackerStore.__init__ = __init__  # type: ignore[assignment]
