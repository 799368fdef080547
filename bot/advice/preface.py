"""The safety preface: what every reply must say first about the person's own health.

Every answer the assistant gives passes through `safety_preface`, whatever the question was:

- a red flag in the latest message: only the urgent message, nothing else;
- an absolute contraindication in the latest message: no massage for now and why, before any
  factual answer; while one is on record, no reply offers a technique or a booking;
- a relative contraindication in the latest message: its modification first;
- a question about a technique from someone whose condition makes that technique unsuitable
  (too firm, or working on an area the condition rules out), reported now or earlier: a caution;
- a health condition the knowledge base does not know: "check with your doctor and tell your
  therapist", never a fallback.

Pure: takes entities, the conversation's profile and the catalogue, returns text and flags.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bot.advice.catalogue import Catalogue, ConditionInfo, TechniqueInfo
from bot.advice.recommendation import join_words
from bot.advice.profile import NEGATED, OTHER_PERSON, Profile, ReportedCondition
from bot.advice.safety import Screening, Verdict, has_passed, is_first_trimester

UNKNOWN_CONDITION = "unknown_condition"
# Areas each technique works on, where a condition's affected areas rule it out.
TECHNIQUE_AREAS = {"reflexology": ("feet", "hands")}


class Mode(str, Enum):
    EMERGENCY = "emergency"   # only the urgent message
    AVOID = "avoid"           # an absolute contraindication is on record
    MODIFY = "modify"         # a relative one is on record
    CLEAR = "clear"


@dataclass(frozen=True)
class Preface:
    mode: Mode
    lines: Tuple[str, ...] = ()
    # Conditions whose advice this turn's preface already gave, so the answer need not repeat it.
    covered: Tuple[str, ...] = ()
    unknown: Tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def allows_offers(self) -> bool:
        """Technique suggestions and booking invitations are only ever made when this is true."""
        return self.mode in (Mode.MODIFY, Mode.CLEAR)


def own_mentions(entities: Sequence[Mapping[str, Any]], kind: str) -> List[Mapping[str, Any]]:
    """Mentions of `kind` the person states for themselves (not negated, not someone else's)."""
    return [
        e for e in entities
        if e.get("entity") == kind and e.get("role") not in (NEGATED, OTHER_PERSON)
        and isinstance(e.get("value"), str)
    ]


def safety_preface(
    latest_entities: Sequence[Mapping[str, Any]],
    profile: Profile,
    screening: Screening,
    catalogue: Catalogue,
) -> Preface:
    """What the reply to the latest message must lead with, given the whole conversation."""
    if own_mentions(latest_entities, "red_flag"):
        return Preface(Mode.EMERGENCY)
    mode = {Verdict.EMERGENCY: Mode.AVOID, Verdict.AVOID: Mode.AVOID,
            Verdict.MODIFY: Mode.MODIFY}.get(screening.verdict, Mode.CLEAR)
    latest_ids = _first_seen(e["value"] for e in own_mentions(latest_entities, "condition"))
    reported = [profile.conditions[c] for c in latest_ids if c in profile.conditions]
    lines: List[str] = []
    covered: List[str] = []
    absolute = [c for c in reported if c.id in screening.absolute]
    relative = [c for c in reported if c.id in screening.relative]
    if absolute:
        lines.append(_absolute_line([catalogue.conditions[c.id] for c in absolute]))
        covered += [c.id for c in absolute]
    for condition in relative:
        info = catalogue.conditions[condition.id]
        lines.append(_relative_line(info, condition, is_first_trimester(condition)))
        covered.append(condition.id)
    lines += technique_cautions(latest_entities, profile, screening, catalogue, covered)
    unknown = _first_seen(e["value"] for e in own_mentions(latest_entities, UNKNOWN_CONDITION))
    if unknown:
        lines.append(_unknown_line(unknown))
    return Preface(mode, tuple(lines), tuple(covered), tuple(unknown))


def technique_cautions(
    latest_entities: Sequence[Mapping[str, Any]],
    profile: Profile,
    screening: Screening,
    catalogue: Catalogue,
    covered: Sequence[str] = (),
) -> List[str]:
    """Cautions for the techniques asked about, from every condition on record."""
    asked = [catalogue.technique(t) for t in _first_seen(
        e["value"] for e in latest_entities
        if e.get("entity") == "technique" and e.get("role") != NEGATED and isinstance(e.get("value"), str)
    )]
    lines: List[str] = []
    for technique in (t for t in asked if t is not None):
        if screening.absolute:
            if not set(screening.absolute) <= set(covered):
                names = join_words([catalogue.conditions[c].name.lower() for c in screening.absolute])
                lines.append(
                    f"About {technique.name.lower()}: you told me about {names}, so please hold off on "
                    "any massage for now, this one included."
                )
            continue
        for condition_id in screening.relative:
            info = catalogue.conditions[condition_id]
            reason = _unsuitable_because(technique, info, profile)
            if reason:
                lines.append(f"**{technique.name} and {_lower_first(info.name)}:** {reason}")
    return lines


def _unsuitable_because(technique: TechniqueInfo, info: ConditionInfo, profile: Profile) -> Optional[str]:
    if info.max_pressure is not None and technique.pressure_level > info.max_pressure:
        return (f"{technique.name} uses firmer pressure than is safe for you. "
                f"{info.modification or ''} Ask for a gentle technique instead.").replace("  ", " ")
    areas = set(TECHNIQUE_AREAS.get(technique.id, ()))
    ruled_out = areas & set(info.avoid_areas)
    if ruled_out:
        return (f"{technique.name} works on the {join_words(sorted(ruled_out))}, which the therapist should keep away "
                f"from for you. {info.modification or ''}").strip()
    return None


def _absolute_line(conditions: Sequence[ConditionInfo]) -> str:
    parts = [f"**{c.name}**: no massage for now. {c.reason} {c.advice or ''}".rstrip() for c in conditions]
    if len(parts) == 1:
        return "I'm sorry, but a massage isn't safe for you right now.\n" + parts[0]
    return "\n".join(["I'm sorry, but a massage isn't safe for you right now:"] + [f"- {p}" for p in parts])


def _relative_line(info: ConditionInfo, reported: ReportedCondition, first_trimester: bool) -> str:
    line = (f"You mentioned {_condition_phrase(info, reported)}: massage is possible, with care. "
            f"{info.reason} {info.modification or ''}").strip()
    if info.id == "pregnancy" and first_trimester:
        line += " In the first trimester, please check with your midwife or doctor before you book."
    return line


def _condition_phrase(info: ConditionInfo, reported: Optional[ReportedCondition]) -> str:
    if info.id == "pregnancy":
        if reported is not None and reported.weeks:
            return f"you are {reported.weeks} weeks pregnant"
        if reported is not None and reported.trimester:
            ordinal = {1: "first", 2: "second", 3: "third"}.get(reported.trimester, "")
            return f"you are pregnant, in your {ordinal} trimester"
        return "you are pregnant"
    return _lower_first(info.name)


def _unknown_line(names: Sequence[str]) -> str:
    return (
        f"You mentioned {join_words(list(names))}. I don't have specific guidance on that, so please check "
        "with your doctor before you book, and tell your therapist about it so they can plan the "
        "session around it."
    )


def _lower_first(text: str) -> str:
    """'Blood clot or deep vein thrombosis (DVT)' -> 'blood clot or ...', keeping acronyms."""
    words = text.split(" ")
    if words and not words[0].isupper():
        words[0] = words[0].lower()
    return " ".join(words)


def _first_seen(values: Any) -> List[str]:
    return list(dict.fromkeys(values))


def blocks_offer(button: Dict[str, str]) -> bool:
    """Buttons that invite a booking or suggest a technique: never shown while massage must wait."""
    payload = str(button.get("payload") or "")
    return payload.startswith("/book_session") or payload.startswith('/ask_techniques{')


OFFER_PHRASES = ("shall I help you book", "book online", "book a session")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9*])")


def strip_offers(text: str) -> str:
    """Drop the sentences of a reply that invite a booking, for someone who must not book now;
    the rest of a line (the spa's walk-in policy, say) is still worth saying."""
    kept = []
    for line in text.split("\n"):
        sentences = [s for s in _SENTENCE_END.split(line) if not any(p.lower() in s.lower() for p in OFFER_PHRASES)]
        if sentences or not line.strip():
            kept.append(" ".join(sentences))
    return "\n".join(kept).strip("\n")

