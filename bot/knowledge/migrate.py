"""Bring the database in DATABASE_URL to the newest schema with Alembic (migrations/).

The knowledge-base tables are rebuilt from data/kb on every load, but booking requests and the
saved versions of the spa's content (content_versions) are the spa's own records and share the
database, so the schema changes by migration, never by dropping and recreating tables. A database
built before migrations existed (knowledge-base tables, no alembic_version) is adopted: its
knowledge-base tables are dropped and recreated (they only held what data/kb says) and a booking
table that is already there is kept as it is.

    .venv/bin/python -m bot.knowledge.migrate [upgrade [REV] | downgrade REV | current | check]
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, List, Optional, Set, Tuple

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection

import bot.booking.appointments  # noqa: F401  (registers therapists, rooms and appointments)
import bot.booking.models  # noqa: F401  (registers booking_requests on the shared metadata)
import bot.staff.review_models  # noqa: F401  (registers review_labels on the shared metadata)
from bot.knowledge.db import PROJECT_ROOT, database_url, get_engine
from bot.knowledge.models import Base

logger = logging.getLogger(__name__)

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
VERSION_TABLE = "alembic_version"
KNOWLEDGE_REVISION = "0001"  # the knowledge-base tables as they were before migrations
BOOKING_REVISION = "0002"  # booking_requests
CRISIS_REVISION = "0003"  # crisis_resources (knowledge base: rewritten on every load)
CONTENT_REVISION = "0004"  # prices (knowledge base) and content_versions (the spa's saved edits: kept)
APPOINTMENT_REVISION = "0006"  # therapists, rooms, appointments (the spa's records: kept)
# Revisions whose TABLES only ever hold what data/kb (and the spa's saved content) says.
KNOWLEDGE_REVISIONS = (KNOWLEDGE_REVISION, CRISIS_REVISION, CONTENT_REVISION)


def alembic_config(url: Optional[str] = None, connection: Optional[Connection] = None) -> Config:
    """Alembic's configuration for this project, usable from any working directory."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = url or database_url()
    config.attributes["configure_logging"] = False  # the calling program owns logging
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: Optional[str] = None, revision: str = "head") -> None:
    """Apply every migration up to `revision`, in one transaction where the database allows it."""
    with get_engine(url).begin() as connection:
        config = alembic_config(url, connection)
        _adopt_unversioned(connection, config)
        command.upgrade(config, revision)


def downgrade(url: Optional[str], revision: str) -> None:
    """Undo migrations down to `revision` ("-1" for one step); drops what those revisions added."""
    with get_engine(url).begin() as connection:
        command.downgrade(alembic_config(url, connection), revision)


def current_revision(url: Optional[str] = None) -> Optional[str]:
    """The revision the database is at, or None before any migration ran."""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def differences(url: Optional[str] = None) -> List[Any]:
    """What separates the database from the models (empty when they agree), like `alembic check`."""
    with get_engine(url).connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": _own_tables_only, "compare_type": True})
        return compare_metadata(context, Base.metadata)


def revision_tables(revision: str) -> Tuple[str, ...]:
    """The tables a revision creates, as its module lists them (its knowledge-base tables, for 0004)."""
    script = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    return tuple(script.module.TABLES)


def head_revision() -> str:
    """The newest revision in migrations/: where `upgrade()` takes a database."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("migrations/versions holds no revision")
    return head


def _own_tables_only(name: Optional[str], type_: str, parent_names: Any) -> bool:
    return type_ != "table" or name in Base.metadata.tables


def _adopt_unversioned(connection: Connection, config: Config) -> None:
    tables = set(inspect(connection).get_table_names())
    if VERSION_TABLE in tables:
        return
    knowledge = [name for revision in KNOWLEDGE_REVISIONS for name in revision_tables(revision) if name in tables]
    bookings = all(name in tables for name in revision_tables(BOOKING_REVISION))
    if not knowledge and not bookings:
        return  # an empty database: the migrations create everything
    logger.info("Adopting a database built before migrations: recreating %d knowledge-base tables.",
                len(knowledge))
    for name in knowledge:
        Base.metadata.tables[name].drop(connection)
    for name in _empty_later_tables(connection, tables - set(knowledge)):
        Base.metadata.tables[name].drop(connection)  # the revision that owns it creates it again
    command.upgrade(config, KNOWLEDGE_REVISION)
    if bookings:
        command.stamp(config, BOOKING_REVISION)


def _empty_later_tables(connection: Connection, present: Set[str]) -> List[str]:
    """Tables of later revisions (the spa's saved content, review labels...) that a pre-migration
    database can only hold empty, because `create_all` made them: safe to leave to their migration."""
    kept = set(revision_tables(BOOKING_REVISION))
    later = sorted(name for name in present & set(Base.metadata.tables) if name not in kept)
    return [name for name in later
            if connection.execute(select(func.count()).select_from(Base.metadata.tables[name])).scalar() == 0]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Migrate the knowledge-base and booking tables.")
    parser.add_argument("--database-url", default=None, help="defaults to DATABASE_URL or SQLite")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade", help="migrate up (to the newest revision by default)").add_argument(
        "revision", nargs="?", default="head")
    commands.add_parser("downgrade", help="migrate down to a revision, or -1").add_argument("revision")
    commands.add_parser("current", help="print the database's revision")
    commands.add_parser("check", help="fail when the models and the database disagree")
    args = parser.parse_args(argv)
    if args.command == "upgrade":
        upgrade(args.database_url, args.revision)
    elif args.command == "downgrade":
        downgrade(args.database_url, args.revision)
    elif args.command == "check":
        found = differences(args.database_url)
        for difference in found:
            print(difference)
        return 1 if found else 0
    print(f"database revision: {current_revision(args.database_url) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
