"""Load data/kb/*.yml into the database, validating the whole knowledge base first.

A spa edits the YAML files, or its own content on the staff page (bot/knowledge/content.py, which
saves versions of the spa-owned files); `python -m bot.knowledge.loader` brings the schema up to
date (bot/knowledge/migrate.py) and rewrites the knowledge-base rows from data/kb, with the
spa-owned files taken from the spa's newest saved version when there is one. The whole knowledge
base is checked before a row is written, and the rows are replaced in one transaction, so a bad
edit leaves the previous knowledge base in place. Other tables in the database (booking requests,
the saved versions) are never touched.

Validation runs on file texts (`read_knowledge_base_texts`), so the staff page checks an edit with
exactly these rules before saving it: one schema for the files and the forms.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from string import Formatter
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.knowledge import migrate, models
from bot.knowledge.db import KB_DIR, get_engine
from bot.knowledge.prices import Price, parse_amount, price_text

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
    # Entries named by several fields (a price: its service and length) instead of `key` alone.
    key_format: str = ""
    unnamed: str = ""  # how an entry without its key is called, before its position

    def key_of(self, item: Mapping[str, Any]) -> Optional[str]:
        """The entry's identity, as messages name it; None when the fields that make it are missing."""
        if self.key_format:
            names = [name for _, name, _, _ in Formatter().parse(self.key_format) if name]
            if any(item.get(name) in (None, "") for name in names):
                return None
            return self.key_format.format(**{name: item[name] for name in names})
        return str(item[self.key]) if self.key in item else None


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
    "prices": Section(
        models.Price, "service", ("service", "minutes", "price"),
        key_format="{service}, {minutes} min", unnamed="price ",
    ),
}
TEAM_FILE = "team.yml"
YES_NO = ("yes", "no", "true", "false", "on", "off")
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
# Written by the loader from the `prices` list (the list in one line), never by hand.
DERIVED_SPA_SETTINGS = ("prices",)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9(][0-9 ().\-/]*$")
MINUTES_RANGE = (5, 600)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The tables that hold data/kb and nothing else: the only ones a load empties and refills.
KNOWLEDGE_TABLES = tuple(spec.model.__table__ for spec in SECTIONS.values()) + (
    models.Synonym.__table__, models.Setting.__table__)


class KnowledgeBaseError(ValueError):
    """A problem in a knowledge-base file, naming the file and the entry so a spa can fix it.

    `field` names the field at fault when there is one, so a form can show the message next to it
    (the message itself names the field too)."""

    def __init__(self, path: Path, entry: Optional[str], problem: str, field: Optional[str] = None) -> None:
        where = f"{path.name}" + (f", entry '{entry}'" if entry is not None else "")
        super().__init__(f"{where}: {problem}")
        self.path, self.entry, self.problem, self.field = path, entry, problem, field


@dataclass
class KnowledgeBase:
    """The validated content of data/kb, ready to be written to the database."""

    entries: Dict[str, List[Dict[str, Any]]]
    settings: Dict[str, Dict[str, str]]
    sources: Dict[Tuple[str, str], Path]
    setting_files: Dict[str, Path] = field(default_factory=dict)  # section -> the file that sets it

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


def parse_yaml(text: str) -> Any:
    """A file's content as the loader reads it (YAML 1.1 safe types; libyaml's parser when
    installed, ten times faster, so the staff page can validate an edit while the owner waits)."""
    return yaml.load(text, Loader=_SAFE_LOADER)


def read_texts(kb_dir: Path = KB_DIR) -> Dict[str, str]:
    """Every knowledge-base file of a folder, name -> text, in the order the loader reads them.
    The team (TEAM_FILE) is not knowledge: bot.booking.team reads it to seed the team's tables."""
    files = [path for path in sorted(kb_dir.glob("*.yml")) + sorted(kb_dir.glob("*.yaml"))
             if path.name != TEAM_FILE]
    if not files:
        raise KnowledgeBaseError(kb_dir, None, "no knowledge-base files found")
    return {path.name: path.read_bytes().decode("utf-8") for path in files}


def read_knowledge_base(kb_dir: Path = KB_DIR) -> KnowledgeBase:
    """Read and validate every file; raise KnowledgeBaseError on the first problem found."""
    return read_knowledge_base_texts(read_texts(kb_dir), kb_dir)


