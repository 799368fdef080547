"""The loader builds the database from data/kb, is idempotent, and refuses bad files safely."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.booking import store
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


def test_loads_every_section_of_the_source_document(url: str) -> None:
    kb = load(KB_DIR, url)
    assert {e["id"] for e in kb.entries["techniques"]} == {
        "swedish", "deep_tissue", "sports", "trigger_point", "reflexology"}
    assert {e["id"] for e in kb.entries["conditions"]} == {
        "fever", "skin_infection", "blood_clot", "recent_surgery", "severe_cardiovascular",
        "pregnancy", "cancer_treatment", "varicose_veins", "inflammatory_flare", "low_blood_pressure",
        "osteoporosis", "diabetes", "high_blood_pressure", "blood_thinners", "lymphoedema",
        "recent_injury", "arthritis", "migraine", "recent_childbirth"}
    assert {e["id"] for e in kb.entries["etiquette"]} == {
        "draping", "shaving", "talking", "pressure_feedback", "falling_asleep", "arrival", "tipping",
        "cancellation"}
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
    pytest.param("conditions.yml", "        url: https://abmp.com/textonlymags/article.php?article=2728\n", "",
                 "conditions.yml, entry 'osteoporosis': source #1 is missing url", id="source without url"),
    pytest.param("conditions.yml", '      - title: "No Bones About It', '      - title: ""\n        note: "No Bones About It',
                 "conditions.yml, entry 'osteoporosis': source #1 is missing title", id="source without title"),
    pytest.param("conditions.yml", "url: https://abmp.com/textonlymags/article.php?article=2728",
                 "url: http://abmp.com/textonlymags/article.php?article=2728",
                 "conditions.yml, entry 'osteoporosis': source #1 url must be a full https:// address",
                 id="source over plain http"),
    pytest.param("conditions.yml", "url: https://abmp.com/textonlymags/article.php?article=2728",
                 "url: abmp.com/textonlymags/article.php?article=2728",
                 "conditions.yml, entry 'osteoporosis': source #1 url must be a full https:// address",
                 id="source without scheme"),
    pytest.param("conditions.yml", "        url: https://abmp.com/textonlymags/article.php?article=2728\n",
                 "        url: https://abmp.com/textonlymags/article.php?article=2728\n        page: 3\n",
                 "conditions.yml, entry 'osteoporosis': source #1 has unknown field(s) page", id="unknown source field"),
    pytest.param("first_visit.yml", "    sources:\n      - title: If you are new to massage\n        url: https://silverbirchmt.com/new-to-massage/\n",
                 "    sources: https://silverbirchmt.com/new-to-massage/\n",
                 "first_visit.yml, entry 'talking': sources must be a non-empty list", id="sources not a list"),
    pytest.param("first_visit.yml", "    sources:\n      - title: If you are new to massage\n        url: https://silverbirchmt.com/new-to-massage/\n",
                 "    sources: []\n",
                 "first_visit.yml, entry 'talking': sources must be a non-empty list", id="empty sources"),
    pytest.param("first_visit.yml", "      - title: Your first appointment\n        url: https://angeldolfyn.com",
                 "      - title: Our first appointment\n        url: https://angeldolfyn.com",
                 "is titled 'Our first appointment' here but 'Your first appointment' elsewhere",
                 id="one url with two titles"),
    pytest.param("conditions.yml", "    audiences: [chronic_pain]", "    audiences: [arthritics]",
                 "conditions.yml, entry 'arthritis': unknown reference 'arthritics' in audiences", id="unknown condition audience"),
    pytest.param("first_visit.yml", "    policy: tipping\n", "    policy: tips\n",
                 "first_visit.yml, entry 'tipping': unknown policy 'tips' (no such setting in the 'spa' section)",
                 id="unknown policy key"),
    pytest.param("spa.yml", "  tipping: >-\n", "  gratuity: >-\n",
                 "first_visit.yml, entry 'tipping': unknown policy 'tipping'", id="policy removed from spa settings"),
    pytest.param("first_visit.yml", "    policy: tipping\n", "    policy: tipping\n    rule: always\n",
                 "first_visit.yml, entry 'tipping': unknown field(s) rule", id="unknown etiquette field"),
    pytest.param("first_visit.yml", "    answer: Customs differ", "    reply: Customs differ",
                 "first_visit.yml, entry 'tipping': missing field(s) answer", id="etiquette without answer"),
    pytest.param("first_visit.yml", "synonyms: [shave,", "synonyms: [tip, shave,",
                 "first_visit.yml, entry 'tipping': synonym 'tip' is already used by etiquette 'shaving'",
                 id="etiquette synonym used twice"),
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


def test_sources_policies_and_etiquette_are_stored(url: str) -> None:
    load(KB_DIR, url)
    with Session(get_engine(url)) as session:
        osteoporosis = session.get(models.Condition, "osteoporosis")
        assert osteoporosis.sources[0] == {
            "title": "No Bones About It: Working Safely with Clients Who Have Osteoporosis",
            "url": "https://abmp.com/textonlymags/article.php?article=2728",
        }
        assert session.get(models.Condition, "fever").sources == []
        assert session.get(models.Condition, "arthritis").audiences == ["chronic_pain"]
        assert session.get(models.Topic, "aftercare").sources
        tipping = session.get(models.Etiquette, "tipping")
        assert tipping.policy == "tipping" and tipping.sources
        assert session.get(models.Etiquette, "draping").policy is None
        assert session.get(models.Setting, ("spa", "tipping")).value.startswith("Here, tips are welcome")
        etiquette_terms = session.execute(
            select(models.Synonym.term).where(models.Synonym.entity == "etiquette")
        ).scalars().all()
        assert {"tipping", "cancel", "undress", "shave"} <= set(etiquette_terms)


def test_the_spa_policies_are_plain_settings_a_spa_can_reword(kb_copy: Path, url: str) -> None:
    replace_in(kb_copy / "spa.yml", "Here, tips are welcome but never expected.", "We do not accept tips.")
    load(kb_copy, url)
    with Session(get_engine(url)) as session:
        assert session.get(models.Setting, ("spa", "tipping")).value.startswith("We do not accept tips.")


def test_sources_are_tidied_but_not_changed(kb_copy: Path, url: str) -> None:
    replace_in(kb_copy / "first_visit.yml", "      - title: Is it okay to fall asleep during a massage?",
               "      - title: '  Is it okay to fall   asleep during a massage?  '")
    kb = load(kb_copy, url)
    entry = next(e for e in kb.entries["etiquette"] if e["id"] == "falling_asleep")
    assert entry["sources"] == [{
        "title": "Is it okay to fall asleep during a massage?",
        "url": "https://www.massageschool.org/blog/2015/02/24/is-it-okay-to-fall-asleep-during-a-massage/",
    }]


def test_a_database_from_an_older_release_is_brought_up_to_date(url: str) -> None:
    engine = get_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE conditions (id VARCHAR PRIMARY KEY, name VARCHAR)")
        connection.exec_driver_sql("INSERT INTO conditions VALUES ('old', 'Old condition')")
    load(KB_DIR, url)
    with Session(engine) as session:
        ids = set(session.scalars(select(models.Condition.id)))
    assert "old" not in ids and "osteoporosis" in ids


def test_reloading_never_touches_booking_requests(url: str) -> None:
    load(KB_DIR, url)
    code = store.create_request(sender_id="conversation-1", channel="web", url=url).code
    load(KB_DIR, url)
    assert store.get_by_code(code, url=url) is not None
