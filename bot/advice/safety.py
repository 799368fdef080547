"""Safety screening: red flags first, then absolute and relative contraindications.

Deterministic and conservative: anything the person reports about themselves counts unless the
source document's own wording makes it time-bound ("recent" surgery, a current fever or rash)
and they said it was long ago.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Mapping, Tuple

from bot.advice.profile import Profile, ReportedCondition

ABSOLUTE = "absolute"
RELATIVE = "relative"

# How long ago something must have been to no longer count, for conditions that pass.
# Clots and heart conditions never expire on their own: a doctor has to clear them.
PASSED_AFTER_DAYS = {"recent_surgery": 182, "fever": 14, "skin_infection": 30, "inflammatory_flare": 30,
                     "recent_injury": 42, "recent_childbirth": 182}
FIRST_TRIMESTER_WEEKS = 13


class Verdict(str, Enum):
    EMERGENCY = "emergency"
    AVOID = "avoid"
    MODIFY = "modify"
    CLEAR = "clear"


@dataclass(frozen=True)
class Screening:
    verdict: Verdict
    red_flags: Tuple[str, ...] = ()
    absolute: Tuple[str, ...] = ()
    relative: Tuple[str, ...] = ()
    past: Tuple[str, ...] = ()
    first_trimester: bool = False

    @property
    def allows_massage(self) -> bool:
        """Recommendations and bookings are only ever offered when this is true."""
        return self.verdict in (Verdict.MODIFY, Verdict.CLEAR)


def has_passed(condition: ReportedCondition) -> bool:
    """True when a time-bound condition was reported as long enough ago to no longer apply."""
    limit = PASSED_AFTER_DAYS.get(condition.id)
    return limit is not None and condition.days_ago is not None and condition.days_ago >= limit


def is_first_trimester(condition: ReportedCondition) -> bool:
    if condition.trimester is not None:
        return condition.trimester == 1
    return condition.weeks is not None and condition.weeks <= FIRST_TRIMESTER_WEEKS


def screen(profile: Profile, severities: Mapping[str, str]) -> Screening:
    """Classify what the person reported about themselves, most urgent first."""
    if profile.red_flags:
        return Screening(Verdict.EMERGENCY, red_flags=tuple(profile.red_flags))
    absolute, relative, past = [], [], []
    first_trimester = False
    for condition in profile.conditions.values():
        severity = severities.get(condition.id)
        if severity is None:
            continue
        if has_passed(condition):
            past.append(condition.id)
        elif severity == ABSOLUTE:
            absolute.append(condition.id)
        else:
            relative.append(condition.id)
            if condition.id == "pregnancy" and is_first_trimester(condition):
                first_trimester = True
    verdict = Verdict.AVOID if absolute else Verdict.MODIFY if relative else Verdict.CLEAR
    return Screening(verdict, (), tuple(absolute), tuple(relative), tuple(past), first_trimester)