def read_knowledge_base_texts(texts: Mapping[str, str], kb_dir: Path = KB_DIR) -> KnowledgeBase:
    """Validate knowledge-base files given as texts (name -> YAML), as if they were in `kb_dir`:
    how the staff page checks an edit before it is saved."""
    if not texts:
        raise KnowledgeBaseError(kb_dir, None, "no knowledge-base files found")
    entries: Dict[str, List[Dict[str, Any]]] = {name: [] for name in SECTIONS}
    settings: Dict[str, Dict[str, str]] = {name: {} for name in SINGLETONS}
    sources: Dict[Tuple[str, str], Path] = {}
    setting_files: Dict[str, Path] = {}
    for name, text in texts.items():
        path = kb_dir / name
        try:
            content = parse_yaml(text) or {}
        except yaml.YAMLError as error:
            raise KnowledgeBaseError(path, None, f"not valid YAML ({error})") from error
        if not isinstance(content, dict):
            raise KnowledgeBaseError(path, None, "expected a mapping of sections at the top")
        for section, items in content.items():
            if section in SINGLETONS:
                settings[section].update(_read_singleton(path, section, items))
                setting_files.setdefault(section, path)
            elif section in SECTIONS:
                entries[section].extend(_read_section(path, section, items, sources))
            else:
                raise KnowledgeBaseError(path, None, f"unknown section '{section}'")
    for section, required in SINGLETONS.items():
        missing = [name for name in required if name not in settings[section]]
        if missing:
            raise KnowledgeBaseError(setting_files.get(section, kb_dir), section,
                                     f"missing field(s) {', '.join(missing)}", missing[0])
    kb = KnowledgeBase(entries, settings, sources, setting_files)
    _check_references(kb)
    _check_spa(kb, kb_dir)
    _check_policies(kb)
    _check_crisis(kb, kb_dir)
    _check_source_titles(kb)
    _check_synonyms(kb)
    return kb


def entry_label(section: str, item: Any, position: int) -> str:
    """How messages name an entry: its key, or its place in the list when the key is missing."""
    spec = SECTIONS[section]
    key = spec.key_of(item) if isinstance(item, dict) else None
    return key if key is not None else f"{spec.unnamed}#{position}"


def _read_singleton(path: Path, section: str, items: Any) -> Dict[str, str]:
    if not isinstance(items, dict):
        raise KnowledgeBaseError(path, section, "expected a mapping of fields")
    return {str(k): "" if v is None else str(v) for k, v in items.items()}


def _read_section(
    path: Path, section: str, items: Any, sources: Dict[Tuple[str, str], Path]
) -> List[Dict[str, Any]]:
    spec = SECTIONS[section]
    if not isinstance(items, list):
        raise KnowledgeBaseError(path, None, f"section '{section}' must be a list")
    read = []
    for position, item in enumerate(items, start=1):
        label = entry_label(section, item, position)
        if not isinstance(item, dict):
            raise KnowledgeBaseError(path, label, "expected a mapping of fields")
        missing = [name for name in spec.required if item.get(name) in (None, "", [])]
        if missing:
            raise KnowledgeBaseError(path, label, f"missing field(s) {', '.join(missing)}", missing[0])
        unknown = set(item) - set(spec.required) - set(spec.optional)
        if unknown:
            raise KnowledgeBaseError(path, label, f"unknown field(s) {', '.join(sorted(unknown))}",
                                     sorted(unknown)[0])
        if section == "conditions":
            _check_condition(path, label, item)
        if section == "prices":
            item = _read_price(path, label, item)
            label = entry_label(section, item, position)
        if "sources" in item:
            item = {**item, "sources": _read_sources(path, label, item["sources"])}
        identity = (section, label)
        if identity in sources:
            earlier = sources[identity].name
            problem = (f"duplicate price (the same service and length is already defined in {earlier})"
                       if section == "prices" else f"duplicate id (already defined in {earlier})")
            raise KnowledgeBaseError(path, label, problem, spec.key)
        sources[identity] = path
        read.append(item)
    return read


