"""Alembic environment: which database, which tables.

The URL is, in order: a connection or URL handed over by bot/knowledge/migrate.py
(config.attributes), `-x url=...` on the alembic command line, then DATABASE_URL (SQLite under
.data/ by default). Only the project's own tables are compared and migrated: in production the
same PostgreSQL database also holds Rasa's tracker tables and the analytics tables.
"""
from __future__ import annotations

from logging.config import fileConfig
from typing import Any, Optional

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

import bot.booking.appointments  # noqa: F401  (registers therapists, rooms and appointments)
import bot.booking.models  # noqa: F401  (registers booking_requests on the shared metadata)
import bot.staff.review_models  # noqa: F401  (registers review_labels)
from bot.knowledge.db import DEFAULT_DATABASE_PATH, database_url
from bot.knowledge.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def include_name(name: Optional[str], type_: str, parent_names: Any) -> bool:
    """Leave other components' tables (Rasa's events, analytics) out of comparisons."""
    if type_ == "table":
        return name in target_metadata.tables
    return True


def url() -> str:
    return (config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
            or database_url())


def configure(**options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_name=include_name,
        compare_type=True,
        **options,
    )


def run_offline() -> None:
    address = url()
    configure(url=address, literal_binds=True, render_as_batch=address.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    address = url()
    if address == f"sqlite:///{DEFAULT_DATABASE_PATH}":
        DEFAULT_DATABASE_PATH.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(address, poolclass=NullPool, future=True)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
