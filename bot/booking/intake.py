"""The intake that travels with a booking request: what the person told the assistant about
themselves, in the knowledge base's own names, so the therapist reads it before the session.

The shape is the one documented in bot/booking/models.py. Only the person's own reports count:
the profile already leaves out what they said about someone else and what they denied. Safety
comes first here too: conditions are listed before anything else, absolute ones first, each with
the knowledge base's modification. A condition the person reported as long enough ago to no
longer count (bot.advice.safety.has_passed) is kept for the therapist with severity "past".

Whether a booking may be taken at all is not decided here: `screen(profile,
catalogue.severities).allows_massage` in bot.advice.safety already says so.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from bot.advice.catalogue import Catalogue
from bot.advice.profile import Profile
from bot.advice.safety import ABSOLUTE, has_passed

PAST = "past"
_SEVERITY_ORDER = {ABSOLUTE: 0, "relative": 1, PAST: 2}


def build_intake(profile: Profile, kb_lookup: Catalogue) -> Dict[str, Any]:
    """The intake JSON for a booking request, built from the person's profile, so the spa sees
    their conditions (with what the therapist must change), areas, goals, symptoms, pressure and
    who they are without reading the conversation."""
    conditions: List[Dict[str, Any]] = []
    for reported in profile.conditions.values():
        info = kb_lookup.conditions.get(reported.id)
        if info is None or reported.id in profile.denied_conditions:
            continue
        passed = has_passed(reported)
        conditions.append({
            "id": info.id,
            "name": info.name,
            "severity": PAST if passed else info.severity,
            "modification": None if passed else _clean(info.modification),
        })
    conditions.sort(key=lambda c: _SEVERITY_ORDER.get(c["severity"], 1))
    return {
        "conditions": conditions,
        "areas": _names(profile.body_parts, kb_lookup.body_parts),
        "goals": _names(profile.goals, kb_lookup.goals),
        "symptoms": _names(profile.symptoms, {k: v.name for k, v in kb_lookup.symptoms.items()}),
        "pressure": profile.pressure,
        "audiences": _names(profile.audiences, {k: v.name for k, v in kb_lookup.audiences.items()}),
    }


def _names(ids: Sequence[str], names: Mapping[str, str]) -> List[str]:
    result: List[str] = []
    for value in ids:
        name = names.get(value)
        if name and name not in result:
            result.append(name)
    return result


def _clean(text: Optional[str]) -> Optional[str]:
    if text is None:
        return None
    value = " ".join(text.split())
    return value or None


def summary_lines(intake: Mapping[str, Any]) -> List[str]:
    """Plain-text lines of an intake, conditions first, for the chat summary, the email and the
    staff page, so all three say the same thing. Empty sections are left out."""
    if not intake:
        return []
    lines: List[str] = []
    for condition in intake.get("conditions") or []:
        if not isinstance(condition, Mapping) or not condition.get("name"):
            continue
        line = f"Condition: {condition['name']}"
        severity = condition.get("severity")
        modification = _clean(condition.get("modification"))
        if severity == PAST:
            line += " — reported as in the past"
        elif modification:
            line += f" — Modification: {modification}"
        elif severity == ABSOLUTE:
            line += " — massage must wait until a doctor clears it"
        lines.append(line)
    for label, key in (("Areas", "areas"), ("Goals", "goals"), ("Symptoms", "symptoms")):
        values = [_lower_first(str(v)) for v in intake.get(key) or [] if str(v).strip()]
        if values:
            lines.append(f"{label}: {', '.join(values)}")
    pressure = intake.get("pressure")
    if pressure:
        lines.append(f"Pressure: {pressure}")
    audiences = [_lower_first(str(v)) for v in intake.get("audiences") or [] if str(v).strip()]
    if audiences:
        lines.append(f"About you: {', '.join(audiences)}")
    return lines


def _lower_first(text: str) -> str:
    """"Better sleep" -> "better sleep" in a list, but "DVT" stays as it is."""
    value = text.strip()
    if len(value) > 1 and value[0].isupper() and not value[1].isupper():
        return value[0].lower() + value[1:]
    return value