def _check_condition(path: Path, label: str, item: Dict[str, Any]) -> None:
    if item["severity"] not in SEVERITIES:
        raise KnowledgeBaseError(path, label, f"severity must be one of {sorted(SEVERITIES)}", "severity")
    needed = "advice" if item["severity"] == "absolute" else "modification"
    if not item.get(needed):
        raise KnowledgeBaseError(path, label, f"missing field(s) {needed}", needed)


def _read_price(path: Path, label: str, item: Dict[str, Any]) -> Dict[str, Any]:
    """A price line as the replies say it: a named service, a whole number of minutes, an amount."""
    service = " ".join(str(item["service"]).split())
    if not isinstance(item["service"], str) or not service or len(service) > 128:
        raise KnowledgeBaseError(path, label, "field 'service' must be the name of a service, up to 128 characters",
                                 "service")
    minutes = item["minutes"]
    low, high = MINUTES_RANGE
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise KnowledgeBaseError(path, label, f"field 'minutes' must be a whole number of minutes, like 60, "
                                 f"not '{minutes}'", "minutes")
    if not low <= minutes <= high:
        raise KnowledgeBaseError(path, label, f"field 'minutes' must be between {low} and {high}", "minutes")
    try:
        amount = parse_amount(item["price"])
    except ValueError as error:
        raise KnowledgeBaseError(path, label, f"field 'price' {error}", "price") from error
    return {**item, "service": service, "price": amount}


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
        if not _is_https_url(url):
            raise KnowledgeBaseError(path, label, f"{where} url must be a full https:// address, not '{url}'",
                                     "sources")
        read.append({"title": title, "url": url})
    return read


def _is_https_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.netloc) and " " not in url


