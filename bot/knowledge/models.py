"""SQLAlchemy models of the knowledge base.

Lists of references (a technique's audiences, a symptom's goals...) are stored as JSON lists of
ids, and an entry's public sources as a JSON list of {"title", "url"}: the knowledge base is
small, read-mostly and validated as a whole by the loader, so join tables would add code without
adding safety.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Technique(Base):
    __tablename__ = "techniques"
    id = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(128), nullable=False)
    summary = Column(Text, nullable=False)
    effects = Column(Text, nullable=False)
    pressure = Column(Text, nullable=False)
    pressure_level = Column(Integer, nullable=False)
    good_for = Column(Text, nullable=False)
    audiences = Column(JSON, nullable=False, default=list)
    goals = Column(JSON, nullable=False, default=list)


class Goal(Base):
    __tablename__ = "goals"
    id = Column(String(64), primary_key=True)
    name = Column(String(128), nullable=False)
    benefit = Column(Text, nullable=False)


class Audience(Base):
    __tablename__ = "audiences"
    id = Column(String(64), primary_key=True)
    name = Column(String(128), nullable=False)
    description = Column(Text, nullable=False)
    techniques = Column(JSON, nullable=False, default=list)
    goals = Column(JSON, nullable=False, default=list)
    max_pressure = Column(Integer, nullable=True)


class Condition(Base):
    __tablename__ = "conditions"
    id = Column(String(64), primary_key=True)
    name = Column(String(128), nullable=False)
    severity = Column(String(16), nullable=False)
    reason = Column(Text, nullable=False)
    advice = Column(Text, nullable=True)
    modification = Column(Text, nullable=True)
    max_pressure = Column(Integer, nullable=True)
    avoid_areas = Column(JSON, nullable=False, default=list)
    # Who the person is when they report this ("arthritis" -> people living with chronic pain).
    audiences = Column(JSON, nullable=False, default=list)
    sources = Column(JSON, nullable=False, default=list)
    # Asked about with a button in the safety checklist; the others are named in its text.
    checklist = Column(Boolean, nullable=False, default=True)


class BodyPart(Base):
    __tablename__ = "body_parts"
    id = Column(String(64), primary_key=True)
    name = Column(String(128), nullable=False)
    full_body = Column(Boolean, nullable=False, default=False)


class Symptom(Base):
    __tablename__ = "symptoms"
    id = Column(String(64), primary_key=True)
    name = Column(String(128), nullable=False)
    goals = Column(JSON, nullable=False, default=list)
    techniques = Column(JSON, nullable=False, default=list)


class Synonym(Base):
    """A word or phrase people use for a knowledge-base entry, for the NLU vocabulary."""

    __tablename__ = "synonyms"
    __table_args__ = (UniqueConstraint("term", name="uq_synonym_term"),)
    id = Column(Integer, primary_key=True, autoincrement=True)
    entity = Column(String(32), nullable=False)
    canonical_id = Column(String(64), nullable=False)
    term = Column(String(128), nullable=False)


class Topic(Base):
    __tablename__ = "topics"
    id = Column(String(64), primary_key=True)
    intent = Column(String(64), nullable=False, unique=True)
    title = Column(String(128), nullable=False)
    answer = Column(Text, nullable=False)
    offer_contact = Column(Boolean, nullable=False, default=False)
    sources = Column(JSON, nullable=False, default=list)


class Etiquette(Base):
    """A first-visit question ("do I tip?"); `policy` names the spa setting that completes it."""

    __tablename__ = "etiquette"
    id = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(128), nullable=False)
    answer = Column(Text, nullable=False)
    policy = Column(String(64), nullable=True)
    sources = Column(JSON, nullable=False, default=list)


class Frequency(Base):
    __tablename__ = "frequencies"
    id = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(128), nullable=False)
    cadence = Column(String(128), nullable=False)
    explanation = Column(Text, nullable=False)
    goals = Column(JSON, nullable=False, default=list)
    default = Column(Boolean, nullable=False, default=False)


class SessionLength(Base):
    __tablename__ = "session_lengths"
    minutes = Column(Integer, primary_key=True)
    areas = Column(String(128), nullable=False)
    max_areas = Column(Integer, nullable=False)
    example = Column(Text, nullable=False)


class RedFlag(Base):
    """A warning sign that needs a doctor or emergency services, not a massage."""

    __tablename__ = "red_flags"
    id = Column(String(64), primary_key=True)
    name = Column(String(128), nullable=False)


class Pressure(Base):
    """A pressure preference people state ("something gentler"), as a technique pressure level."""

    __tablename__ = "pressures"
    id = Column(String(32), primary_key=True)
    name = Column(String(64), nullable=False)
    level = Column(Integer, nullable=False)


class CrisisResource(Base):
    """Who a person in crisis can reach in one country: the emergency number and two help lines.

    Safety content: edited in data/kb/crisis.yml under version control, each with its sources.
    """

    __tablename__ = "crisis_resources"
    id = Column(String(8), primary_key=True)  # ISO 3166 country code, as `country` in spa.yml
    country = Column(String(64), nullable=False)
    emergency = Column(String(32), nullable=False)
    crisis_line = Column(Text, nullable=False)
    abuse_line = Column(Text, nullable=False)
    sources = Column(JSON, nullable=False, default=list)


class Setting(Base):
    """Single values such as the spa's contact details (section "spa") or the emergency message."""

    __tablename__ = "settings"
    section = Column(String(32), primary_key=True)
    key = Column(String(64), primary_key=True)
    value = Column(Text, nullable=False)


class Price(Base):
    """One line of the spa's price list: a service, a length and what it costs (data/kb/spa.yml `prices`).

    `price` is the amount as validated decimal text ("55", "49.50"): the loader checks it, and the
    replies only ever print it, so a text column avoids floating point and SQLite's Decimal caveats.
    """

    __tablename__ = "prices"
    id = Column(Integer, primary_key=True, autoincrement=True)
    position = Column(Integer, nullable=False, default=0)
    service = Column(String(128), nullable=False)
    minutes = Column(Integer, nullable=False)
    price = Column(String(16), nullable=False)


class ContentVersion(Base):
    """A saved version of the spa's own files (bot/knowledge/content.py), with who saved it and why.

    Not knowledge-base rows: a load never empties this table. The newest version's files are the
    spa's content; the safety files always come from data/kb.
    """

    __tablename__ = "content_versions"
    number = Column(Integer, primary_key=True, autoincrement=False)
    created_at = Column(DateTime, nullable=False)
    author = Column(String(64), nullable=False)
    summary = Column(String(300), nullable=False)
    restored_from = Column(Integer, nullable=True)
    files = Column(JSON, nullable=False)  # file name -> YAML text, exactly as saved
