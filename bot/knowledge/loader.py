"""Load data/kb/*.yml into the database, validating the whole knowledge base first.

A spa edits the YAML files; `python -m bot.knowledge.loader` brings the schema up to date
(bot/knowledge/migrate.py) and rewrites the knowledge-base rows. Every file is read and checked
before the database is touched, and the rows are replaced in one transaction, so a bad edit leaves
the previous knowledge base in place. Other tables in the database (booking requests) are never
touched.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Formatter
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

import yaml
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.knowledge import migrate, models
from bot.knowledge.db import KB_DIR, get_engine

ENTITY_KINDS = {
    "techniques": "technique",
    "goals": "goal",
    "audiences": "audience",
    "conditions": "condition",
    "body_parts": "body_part",
    "symptoms": "symptom",
    "red_flags": "red_flag",
    "pressures": "pressure",
    "etiquette": "etiquette",
}


@dataclass(frozen=True)
class Section:
    """How one top-level key of the YAML files maps to a table."""

    model: type
    key: str
    required: Tuple[str, ...]
    optional: Tuple[str, ...] = ()
    references: Dict[str, str] = field(default_factory=dict)


SECTIONS: Dict[str, Section] = {
    "techniques": Section(
        models.Technique, "id",
        ("id", "name", "summary", "effects", "pressure", "pressure_level", "good_for", "synonyms"),
        ("audiences", "goals"), {"audiences": "audiences", "goals": "goals"},
    ),
    "goals": Section(models.Goal, "id", ("id", "name", "benefit", "synonyms")),
    "audiences": Section(
        models.Audience, "id", ("id", "name", "description", "techniques", "synonyms"),
        ("goals", "max_pressure"), {"techniques": "techniques", "goals": "goals"},
    ),
    "conditions": Section(
        models.Condition, "id", ("id", "name", "severity", "reason", "synonyms"),
        ("advice", "modification", "max_pressure", "avoid_areas", "audiences", "sources", "checklist"),
        {"avoid_areas": "body_parts", "audiences": "audiences"},
    ),
    "red_flags": Section(models.RedFlag, "id", ("id", "name", "synonyms")),
    "pressures": Section(models.Pressure, "id", ("id", "name", "level", "synonyms")),
    "body_parts": Section(models.BodyPart, "id", ("id", "name", "synonyms"), ("full_body",)),
    "symptoms": Section(
        models.Symptom, "id", ("id", "name", "synonyms"), ("goals", "techniques"),
        {"goals": "goals", "techniques": "techniques"},
    ),
    "topics": Section(
        models.Topic, "id", ("id", "intent", "title", "answer"), ("facts", "offer_contact", "sources")
    ),
    "etiquette": Section(
        models.Etiquette, "id", ("id", "name", "answer", "synonyms"), ("policy", "sources")
    ),
    "frequencies": Section(
        models.Frequency, "id", ("id", "name", "cadence", "explanation"), ("goals", "default"),
        {"goals": "goals"},
    ),
    "session_lengths": Section(
        models.SessionLength, "minutes", ("minutes", "areas", "max_areas", "example")
    ),
    "crisis": Section(
        models.CrisisResource, "id", ("id", "country", "emergency", "crisis_line", "abuse_line", "sources")
    ),
}
SINGLETONS = {
    "spa": ("name", "phone", "email", "country"),
    "emergency": ("message",),
    "crisis_messages": ("suicide", "suicide_other", "danger_now", "danger_now_other", "abuse", "abuse_other",
                        "reminder"),
}
# What the crisis replies may fill in (bot/advice/crisis.py).
CRISIS_PLACEHOLDERS = {"emergency", "crisis_line", "abuse_line", "spa_contact"}
SEVERITIES = {"absolute", "relative"}
SOURCE_FIELDS = ("title", "url")
# The spa section whose settings an etiquette entry's `policy` names (tipping, cancellation...).
POLICY_SECTION = "spa"
VERSION_SECTION, VERSION_KEY = "knowledge_base", "version"
# The tables that hold data/kb and nothing else: the only ones a load empties and refills.
KNOWLEDGE_TABLES = tuple(spec.model.__table__ for spec in SECTIONS.values()) + (
    models.Synonym.__table__, models.Setting.__table__)


class KnowledgeBaseError(ValueError):
    """A problem in a knowledge-base file, naming the file and the entry so a spa can fix it."""

    def __init__(self, path: Path, entry: Optional[str], problem: str) -> None:
        where = f"{path.name}" + (f", entry '{entry}'" if entry is not None else "")
        super().__init__(f"{where}: {problem}")
        self.path, self.entry, self.problem = path, entry, problem


@dataclass
class KnowledgeBase:
    """The validated content of data/kb, ready to be written to the database."""

    entries: Dict[str, List[Dict[str, Any]]]
    settings: Dict[str, Dict[str, str]]
    sources: Dict[Tuple[str, str], Path]

    def version(self) -> str:
        """A fingerprint of the content, so readers can tell when the database was reloaded."""
        content = json.dumps([self.entries, self.settings], sort_keys=True, default=str)
        return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]

    def synonyms(self) -> Iterable[Tuple[str, str, str]]:
        """(entity, canonical id, term) for every vocabulary term, canonical names included."""
        for section, entity in ENTITY_KINDS.items():
            for entry in self.entries.get(section, []):
                terms = {str(entry["id"]).replace("_", " "), str(entry["name"]).lower()}
                terms.update(str(t) for t in entry.get("synonyms") or [])
                for term in sorted({_normalise_term(t) for t in terms}):
                    yield entity, entry["id"], term


def _normalise_term(term: str) -> str:
    return " ".join(term.lower().split())


def read_knowledge_base(kb_dir: Path = KB_DIR) -> KnowledgeBase:
    """Read and validate every file; raise KnowledgeBaseError on the first problem found."""
    files = sorted(kb_dir.glob("*.yml")) + sorted(kb_dir.glob("*.yaml"))
    if not files:
        raise KnowledgeBaseError(kb_dir, None, "no knowledge-base files found")
    entries: Dict[str, List[Dict[str, Any]]] = {name: [] for name in SECTIONS}
    settings: Dict[str, Dict[str, str]] = {name: {} for name in SINGLETONS}
    sources: Dict[Tuple[str, str], Path] = {}
    for path in files:
        try:
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise KnowledgeBaseError(path, None, f"not valid YAML ({error})") from error
        if not isinstance(content, dict):
            raise KnowledgeBaseError(path, None, "expected a mapping of sections at the top")
        for section, items in content.items():
            if section in SINGLETONS:
                settings[section].update(_read_singleton(path, section, items))
            elif section in SECTIONS:
                entries[section].extend(_read_section(path, section, items, sources))
            else:
                raise KnowledgeBaseError(path, None, f"unknown section '{section}'")
    for section, required in SINGLETONS.items():
        missing = [name for name in required if name not in settings[section]]
        if missing:
            raise KnowledgeBaseError(kb_dir, section, f"missing field(s) {', '.join(missing)}")
    kb = KnowledgeBase(entries, settings, sources)
    _check_references(kb)
    _check_policies(kb)
    _check_crisis(kb, kb_dir)
    _check_source_titles(kb)
    _check_synonyms(kb)
    return kb


def _read_singleton(path: Path, section: str, items: Any) -> Dict[str, str]:
    if not isinstance(items, dict):
        raise KnowledgeBaseError(path, section, "expected a mapping of fields")
    return {str(k): str(v) for k, v in items.items()}


def _read_section(
    path: Path, section: str, items: Any, sources: Dict[Tuple[str, str], Path]
) -> List[Dict[str, Any]]:
    spec = SECTIONS[section]
    if not isinstance(items, list):
        raise KnowledgeBaseError(path, None, f"section '{section}' must be a list")
    read = []
    for position, item in enumerate(items, start=1):
        label = str(item.get(spec.key)) if isinstance(item, dict) and spec.key in item else f"#{position}"
        if not isinstance(item, dict):
            raise KnowledgeBaseError(path, label, "expected a mapping of fields")
        missing = [name for name in spec.required if item.get(name) in (None, "", [])]
        if missing:
            raise KnowledgeBaseError(path, label, f"missing field(s) {', '.join(missing)}")
        unknown = set(item) - set(spec.required) - set(spec.optional)
        if unknown:
            raise KnowledgeBaseError(path, label, f"unknown field(s) {', '.join(sorted(unknown))}")
        if section == "conditions":
            _check_condition(path, label, item)
        if "sources" in item:
            item = {**item, "sources": _read_sources(path, label, item["sources"])}
        identity = (section, str(item[spec.key]))
        if identity in sources:
            raise KnowledgeBaseError(
                path, label, f"duplicate id (already defined in {sources[identity].name})"
            )
        sources[identity] = path
        read.append(item)
    return read


def _check_condition(path: Path, label: str, item: Dict[str, Any]) -> None:
    if item["severity"] not in SEVERITIES:
        raise KnowledgeBaseError(path, label, f"severity must be one of {sorted(SEVERITIES)}")
    needed = "advice" if item["severity"] == "absolute" else "modification"
    if not item.get(needed):
        raise KnowledgeBaseError(path, label, f"missing field(s) {needed}")


def _read_sources(path: Path, label: str, sources: Any) -> List[Dict[str, str]]:
    """Each fact beyond the source document names where it came from: a title and an https link."""
    if not isinstance(sources, list) or not sources:
        raise KnowledgeBaseError(path, label, "sources must be a non-empty list of {title, url}")
    read = []
    for position, source in enumerate(sources, start=1):
        where = f"source #{position}"
        if not isinstance(source, dict):
            raise KnowledgeBaseError(path, label, f"{where} must be a mapping with a title and a url")
        missing = [name for name in SOURCE_FIELDS if not str(source.get(name) or "").strip()]
        if missing:
            raise KnowledgeBaseError(path, label, f"{where} is missing {', '.join(missing)}")
        unknown = set(source) - set(SOURCE_FIELDS)
        if unknown:
            raise KnowledgeBaseError(path, label, f"{where} has unknown field(s) {', '.join(sorted(unknown))}")
        title, url = " ".join(str(source["title"]).split()), str(source["url"]).strip()
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or " " in url:
            raise KnowledgeBaseError(path, label, f"{where} url must be a full https:// address, not '{url}'")
        read.append({"title": title, "url": url})
    return read


def _check_policies(kb: KnowledgeBase) -> None:
    """An etiquette answer completed by a spa policy needs that policy to exist, or it would end mid-thought."""
    policies = kb.settings[POLICY_SECTION]
    for entry in kb.entries["etiquette"]:
        policy = entry.get("policy")
        if policy is not None and not str(policies.get(str(policy), "")).strip():
            key = str(entry["id"])
            raise KnowledgeBaseError(
                kb.sources[("etiquette", key)], key,
                f"unknown policy '{policy}' (no such setting in the '{POLICY_SECTION}' section)",
            )


def _check_crisis(kb: KnowledgeBase, kb_dir: Path) -> None:
    """A person in crisis must always get a number: the spa's country needs its resources."""
    countries = {str(entry["id"]) for entry in kb.entries["crisis"]}
    country = kb.settings["spa"]["country"]
    if country not in countries:
        where = kb.sources.get(("crisis", next(iter(countries), "")), kb_dir)
        raise KnowledgeBaseError(
            where if countries else kb_dir, "spa",
            f"country '{country}' has no crisis resources (known: {', '.join(sorted(countries)) or 'none'})",
        )
    for key, text in kb.settings["crisis_messages"].items():
        try:
            names = {name for _, name, _, _ in Formatter().parse(text) if name is not None}
        except ValueError as error:
            raise KnowledgeBaseError(kb_dir, f"crisis_messages.{key}", f"bad placeholder ({error})") from error
        unknown = names - CRISIS_PLACEHOLDERS
        if unknown:
            raise KnowledgeBaseError(
                kb_dir, f"crisis_messages.{key}", f"unknown placeholder(s) {', '.join(sorted(unknown))}")


