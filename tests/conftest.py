"""Shared fixtures: a knowledge-base database built from data/kb in a temporary folder."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from bot.advice.catalogue import Catalogue
from bot.knowledge import queries
from bot.knowledge.loader import KnowledgeBase, load, read_knowledge_base
from bot.nlu.matcher import VocabularyMatcher

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KB_DIR = PROJECT_ROOT / "data" / "kb"


@pytest.fixture(scope="session")
def kb_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('kb') / 'knowledge.db'}"
    load(KB_DIR, url)
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", url)
    yield url
    patch.undo()


@pytest.fixture(scope="session")
def knowledge_base() -> KnowledgeBase:
    return read_knowledge_base(KB_DIR)


@pytest.fixture(scope="session")
def catalogue(kb_database: str) -> Catalogue:
    return queries.catalogue()


@pytest.fixture(scope="session")
def matcher(knowledge_base: KnowledgeBase) -> VocabularyMatcher:
    return VocabularyMatcher(knowledge_base.synonyms())


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    """The assistant as `make run` starts it, shared by the end-to-end and browser tests."""
    from tests.servers import start_servers

    yield from start_servers(tmp_path_factory)


@pytest.fixture(scope="session")
def assistant(servers: Dict[str, Any]) -> Any:
    return servers["assistant"]


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new database on the machine's PostgreSQL (127.0.0.1:5432), dropped afterwards; the test
    is skipped when there is no server."""
    import uuid

    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3)
    except psycopg2.OperationalError:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    admin.autocommit = True
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        from bot.knowledge.db import get_engine

        get_engine(url).dispose()
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

