"""Alembic migrations: an empty, an older and a pre-migration database all reach the models'
schema, booking requests survive every step, and the newest revision matches the models."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot.booking import store
from bot.booking.models import BookingRequest
from bot.knowledge import migrate, models
from bot.knowledge.db import get_engine
from bot.knowledge.loader import KNOWLEDGE_TABLES, load
from tests.conftest import KB_DIR, throwaway_postgres

BOOKING_TABLE = BookingRequest.__tablename__


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kb.db'}"


def tables(url: str) -> set:
    return set(inspect(get_engine(url)).get_table_names())


def columns(url: str, table: str) -> dict:
    return {c["name"]: c["nullable"] for c in inspect(get_engine(url)).get_columns(table)}


def a_booking(url: str) -> str:
    return store.create_request(sender_id="conversation-1", channel="web", technique="swedish",
                                minutes=60, url=url).code


def test_an_empty_database_is_migrated_to_the_models_schema_from_any_directory(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    migrate.upgrade(url)
    assert tables(url) == set(models.Base.metadata.tables) | {migrate.VERSION_TABLE}
    for table in models.Base.metadata.sorted_tables:
        assert columns(url, table.name) == {c.name: c.nullable for c in table.columns}, table.name
    indexes = {i["name"]: i["unique"] for i in inspect(get_engine(url)).get_indexes(BOOKING_TABLE)}
    assert indexes == {"ix_booking_requests_code": True, "ix_booking_requests_sender_id": False,
                       "ix_booking_requests_created_at": False}
    assert migrate.current_revision(url) == migrate.head_revision()


def test_the_newest_revision_and_the_models_agree(url: str) -> None:
    migrate.upgrade(url)
    assert migrate.differences(url) == []
    command.check(migrate.alembic_config(url))  # raises when autogenerate would find changes


def test_an_older_database_is_upgraded_and_keeps_its_rows(url: str) -> None:
    migrate.upgrade(url, migrate.KNOWLEDGE_REVISION)
    assert BOOKING_TABLE not in tables(url)
    with Session(get_engine(url)) as session, session.begin():
        session.add(models.Goal(id="calm", name="Calm", benefit="Feel calmer."))
    migrate.upgrade(url)
    assert BOOKING_TABLE in tables(url)
    with Session(get_engine(url)) as session:
        assert session.get(models.Goal, "calm").name == "Calm"
    assert store.get_by_code(a_booking(url), url=url) is not None


def test_downgrading_to_the_bookings_removes_only_the_later_tables(url: str) -> None:
    load(KB_DIR, url)
    migrate.downgrade(url, migrate.BOOKING_REVISION)
    assert "crisis_resources" not in tables(url) and BOOKING_TABLE in tables(url)
    assert migrate.current_revision(url) == migrate.BOOKING_REVISION


def test_downgrading_to_the_first_revision_removes_the_booking_table_too(url: str) -> None:
    load(KB_DIR, url)
    migrate.downgrade(url, migrate.KNOWLEDGE_REVISION)
    assert BOOKING_TABLE not in tables(url)
    assert set(migrate.revision_tables(migrate.KNOWLEDGE_REVISION)) <= tables(url)
    assert migrate.current_revision(url) == migrate.KNOWLEDGE_REVISION
    with Session(get_engine(url)) as session:
        assert session.get(models.Condition, "fever") is not None


def test_a_database_built_before_migrations_keeps_its_booking_requests(url: str) -> None:
    engine = get_engine(url)
    models.Base.metadata.create_all(engine)  # what the loader did before migrations
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO goals (id, name, benefit) VALUES ('stale', 'Stale goal', 'Gone from data/kb.')")
    code = a_booking(url)
    load(KB_DIR, url)
    assert migrate.current_revision(url) == migrate.head_revision()
    assert store.get_by_code(code, url=url).technique == "swedish"
    with Session(engine) as session:
        goals = set(session.scalars(select(models.Goal.id)))
    assert "stale" not in goals and "better_sleep" in goals
    assert migrate.differences(url) == []


def test_a_pre_migration_database_without_bookings_gets_the_booking_table(url: str) -> None:
    with get_engine(url).begin() as connection:
        connection.exec_driver_sql("CREATE TABLE conditions (id VARCHAR PRIMARY KEY, name VARCHAR)")
    migrate.upgrade(url)
    assert migrate.differences(url) == []
    assert BOOKING_TABLE in tables(url)


def test_adopting_an_old_database_drops_exactly_the_tables_the_loader_rewrites() -> None:
    assert {name for revision in migrate.KNOWLEDGE_REVISIONS for name in migrate.revision_tables(revision)} == {
        t.name for t in KNOWLEDGE_TABLES}
    assert migrate.revision_tables(migrate.BOOKING_REVISION) == (BOOKING_TABLE,)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database on the machine's PostgreSQL (the production stack's server)."""
    with throwaway_postgres("migrations_test") as url:
        yield url


def test_postgresql_databases_migrate_alongside_rasas_own_tables(postgres_url: str) -> None:
    engine = get_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255))")
    models.Base.metadata.create_all(engine)  # a database the loader built before migrations
    code = a_booking(postgres_url)
    load(KB_DIR, postgres_url)
    assert store.get_by_code(code, url=postgres_url) is not None
    assert "events" in tables(postgres_url)
    assert migrate.differences(postgres_url) == []
    migrate.downgrade(postgres_url, migrate.KNOWLEDGE_REVISION)
    assert BOOKING_TABLE not in tables(postgres_url)
    migrate.upgrade(postgres_url)
    assert migrate.differences(postgres_url) == []
