"""The loader builds the database from data/kb, is idempotent, and refuses bad files safely."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.knowledge import models
from bot.knowledge.db import get_engine
from bot.knowledge.loader import KnowledgeBaseError, load, main
from tests.conftest import KB_DIR


def snapshot(url: str) -> dict:
    with Session(get_engine(url)) as session:
        return {
            table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
            for table in models.Base.metadata.sorted_tables
        }


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(KB_DIR, target)
    return target


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kb.db'}"


def test_loads_every_section_of_the_source_document(url: str) -> None:
    kb = load(KB_DIR, url)
    assert {e["id"] for e in kb.entries["techniques"]} == {
        "swedish", "deep_tissue", "sports", "trigger_point", "reflexology"}
    assert {e["id"] for e in kb.entries["conditions"]} == {
        "fever", "skin_infection", "blood_clot", "recent_surgery", "severe_cardiovascular",
        "pregnancy", "cancer_treatment", "varicose_veins", "inflammatory_flare", "low_blood_pressure"}
    with Session(get_engine(url)) as session:
        assert session.scalar(select(func.count()).select_from(models.Topic)) == len(kb.entries["topics"])
        assert session.scalar(select(func.count()).select_from(models.Synonym)) > 300


def test_loading_twice_changes_nothing(url: str) -> None:
    load(KB_DIR, url)
    first = snapshot(url)
    load(KB_DIR, url)
    assert snapshot(url) == first


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


BAD_EDITS = [
    pytest.param("audiences.yml", "techniques: [sports, deep_tissue]", "techniques: [sports, hot_stones]",
                 "audiences.yml, entry 'athlete': unknown reference 'hot_stones'", id="unknown reference"),
    pytest.param("techniques.yml", "    pressure: Firm. It can", "    pressur: Firm. It can",
                 "techniques.yml, entry 'deep_tissue': missing field(s) pressure", id="missing field"),
    pytest.param("goals.yml", "  - id: better_sleep", "  - id: stress_relief",
                 "goals.yml, entry 'stress_relief': duplicate id", id="duplicate id"),
    pytest.param("conditions.yml", "severity: relative\n    synonyms: [cancer,", "severity: mild\n    synonyms: [cancer,",
                 "conditions.yml, entry 'cancer_treatment': severity must be one of", id="bad severity"),
    pytest.param("body_parts.yml", "synonyms: [hand, hands,", "synonyms: [hand, swedish,",
                 "body_parts.yml, entry 'hands': synonym 'swedish' is already used by technique 'swedish'",
                 id="ambiguous synonym"),
    pytest.param("spa.yml", "spa:", "salon:", "spa.yml: unknown section 'salon'", id="unknown section"),
    pytest.param("topics.yml", "topics:\n", "topics:\n  - [not, a, mapping\n", "topics.yml: not valid YAML",
                 id="broken yaml"),
]


@pytest.mark.parametrize("file_name, old, new, message", BAD_EDITS)
def test_a_bad_file_names_file_and_entry_and_leaves_the_database_alone(
    kb_copy: Path, url: str, file_name: str, old: str, new: str, message: str
) -> None:
    load(KB_DIR, url)
    before = snapshot(url)
    replace_in(kb_copy / file_name, old, new)
    with pytest.raises(KnowledgeBaseError) as error:
        load(kb_copy, url)
    assert message in str(error.value)
    assert snapshot(url) == before


def test_the_command_line_reports_errors_without_a_traceback(
    kb_copy: Path, url: str, capsys: pytest.CaptureFixture
) -> None:
    replace_in(kb_copy / "goals.yml", "  - id: better_sleep", "  - id: stress_relief")
    assert main(["--kb-dir", str(kb_copy), "--database-url", url]) == 1
    assert "duplicate id" in capsys.readouterr().err
    assert main(["--kb-dir", str(KB_DIR), "--database-url", url]) == 0


def test_an_edited_answer_shows_up_after_reloading(kb_copy: Path, url: str) -> None:
    load(KB_DIR, url)
    replace_in(kb_copy / "topics.yml", "Sometimes. Some health plans", "Often. Some health plans")
    load(kb_copy, url)
    with Session(get_engine(url)) as session:
        assert session.get(models.Topic, "insurance").answer.startswith("Often.")
