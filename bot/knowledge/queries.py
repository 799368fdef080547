"""Read-only queries the actions use.

Each call reads the knowledge base's version (one indexed read on a pooled connection); what
the actions read on every turn (the catalogue, the spa's settings, a question's topic) is kept
per version, so a reload (`make kb`, or the loader run against the database) shows up at once
without reading the same rows again on every turn.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple, Type, TypeVar

from sqlalchemy import select

from bot.advice.catalogue import (
    AudienceInfo,
    Catalogue,
    ConditionInfo,
    FrequencyInfo,
    SessionLengthInfo,
    SymptomInfo,
    TechniqueInfo,
)
from bot.knowledge import models
from bot.knowledge.db import database_url, get_engine, get_session
from bot.knowledge.loader import VERSION_KEY, VERSION_SECTION

T = TypeVar("T")


class Source(NamedTuple):
    """A public page the knowledge base's facts beyond the source document come from."""

    title: str
    url: str


def _get(model: Type[T], key: object) -> Optional[T]:
    with get_session() as session:
        return session.get(model, key)


def _all(model: Type[T], order_by: object = None) -> List[T]:
    with get_session() as session:
        statement = select(model)
        if order_by is not None:
            statement = statement.order_by(order_by)
        return list(session.execute(statement).scalars())


def topic_for_intent(intent: str) -> Optional[models.Topic]:
    """The answer a question intent asks for, if the knowledge base has one."""
    return _per_version(("topic", intent), lambda: _read_topic(intent))


def _read_topic(intent: str) -> Optional[models.Topic]:
    with get_session() as session:
        return session.execute(
            select(models.Topic).where(models.Topic.intent == intent)
        ).scalar_one_or_none()


def technique(technique_id: str) -> Optional[models.Technique]:
    return _get(models.Technique, technique_id)


def techniques() -> List[models.Technique]:
    return _all(models.Technique, models.Technique.position)


def goal(goal_id: str) -> Optional[models.Goal]:
    return _get(models.Goal, goal_id)


def audience(audience_id: str) -> Optional[models.Audience]:
    return _get(models.Audience, audience_id)


def conditions(severity: Optional[str] = None) -> List[models.Condition]:
    rows = _all(models.Condition)
    return [c for c in rows if severity is None or c.severity == severity]


def conditions_by_id(ids: Sequence[str]) -> List[models.Condition]:
    """Conditions in the order given, unknown ids skipped."""
    with get_session() as session:
        found = {
            c.id: c
            for c in session.execute(
                select(models.Condition).where(models.Condition.id.in_(list(ids)))
            ).scalars()
        }
    return [found[i] for i in ids if i in found]


def etiquette(etiquette_id: str) -> Optional[models.Etiquette]:
    """A first-visit answer; its `policy`, if any, names the spa setting that completes it."""
    return _get(models.Etiquette, etiquette_id)


def etiquette_all() -> List[models.Etiquette]:
    """Every first-visit answer, in the knowledge base's order, for an overview or a menu."""
    return _all(models.Etiquette, models.Etiquette.position)


def all_sources() -> List[Source]:
    """Every public source cited anywhere, once each, sorted by title so the credits read the same each time."""
    found: Set[Source] = set()
    with get_session() as session:
        for model in (models.Condition, models.Topic, models.Etiquette, models.CrisisResource):
            for sources in session.execute(select(model.sources)).scalars():
                found.update(Source(s["title"], s["url"]) for s in sources or ())
    return sorted(found, key=lambda s: (s.title.casefold(), s.url))


def crisis_resource(country: str) -> Optional[models.CrisisResource]:
    """The emergency number and help lines of one country (the spa's, from spa.yml)."""
    return _per_version(("crisis", country), lambda: _get(models.CrisisResource, country))


def settings(section: str) -> Dict[str, str]:
    """A section of single values: "spa" (contact details and policies) or "emergency"."""
    return dict(_per_version(("settings", section), lambda: _read_settings(section)))


def _read_settings(section: str) -> Dict[str, str]:
    with get_session() as session:
        rows = session.execute(select(models.Setting).where(models.Setting.section == section))
        return {row.key: row.value for row in rows.scalars()}


_VERSION_QUERY = select(models.Setting.value).where(
    models.Setting.section == VERSION_SECTION, models.Setting.key == VERSION_KEY)
_by_version: Dict[Tuple[str, str], Dict[Any, Any]] = {}


def kb_version() -> str:
    """The loaded knowledge base's fingerprint: one indexed read, without an ORM session."""
    with get_engine().connect() as connection:
        return connection.execute(_VERSION_QUERY).scalar() or ""


def _per_version(key: Any, read: Callable[[], T]) -> T:
    """`read()`'s result, read once per version of the knowledge base (and database)."""
    version = (database_url(), kb_version())
    values = _by_version.get(version)
    if values is None:
        _by_version.clear()
        values = _by_version[version] = {}
    if key not in values:
        values[key] = read()
    return values[key]


def catalogue() -> Catalogue:
    """Everything the advice logic needs; rebuilt only when the knowledge base was reloaded."""
    return _per_version("catalogue", _read_catalogue)


def _read_catalogue() -> Catalogue:
    with get_session() as session:
        rows = {
            model: list(session.execute(select(model)).scalars())
            for model in (
                models.Technique, models.Audience, models.Symptom, models.Condition, models.Goal,
                models.BodyPart, models.Pressure, models.Frequency, models.SessionLength,
            )
        }
    return Catalogue(
        techniques=tuple(
            TechniqueInfo(t.id, t.name, t.effects, t.pressure_level, tuple(t.audiences), tuple(t.goals))
            for t in sorted(rows[models.Technique], key=lambda t: t.position)
        ),
        audiences={
            a.id: AudienceInfo(a.id, a.name, tuple(a.techniques), tuple(a.goals), a.max_pressure)
            for a in rows[models.Audience]
        },
        symptoms={
            s.id: SymptomInfo(s.id, s.name, tuple(s.goals), tuple(s.techniques))
            for s in rows[models.Symptom]
        },
        conditions={
            c.id: ConditionInfo(
                c.id, c.name, c.severity, c.reason, c.advice, c.modification, c.max_pressure,
                tuple(c.avoid_areas or ()), tuple(c.audiences or ()), c.checklist is not False,
            )
            for c in rows[models.Condition]
        },
        goals={g.id: g.name for g in rows[models.Goal]},
        body_parts={b.id: b.name for b in rows[models.BodyPart]},
        full_body_parts=tuple(b.id for b in rows[models.BodyPart] if b.full_body),
        pressure_levels={p.id: p.level for p in rows[models.Pressure]},
        frequencies=tuple(
            FrequencyInfo(f.id, f.name, f.cadence, f.explanation, tuple(f.goals), bool(f.default))
            for f in sorted(rows[models.Frequency], key=lambda f: f.position)
        ),
        session_lengths=tuple(
            SessionLengthInfo(s.minutes, s.areas, s.max_areas)
            for s in sorted(rows[models.SessionLength], key=lambda s: s.minutes)
        ),
    )