def _check_source_titles(kb: KnowledgeBase) -> None:
    """One page, one title: the credits list each source once, however many entries cite it."""
    titles: Dict[str, str] = {}
    for section, items in kb.entries.items():
        for entry in items:
            for source in entry.get("sources") or []:
                previous = titles.setdefault(source["url"], source["title"])
                if previous != source["title"]:
                    key = str(entry[SECTIONS[section].key])
                    raise KnowledgeBaseError(
                        kb.sources[(section, key)], key,
                        f"source {source['url']} is titled '{source['title']}' here but '{previous}' elsewhere",
                    )


def _check_references(kb: KnowledgeBase) -> None:
    known = {section: {str(e[SECTIONS[section].key]) for e in items} for section, items in kb.entries.items()}
    for section, items in kb.entries.items():
        for field_name, target in SECTIONS[section].references.items():
            for entry in items:
                for ref in entry.get(field_name) or []:
                    if str(ref) not in known[target]:
                        key = str(entry[SECTIONS[section].key])
                        raise KnowledgeBaseError(
                            kb.sources[(section, key)], key,
                            f"unknown reference '{ref}' in {field_name} (no such {target[:-1]})",
                        )


def _check_synonyms(kb: KnowledgeBase) -> None:
    """A term that means two things would make understanding ambiguous, so it is an error."""
    seen: Dict[str, Tuple[str, str]] = {}
    section_of = {entity: section for section, entity in ENTITY_KINDS.items()}
    for entity, canonical, term in kb.synonyms():
        previous = seen.setdefault(term, (entity, canonical))
        if previous != (entity, canonical):
            raise KnowledgeBaseError(
                kb.sources[(section_of[entity], canonical)], canonical,
                f"synonym '{term}' is already used by {previous[0]} '{previous[1]}'",
            )


