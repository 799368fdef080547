"""The spa's own part of the knowledge base: its details and its price list are checked like any
other entry (file, entry and field named), validation runs on texts as well as on a folder, and a
load keeps the spa's saved content."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge import models
from bot.knowledge.db import get_engine
from bot.knowledge.loader import (
    KnowledgeBaseError,
    load,
    read_knowledge_base,
    read_knowledge_base_texts,
    read_texts,
)
from tests.conftest import KB_DIR


def test_texts_and_folder_give_the_same_knowledge_base() -> None:
    assert read_knowledge_base_texts(read_texts(KB_DIR), KB_DIR).version() == read_knowledge_base(KB_DIR).version()


def test_the_price_list_is_stored_in_order_and_said_in_one_line(url: str) -> None:
    kb = load(KB_DIR, url)
    assert [(e["service"], e["minutes"], e["price"]) for e in kb.entries["prices"]] == [
        ("Massage", 30, "55"), ("Massage", 45, "75"), ("Massage", 60, "95")]
    with Session(get_engine(url)) as session:
        assert [p.minutes for p in session.scalars(select(models.Price).order_by(models.Price.position))] == [30, 45, 60]
        assert session.get(models.Setting, ("spa", "prices")).value == (
            "Massage: $55 for 30 minutes, $75 for 45 minutes, $95 for 60 minutes")


BAD_SPA_EDITS = [
    pytest.param("minutes: 60, price: 95", "minutes: 60, price: 95.999",
                 "spa.yml, entry 'Massage, 60 min': field 'price' has more than two decimals", "price", id="price decimals"),
    pytest.param("minutes: 60, price: 95", "minutes: 60, price: -5",
                 "spa.yml, entry 'Massage, 60 min': field 'price' must be an amount", "price", id="negative price"),
    pytest.param("minutes: 60, price: 95", "minutes: 3, price: 95",
                 "spa.yml, entry 'Massage, 3 min': field 'minutes' must be between 5 and 600", "minutes", id="minutes"),
    pytest.param("minutes: 60, price: 95", "minutes: 45, price: 95",
                 "spa.yml, entry 'Massage, 45 min': duplicate price (the same service and length is already defined in "
                 "spa.yml)", "service", id="duplicate price"),
    pytest.param("{service: Massage, minutes: 60, price: 95}", "{minutes: 60, price: 95}",
                 "spa.yml, entry 'price #3': missing field(s) service", "service", id="price without service"),
    pytest.param("{service: Massage, minutes: 60, price: 95}", "{service: Massage, minutes: 60, price: 95, vat: 0}",
                 "spa.yml, entry 'Massage, 60 min': unknown field(s) vat", "vat", id="unknown price field"),
    pytest.param('  currency: "$"\n', "", "spa.yml, entry 'spa': field 'currency' is needed to say the prices",
                 "currency", id="prices without a currency"),
    pytest.param("  prices_note:", "  prices: a 30-minute massage is $55.\n  prices_note:",
                 "spa.yml, entry 'spa': field 'prices' is now the `prices:` list", "prices", id="old prices sentence"),
    pytest.param('phone: "+1 555 0100"', 'phone: "call us"',
                 "spa.yml, entry 'spa': field 'phone' must be a phone number", "phone", id="phone"),
    pytest.param("timezone: America/New_York", "timezone: Harbour/Town",
                 "spa.yml, entry 'spa': field 'timezone' must be a time zone name", "timezone", id="time zone"),
    pytest.param('opening_hours: "Mon-Sat 09:00-19:00"', 'opening_hours: "Mon-Sat 19:00-09:00"',
                 "spa.yml, entry 'spa': field 'opening_hours' cannot be read", "opening_hours", id="opening hours"),
    pytest.param("  name: Harbour Light Massage Studio", "  name: ''", "spa.yml, entry 'spa': field 'name' cannot be empty",
                 "name", id="empty name"),
]


@pytest.mark.parametrize("old, new, message, field", BAD_SPA_EDITS)
def test_a_bad_spa_field_is_named_and_the_database_left_alone(kb_copy: Path, url: str, old: str, new: str,
                                                              message: str, field: str) -> None:
    load(KB_DIR, url)
    spa = kb_copy / "spa.yml"
    assert old in spa.read_text()
    spa.write_text(spa.read_text().replace(old, new, 1))
    with pytest.raises(KnowledgeBaseError) as error:
        load(kb_copy, url)
    assert message in str(error.value) and error.value.field == field
    with Session(get_engine(url)) as session:
        assert session.get(models.Setting, ("spa", "name")).value == "Harbour Light Massage Studio"


def test_a_spa_without_prices_needs_no_currency(kb_copy: Path) -> None:
    spa = kb_copy / "spa.yml"
    text = spa.read_text()
    spa.write_text(text[:text.index("\n# The price list")].replace('  currency: "$"\n', "") + "\n")
    assert read_knowledge_base(kb_copy).entries["prices"] == []


def test_a_load_takes_the_spa_files_from_the_newest_saved_version(kb_copy: Path, url: str) -> None:
    load(KB_DIR, url)
    saved = read_texts(KB_DIR)["topics.yml"].replace("Sometimes. Some health plans", "Often. Some health plans")
    with Session(get_engine(url)) as session, session.begin():
        session.add(models.ContentVersion(number=2, created_at=datetime(2026, 12, 6), author="olive",
                                          summary="FAQ answer: Insurance", files={"topics.yml": saved}))
    load(KB_DIR, url)
    with Session(get_engine(url)) as session:
        assert session.get(models.Topic, "insurance").answer.startswith("Often.")
        assert session.get(models.Condition, "fever") is not None  # the safety files still from data/kb
    broken = saved.replace("    answer: >-\n      Often.", "    reply: >-\n      Often.")
    with Session(get_engine(url)) as session, session.begin():
        session.add(models.ContentVersion(number=3, created_at=datetime(2026, 12, 6), author="olive",
                                          summary="broken", files={"topics.yml": broken}))
    with pytest.raises(KnowledgeBaseError, match="the spa's saved content, version 3"):
        load(KB_DIR, url)
