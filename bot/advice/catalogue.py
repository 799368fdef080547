"""The slice of the knowledge base the advice logic needs, as plain immutable values.

The recommendation and screening code take a Catalogue instead of a database session, so they
stay pure and can be tested with any knowledge base.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class TechniqueInfo:
    id: str
    name: str
    effects: str
    pressure_level: int
    audiences: Tuple[str, ...]
    goals: Tuple[str, ...]


@dataclass(frozen=True)
class AudienceInfo:
    id: str
    name: str
    techniques: Tuple[str, ...]
    goals: Tuple[str, ...]
    max_pressure: Optional[int]


@dataclass(frozen=True)
class SymptomInfo:
    id: str
    name: str
    goals: Tuple[str, ...]
    techniques: Tuple[str, ...]


@dataclass(frozen=True)
class ConditionInfo:
    id: str
    name: str
    severity: str
    reason: str
    advice: Optional[str]
    modification: Optional[str]
    max_pressure: Optional[int]
    avoid_areas: Tuple[str, ...]
    # Who living with the condition is ("arthritis" -> people with chronic pain).
    audiences: Tuple[str, ...] = ()
    checklist: bool = True


@dataclass(frozen=True)
class FrequencyInfo:
    id: str
    name: str
    cadence: str
    explanation: str
    goals: Tuple[str, ...]
    default: bool = False


@dataclass(frozen=True)
class SessionLengthInfo:
    minutes: int
    areas: str
    max_areas: int


@dataclass(frozen=True)
class Catalogue:
    techniques: Tuple[TechniqueInfo, ...]
    audiences: Dict[str, AudienceInfo]
    symptoms: Dict[str, SymptomInfo]
    conditions: Dict[str, ConditionInfo]
    goals: Dict[str, str]
    body_parts: Dict[str, str]
    full_body_parts: Tuple[str, ...]
    pressure_levels: Dict[str, int]
    frequencies: Tuple[FrequencyInfo, ...]
    session_lengths: Tuple[SessionLengthInfo, ...]

    @property
    def severities(self) -> Dict[str, str]:
        return {c.id: c.severity for c in self.conditions.values()}

    def technique(self, technique_id: str) -> Optional[TechniqueInfo]:
        return next((t for t in self.techniques if t.id == technique_id), None)