def write_knowledge_base(kb: KnowledgeBase, session: Session) -> None:
    """Replace the knowledge-base rows with data/kb, in the caller's transaction."""
    for table in KNOWLEDGE_TABLES:
        session.execute(delete(table))
    for section, items in kb.entries.items():
        spec = SECTIONS[section]
        columns = {c.name for c in spec.model.__table__.columns}
        for position, item in enumerate(items):
            values = {k: v for k, v in item.items() if k in columns}
            if "position" in columns:
                values["position"] = position
            session.add(spec.model(**values))
    for entity, canonical, term in kb.synonyms():
        session.add(models.Synonym(entity=entity, canonical_id=canonical, term=term))
    for section, values in kb.settings.items():
        for key, value in values.items():
            session.add(models.Setting(section=section, key=key, value=value))
    session.add(models.Setting(section=VERSION_SECTION, key=VERSION_KEY, value=kb.version()))


def load(kb_dir: Path = KB_DIR, url: Optional[str] = None) -> KnowledgeBase:
    """Validate data/kb, migrate the schema, and replace the rows atomically; loading twice is a no-op."""
    kb = read_knowledge_base(kb_dir)
    migrate.upgrade(url)
    with Session(get_engine(url), future=True) as session, session.begin():
        write_knowledge_base(kb, session)
    return kb


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Build the knowledge-base database from data/kb.")
    parser.add_argument("--kb-dir", type=Path, default=KB_DIR)
    parser.add_argument("--database-url", default=None, help="defaults to DATABASE_URL or SQLite")
    args = parser.parse_args(argv)
    try:
        kb = load(args.kb_dir, args.database_url)
    except KnowledgeBaseError as error:
        print(f"knowledge base not loaded: {error}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{len(items)} {name}" for name, items in kb.entries.items())
    print(f"knowledge base loaded: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
