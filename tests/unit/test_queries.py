"""Every question intent has an answer in the knowledge base, with the source document's facts."""
from __future__ import annotations

import pytest
import yaml

from bot.knowledge import queries
from tests.conftest import KB_DIR, PROJECT_ROOT

TOPICS = yaml.safe_load((KB_DIR / "topics.yml").read_text())["topics"]
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
CRISIS = yaml.safe_load((KB_DIR / "crisis.yml").read_text())["crisis"]


def test_every_question_intent_has_a_topic() -> None:
    """Front-desk questions are answered from the spa's settings (bot/knowledge/front_desk.py)."""
    from bot.knowledge.front_desk import FRONT_DESK_INTENTS

    question_intents = {i for i in DOMAIN["intents"] if i.startswith("ask_")} - {"ask_why"} - FRONT_DESK_INTENTS
    assert question_intents == {t["intent"] for t in TOPICS}


@pytest.mark.parametrize("topic", TOPICS, ids=[t["id"] for t in TOPICS])
def test_each_topic_answer_carries_its_facts(kb_database: str, topic: dict) -> None:
    answer = queries.topic_for_intent(topic["intent"]).answer
    for fact in topic["facts"]:
        assert fact.lower() in answer.lower()


def test_techniques_come_in_the_knowledge_base_order(kb_database: str) -> None:
    assert [t.id for t in queries.techniques()] == [
        "swedish", "deep_tissue", "sports", "trigger_point", "reflexology"]


def test_conditions_are_split_into_absolute_and_relative(kb_database: str) -> None:
    assert {c.id for c in queries.conditions("absolute")} == {
        "fever", "skin_infection", "blood_clot", "recent_surgery", "severe_cardiovascular"}
    assert all(c.modification for c in queries.conditions("relative"))
    assert all(c.advice for c in queries.conditions("absolute"))


def test_conditions_beyond_the_source_document_are_relative_with_a_concrete_change_and_sources(
    kb_database: str,
) -> None:
    added = queries.conditions_by_id([
        "osteoporosis", "diabetes", "high_blood_pressure", "blood_thinners", "lymphoedema",
        "recent_injury", "arthritis", "migraine"])
    assert len(added) == 8
    for condition in added:
        assert condition.severity == "relative" and condition.modification
        assert 1 <= len(condition.sources) <= 2
        assert all(s["url"].startswith("https://") and s["title"] for s in condition.sources)
    caps = {c.id: c.max_pressure for c in added}
    assert caps["osteoporosis"] == caps["blood_thinners"] == caps["lymphoedema"] == 1


def test_conditions_by_id_keeps_the_order_asked_and_skips_unknown(kb_database: str) -> None:
    assert [c.id for c in queries.conditions_by_id(["pregnancy", "nope", "fever"])] == ["pregnancy", "fever"]


def test_spa_contact_details_come_from_the_knowledge_base(kb_database: str) -> None:
    spa = queries.settings("spa")
    assert spa["phone"] and spa["email"]
    assert "emergency" in queries.settings("emergency")["message"]


def test_etiquette_comes_in_the_knowledge_base_order_with_its_spa_policy(kb_database: str) -> None:
    assert [e.id for e in queries.etiquette_all()] == [
        "draping", "shaving", "talking", "pressure_feedback", "falling_asleep", "arrival", "tipping",
        "cancellation"]
    spa = queries.settings("spa")
    for entry in queries.etiquette_all():
        assert entry.answer and entry.sources
        assert entry.policy is None or spa[entry.policy]
    assert queries.etiquette("tipping").policy == "tipping"
    assert queries.etiquette("cancellation").policy == "cancellation"
    assert queries.etiquette("nope") is None
    assert "24 hours" in spa["cancellation"] and spa["prices"]


def test_all_sources_lists_each_page_once_in_a_stable_order(kb_database: str) -> None:
    sources = queries.all_sources()
    assert sources == sorted(sources, key=lambda s: (s.title.casefold(), s.url))
    assert len({s.url for s in sources}) == len(sources)
    cited = {
        (s["title"], s["url"])
        for rows in (queries.conditions(), [queries.topic_for_intent(t["intent"]) for t in TOPICS],
                     queries.etiquette_all(),
                     [queries.crisis_resource(c["id"]) for c in CRISIS])
        for row in rows for s in row.sources
    }
    assert {(s.title, s.url) for s in sources} == cited
    assert all(s.url.startswith("https://") for s in sources)


def test_the_readme_credits_every_source(kb_database: str) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    credits = readme[readme.index("\n## Sources"):]
    for source in queries.all_sources():
        assert f"[{source.title}]({source.url})" in credits


def test_catalogue_links_everything_it_references(kb_database: str) -> None:
    catalogue = queries.catalogue()
    technique_ids = {t.id for t in catalogue.techniques}
    for audience in catalogue.audiences.values():
        assert set(audience.techniques) <= technique_ids
        assert set(audience.goals) <= set(catalogue.goals)
    for symptom in catalogue.symptoms.values():
        assert set(symptom.techniques) <= technique_ids
    assert [s.minutes for s in catalogue.session_lengths] == [30, 45, 60]
    assert sum(f.default for f in catalogue.frequencies) == 1


def test_the_catalogue_follows_a_reload(tmp_path, monkeypatch) -> None:
    import shutil

    from bot.knowledge.loader import load

    url = f"sqlite:///{tmp_path / 'kb.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    load(KB_DIR, url)
    assert queries.catalogue() is queries.catalogue()
    assert queries.catalogue().audiences["senior"].max_pressure == 2
    edited = tmp_path / "kb"
    shutil.copytree(KB_DIR, edited)
    audiences = edited / "audiences.yml"
    audiences.write_text(audiences.read_text().replace("    max_pressure: 2\n", "    max_pressure: 1\n", 1))
    load(edited, url)
    assert queries.catalogue().audiences["chronic_pain"].max_pressure == 1


def test_settings_and_topics_follow_a_reload(tmp_path, monkeypatch) -> None:
    import shutil

    from bot.knowledge.loader import load

    url = f"sqlite:///{tmp_path / 'kb.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    load(KB_DIR, url)
    spa = queries.settings("spa")
    spa["phone"] = "changed by a caller"
    assert queries.settings("spa")["phone"] != "changed by a caller"
    topic = queries.topic_for_intent("ask_benefits")
    assert topic is not None and queries.topic_for_intent("ask_benefits") is topic
    edited = tmp_path / "kb"
    shutil.copytree(KB_DIR, edited)
    spa_file = edited / "spa.yml"
    spa_file.write_text(spa_file.read_text().replace('phone: "+1 555 0100"', 'phone: "+1 555 0199"'))
    load(edited, url)
    assert queries.settings("spa")["phone"] == "+1 555 0199"
    assert queries.topic_for_intent("ask_benefits") is not topic
