"""What a person has told the assistant so far, rebuilt from the entities of every turn.

Later turns win: "actually it's my neck, not my back" adds the neck and drops the back, and
"I don't have a fever after all" withdraws an earlier fever.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

NEGATED = "negated"
OTHER_PERSON = "other"
LIST_ENTITIES = ("body_part", "symptom", "goal", "audience", "technique")


@dataclass(frozen=True)
class ReportedCondition:
    """A condition the person has, with what they said about its timing."""

    id: str
    days_ago: Optional[int] = None
    weeks: Optional[int] = None
    trimester: Optional[int] = None


@dataclass
class Profile:
    body_parts: List[str] = field(default_factory=list)
    symptoms: List[str] = field(default_factory=list)
    goals: List[str] = field(default_factory=list)
    audiences: List[str] = field(default_factory=list)
    techniques: List[str] = field(default_factory=list)
    conditions: Dict[str, ReportedCondition] = field(default_factory=dict)
    denied_conditions: List[str] = field(default_factory=list)
    red_flags: List[str] = field(default_factory=list)
    pressure: Optional[str] = None
    minutes_available: Optional[int] = None

    @classmethod
    def from_turns(cls, turns: Iterable[Sequence[Mapping[str, Any]]]) -> "Profile":
        """Fold the entity lists of the user's turns, oldest first, into one profile."""
        profile = cls()
        for entities in turns:
            profile.update(entities)
        return profile

    def update(self, entities: Sequence[Mapping[str, Any]]) -> None:
        for entity in entities:
            kind, value, role = entity.get("entity"), entity.get("value"), entity.get("role")
            if not kind or not isinstance(value, str):
                continue
            if role == OTHER_PERSON:
                continue
            negated = role == NEGATED
            if kind == "condition":
                self._update_condition(value, entity, negated)
            elif kind == "red_flag":
                _toggle(self.red_flags, value, not negated)
            elif kind == "pressure" and not negated:
                self.pressure = value
            elif kind == "time_available" and not negated and value.isdigit():
                self.minutes_available = int(value)
            elif kind in LIST_ENTITIES:
                _toggle(getattr(self, f"{kind}s"), value, not negated)

    def _update_condition(self, value: str, entity: Mapping[str, Any], negated: bool) -> None:
        if negated:
            self.conditions.pop(value, None)
            _toggle(self.denied_conditions, value, True)
            return
        _toggle(self.denied_conditions, value, False)
        earlier = self.conditions.get(value)
        self.conditions[value] = ReportedCondition(
            value,
            days_ago=_first(entity.get("days_ago"), earlier and earlier.days_ago),
            weeks=_first(entity.get("weeks"), earlier and earlier.weeks),
            trimester=_first(entity.get("trimester"), earlier and earlier.trimester),
        )

    @property
    def has_needs(self) -> bool:
        """Whether there is anything to base a recommendation on."""
        return bool(self.body_parts or self.symptoms or self.goals or self.audiences or self.techniques)


def _toggle(values: List[str], value: str, present: bool) -> None:
    if present and value not in values:
        values.append(value)
    elif not present and value in values:
        values.remove(value)


def _first(*candidates: Any) -> Any:
    for candidate in candidates:
        if isinstance(candidate, int) and not isinstance(candidate, bool):
            return candidate
    return None
