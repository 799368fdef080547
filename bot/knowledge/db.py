"""Engine and session for the knowledge base, chosen by the DATABASE_URL environment variable."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_PATH = PROJECT_ROOT / ".data" / "knowledge.db"
KB_DIR = PROJECT_ROOT / "data" / "kb"


def database_url() -> str:
    """The knowledge base lives in SQLite next to the project unless DATABASE_URL says otherwise."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_DATABASE_PATH}"


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL, shared by the whole process, so connections are pooled."""
    return _engine_for(url or database_url())


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    if url == f"sqlite:///{DEFAULT_DATABASE_PATH}":
        DEFAULT_DATABASE_PATH.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite") and ":memory:" not in url and url != "sqlite://":
        # SQLAlchemy 1.4 opens and closes a file database for every session (NullPool); the
        # actions read the knowledge base several times a turn, so keep connections (as 2.0 does).
        return create_engine(url, future=True, poolclass=QueuePool,
                             connect_args={"check_same_thread": False})
    return create_engine(url, future=True, pool_pre_ping=True)


def get_session(url: str | None = None) -> Session:
    """A short-lived session; callers use it as a context manager."""
    return sessionmaker(get_engine(url), future=True, expire_on_commit=False)()
