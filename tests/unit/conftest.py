"""Fixtures the knowledge-base loader's tests share: a copy of data/kb to edit, an empty SQLite file."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import KB_DIR


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(KB_DIR, target)
    return target


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kb.db'}"