def _check_spa(kb: KnowledgeBase, kb_dir: Path) -> None:
    """The spa's details as the replies use them: contact details that work, opening hours the
    booking form can read, dates that are dates, and a currency when there are prices."""
    spa = kb.settings["spa"]
    path = kb.setting_files.get("spa", kb_dir)

    def refuse(name: str, problem: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(path, "spa", f"field '{name}' {problem}", name)

    for name in DERIVED_SPA_SETTINGS:
        if name in spa:
            raise refuse(name, "is now the `prices:` list after the spa section (one line per service and "
                               "length: service, minutes, price); move the prices there")
    for name in SINGLETONS["spa"]:
        if not spa[name].strip():
            raise refuse(name, "cannot be empty")
    if not EMAIL.match(spa["email"].strip()):
        raise refuse("email", f"must be an email address like hello@example.com, not '{spa['email']}'")
    if not PHONE.match(spa["phone"].strip()) or sum(c.isdigit() for c in spa["phone"]) < 3:
        raise refuse("phone", f"must be a phone number (digits, spaces and + ( ) - only), not '{spa['phone']}'")
    booking_url = spa.get("booking_url", "").strip()
    if booking_url and not _is_https_url(booking_url):
        raise refuse("booking_url", f"must be a full https:// address, not '{booking_url}'")
    zone = spa.get("timezone", "").strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise refuse("timezone", f"must be a time zone name such as America/New_York, not '{zone}'") from None
    if spa.get("opening_hours", "").strip():
        from bot.booking.when import opening_hours_from_settings  # the booking form's own reader

        try:
            opening_hours_from_settings(spa)
        except ValueError as error:
            problem = str(error).replace("spa settings: ", "", 1)
            raise refuse("timezone" if problem.startswith('"timezone"') else "opening_hours",
                         f"cannot be read: {problem}") from error
    for part in re.split(r"[,\s;]+", spa.get("closed_dates", "").strip()):
        try:
            if part:
                date.fromisoformat(part)
        except ValueError:
            raise refuse("closed_dates", f"must list dates written as YYYY-MM-DD, and '{part}' is not one") from None
    if spa.get("instant_confirmation", "no").strip().lower() not in YES_NO:
        raise refuse("instant_confirmation", "must be yes or no")
    notice = spa.get("cancellation_notice_hours", "").strip()
    if notice and not notice.isdigit():
        raise refuse("cancellation_notice_hours", f"must be a whole number of hours, not '{notice}'")
    if kb.entries["prices"] and not spa.get("currency", "").strip():
        raise refuse("currency", "is needed to say the prices (for example $)")


def _check_policies(kb: KnowledgeBase) -> None:
    """An etiquette answer completed by a spa policy needs that policy to exist, or it would end mid-thought."""
    policies = kb.settings[POLICY_SECTION]
    for entry in kb.entries["etiquette"]:
        policy = entry.get("policy")
        key = str(entry["id"])
        if policy is not None and str(policy) in policies and not policies[str(policy)].strip():
            raise KnowledgeBaseError(
                kb.setting_files.get(POLICY_SECTION, kb.sources[("etiquette", key)]), POLICY_SECTION,
                f"field '{policy}' cannot be empty: the first-visit answer '{key}' ends with it", str(policy),
            )
        if policy is not None and not str(policies.get(str(policy), "")).strip():
            raise KnowledgeBaseError(
                kb.sources[("etiquette", key)], key,
                f"unknown policy '{policy}' (no such setting in the '{POLICY_SECTION}' section)", "policy",
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
                    key = str(SECTIONS[section].key_of(entry))
                    raise KnowledgeBaseError(
                        kb.sources[(section, key)], key,
                        f"source {source['url']} is titled '{source['title']}' here but '{previous}' elsewhere",
                        "sources",
                    )


def _check_references(kb: KnowledgeBase) -> None:
    known = {section: {str(SECTIONS[section].key_of(e)) for e in items} for section, items in kb.entries.items()}
    for section, items in kb.entries.items():
        for field_name, target in SECTIONS[section].references.items():
            for entry in items:
                for ref in entry.get(field_name) or []:
                    if str(ref) not in known[target]:
                        key = str(SECTIONS[section].key_of(entry))
                        raise KnowledgeBaseError(
                            kb.sources[(section, key)], key,
                            f"unknown reference '{ref}' in {field_name} (no such {target[:-1]})", field_name,
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
                f"synonym '{term}' is already used by {previous[0]} '{previous[1]}'", "synonyms",
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
    prices = [Price(e["service"], e["minutes"], e["price"]) for e in kb.entries["prices"]]
    if prices:
        session.add(models.Setting(section=POLICY_SECTION, key="prices",
                                   value=price_text(prices, kb.settings[POLICY_SECTION].get("currency", ""))))
    session.add(models.Setting(section=VERSION_SECTION, key=VERSION_KEY, value=kb.version()))


def saved_content(session: Session) -> Optional[models.ContentVersion]:
    """The spa's newest saved version of its own files, or None while it has saved none."""
    newest = select(models.ContentVersion).order_by(models.ContentVersion.number.desc()).limit(1)
    return session.execute(newest).scalar_one_or_none()


def load(kb_dir: Path = KB_DIR, url: Optional[str] = None) -> KnowledgeBase:
    """Migrate the schema, validate the knowledge base and replace the rows atomically; loading
    twice is a no-op. The safety files come from `kb_dir`; the spa-owned files from the spa's
    newest saved version when it has one (edits on the staff page survive `make kb`)."""
    texts = read_texts(kb_dir)
    migrate.upgrade(url)
    with Session(get_engine(url), future=True) as session, session.begin():
        saved = saved_content(session)
        try:
            kb = read_knowledge_base_texts({**texts, **(saved.files if saved else {})}, kb_dir)
        except KnowledgeBaseError as error:
            if saved is not None and error.path.name in saved.files:
                raise KnowledgeBaseError(
                    error.path, error.entry, f"{error.problem} (this file is the spa's saved content, version "
                    f"{saved.number}, edited on the staff page)", error.field) from error
            raise
        write_knowledge_base(kb, session)
    _seed_team(kb, kb_dir, url)
    return kb


def _seed_team(kb: KnowledgeBase, kb_dir: Path, url: Optional[str]) -> None:
    """The sample team of team.yml, written once while the spa has none (bot.booking.team)."""
    from bot.booking import team

    techniques = [str(item["id"]) for item in kb.entries.get("techniques", [])]
    try:
        team.seed(url, kb_dir / TEAM_FILE, techniques)
    except team.TeamError as error:
        raise KnowledgeBaseError(kb_dir / TEAM_FILE, None, str(error).split(": ", 1)[-1]) from error


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
    with Session(get_engine(args.database_url), future=True) as session:
        saved = saved_content(session)
    if saved is not None:
        print(f"the spa's own files ({', '.join(sorted(saved.files))}) are its saved version {saved.number} "
              f"from the staff page; the other files are data/kb's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
