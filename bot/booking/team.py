"""The spa's team, rooms and booking rules: data/kb/team.yml, and the tables it first fills.

team.yml holds a small sample team so a new installation can offer times at once. `make kb`
(bot.knowledge.loader) calls `seed` after loading the knowledge base: while the `therapists` table
is empty, the file's therapists, their weekly hours and the rooms are written; once the spa has a
team, the file's therapists and rooms are never written again (the staff page's Team page edits
the rows, and appointments point at them). The booking rules (buffer after a session, room kind,
notice, grid, horizon) and which conditions need which training are read from the file each time
they are needed (`rules`), so they follow version control like the safety content.

Weekly hours are written per weekday as stretches, "09:00-13:00, 13:30-17:00": the gap between two
stretches is a break. They are wall-clock times in the spa's zone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any, FrozenSet, Iterable, List, Mapping, Optional, Tuple

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.booking.appointments import Room, Therapist, TherapistHours
from bot.knowledge.db import KB_DIR, get_engine

TEAM_PATH = KB_DIR / "team.yml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROOM_KINDS = ("treatment", "couples")


class TeamError(ValueError):
    """team.yml cannot be used: the message names the entry and the field."""


@dataclass(frozen=True)
class Rules:
    """How bookings are made at this spa (team.yml's `services`, `certifications`,
    `certification_for`)."""

    buffer_minutes: int = 15
    room_kind: str = "treatment"
    notice_minutes: int = 120
    granularity_minutes: int = 30
    horizon_days: int = 14
    certifications: Mapping[str, str] = field(default_factory=dict)  # id -> how it is said
    certification_for: Mapping[str, str] = field(default_factory=dict)  # condition id -> certification

    def required_for(self, conditions: Iterable[str]) -> FrozenSet[str]:
        """The training a therapist needs for someone with these conditions (pregnancy -> prenatal)."""
        return frozenset(self.certification_for[c] for c in conditions if c in self.certification_for)


@dataclass(frozen=True)
class TeamMember:
    id: str
    name: str
    gender: Optional[str]
    techniques: Tuple[str, ...]
    certifications: Tuple[str, ...]
    hours: Tuple[Tuple[int, time, time], ...]  # (weekday, start, end); end 00:00 is midnight


@dataclass(frozen=True)
class Team:
    rules: Rules
    therapists: Tuple[TeamMember, ...]
    rooms: Tuple[Tuple[str, str, str], ...]  # (id, name, kind)


def parse_stretches(text: str) -> List[Tuple[time, time]]:
    """ "09:00-13:00, 13:30-17:00" -> [(9:00, 13:00), (13:30, 17:00)], read exactly as the Team
    page reads what an owner types (bot/staff/team_forms.py); raises ValueError saying why. An
    end of 24:00 comes back as midnight (00:00), as the availability module reads it."""
    from bot.staff.team_forms import parse_day

    return [stretch.as_times() for stretch in parse_day(text)]


def read_team(path: Path = TEAM_PATH, techniques: Optional[Iterable[str]] = None) -> Team:
    """Read and check team.yml; `techniques` (the knowledge base's ids) are checked when given."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise TeamError(f"{path.name}: expected sections at the top")
    rules = _read_rules(data, path.name)
    known = set(techniques) if techniques is not None else None
    members = tuple(_read_member(entry, position, rules, known, path.name)
                    for position, entry in enumerate(data.get("therapists") or [], start=1))
    ids = [m.id for m in members]
    if len(set(ids)) != len(ids):
        raise TeamError(f"{path.name}: therapist ids must be different")
    rooms = []
    for position, entry in enumerate(data.get("rooms") or [], start=1):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
            raise TeamError(f"{path.name}: room {position} needs an id and a name")
        kind = str(entry.get("kind") or "treatment")
        if kind not in ROOM_KINDS:
            raise TeamError(f"{path.name}: room {entry['id']}: kind must be one of {', '.join(ROOM_KINDS)}")
        rooms.append((str(entry["id"]), str(entry["name"]), kind))
    return Team(rules, members, tuple(rooms))


def _read_rules(data: Mapping[str, Any], name: str) -> Rules:
    services = data.get("services") or {}
    numbers = {}
    for key in ("buffer_minutes", "notice_minutes", "granularity_minutes", "horizon_days"):
        value = services.get(key, getattr(Rules, key))
        if not isinstance(value, int) or value < 0 or (key in ("granularity_minutes", "horizon_days") and value == 0):
            raise TeamError(f"{name}: services: {key} must be a whole number of minutes or days")
        numbers[key] = value
    certifications = {str(k): str(v) for k, v in (data.get("certifications") or {}).items()}
    certification_for = {str(k): str(v) for k, v in (data.get("certification_for") or {}).items()}
    for condition, certification in certification_for.items():
        if certification not in certifications:
            raise TeamError(f"{name}: certification_for: {condition}: '{certification}' is not in certifications")
    return Rules(room_kind=str(services.get("room_kind") or "treatment"), certifications=certifications,
                 certification_for=certification_for, **numbers)


def _read_member(entry: Any, position: int, rules: Rules, techniques: Optional[set], name: str) -> TeamMember:
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
        raise TeamError(f"{name}: therapist {position} needs an id and a name")
    label = f"{name}: therapist {entry['id']}"
    for technique in entry.get("techniques") or []:
        if techniques is not None and technique not in techniques:
            raise TeamError(f"{label}: technique '{technique}' is not in techniques.yml")
    for certification in entry.get("certifications") or []:
        if certification not in rules.certifications:
            raise TeamError(f"{label}: certification '{certification}' is not in certifications")
    hours: List[Tuple[int, time, time]] = []
    for day, text in (entry.get("hours") or {}).items():
        if day not in WEEKDAYS:
            raise TeamError(f"{label}: hours: '{day}' is not one of {', '.join(WEEKDAYS)}")
        try:
            hours += [(WEEKDAYS.index(day), start, end) for start, end in parse_stretches(str(text))]
        except ValueError as error:
            raise TeamError(f"{label}: hours: {day}: {error}") from None
    gender = entry.get("gender")
    return TeamMember(
        id=str(entry["id"]), name=str(entry["name"]), gender=str(gender) if gender else None,
        techniques=tuple(entry.get("techniques") or ()), certifications=tuple(entry.get("certifications") or ()),
        hours=tuple(sorted(hours)))


@lru_cache(maxsize=4)
def _cached_rules(path: str, modified: float) -> Rules:
    return read_team(Path(path)).rules


def rules(path: Path = TEAM_PATH) -> Rules:
    """The booking rules, read again whenever team.yml changes."""
    try:
        return _cached_rules(str(path), path.stat().st_mtime)
    except FileNotFoundError:
        return Rules()


def seed(url: Optional[str] = None, path: Path = TEAM_PATH, techniques: Optional[Iterable[str]] = None) -> int:
    """Write team.yml's therapists, hours and rooms while the spa has no team yet; returns how
    many therapists were written (0 when the tables already had a team)."""
    if not path.exists():
        return 0
    team = read_team(path, techniques)
    with Session(get_engine(url), future=True) as session, session.begin():
        if session.execute(select(Therapist.id).limit(1)).first() is not None:
            return 0
        for member in team.therapists:
            session.add(Therapist(id=member.id, name=member.name, gender=member.gender,
                                  techniques=list(member.techniques), certifications=list(member.certifications),
                                  active=True))
            session.add_all([TherapistHours(therapist_id=member.id, weekday=day, start_time=start, end_time=end)
                             for day, start, end in member.hours])
        if session.execute(select(Room.id).limit(1)).first() is None:
            session.add_all([Room(id=room_id, name=room_name, kind=kind) for room_id, room_name, kind in team.rooms])
    return len(team.therapists)
