"""From what a person told us to techniques, session length and frequency, with reasons.

Every reason is composed from the knowledge base (technique effects, audience, symptom and goal
names), so a spa that edits data/kb changes the explanations too. Same profile in, same answer out.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import List, Optional, Sequence, Tuple

from bot.advice.catalogue import Catalogue, FrequencyInfo, TechniqueInfo
from bot.advice.profile import Profile
from bot.advice.safety import Screening

MAX_TECHNIQUES = 3
AUDIENCE_WEIGHT = 5.0
AUDIENCE_RANK_STEP = 2.5
SYMPTOM_WEIGHT = 2.0
GOAL_WEIGHT = 1.5
DERIVED_GOAL_WEIGHT = 0.5
REQUESTED_TECHNIQUE_WEIGHT = 4.0
RANK_STEP = 0.5
FIRM_BONUS = 1.0
FULL_PRESSURE = 3
# Symptoms that sit in a particular place, so knowing where matters for the session length.
LOCAL_SYMPTOMS = {"pain", "stiffness", "knots", "muscle_strain", "cramps", "swelling"}

ASK_GOAL = "goal"
ASK_AREA = "area"


@dataclass(frozen=True)
class TechniqueChoice:
    id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Recommendation:
    techniques: Tuple[TechniqueChoice, ...]
    minutes: int
    length_reason: str
    frequency: FrequencyInfo
    modifications: Tuple[str, ...]
    avoided_areas: Tuple[str, ...]
    max_pressure: int
    excluded: Tuple[str, ...]


def missing_information(profile: Profile) -> Optional[str]:
    """The one thing worth asking before recommending, if any."""
    if not profile.has_needs:
        return ASK_GOAL
    if set(profile.symptoms) & LOCAL_SYMPTOMS and not profile.body_parts:
        return ASK_AREA
    return None


def pressure_limit(profile: Profile, catalogue: Catalogue, screening: Screening) -> int:
    """The firmest pressure that is safe and wanted: conditions, then audience, then preference."""
    limits = [FULL_PRESSURE]
    for condition_id in screening.relative:
        limit = catalogue.conditions[condition_id].max_pressure
        if limit is not None:
            limits.append(limit)
    for audience_id in profile.audiences:
        limit = catalogue.audiences[audience_id].max_pressure if audience_id in catalogue.audiences else None
        if limit is not None:
            limits.append(limit)
    if profile.pressure and profile.pressure in catalogue.pressure_levels:
        wanted = catalogue.pressure_levels[profile.pressure]
        if wanted < FULL_PRESSURE:
            limits.append(wanted)
    return min(limits)


def ordered_goals(
    profile: Profile, catalogue: Catalogue, include_audience: bool = True
) -> List[Tuple[str, bool]]:
    """Goals the person named first, then those their symptoms and audience imply (derived=True).

    Scoring leaves the audience's goals out: the audience already counts through its techniques.
    """
    goals: List[Tuple[str, bool]] = [(g, False) for g in profile.goals]
    derived: List[str] = []
    for symptom_id in profile.symptoms:
        derived.extend(catalogue.symptoms[symptom_id].goals if symptom_id in catalogue.symptoms else ())
    for audience_id in profile.audiences if include_audience else ():
        derived.extend(catalogue.audiences[audience_id].goals if audience_id in catalogue.audiences else ())
    for goal in derived:
        if goal not in {g for g, _ in goals}:
            goals.append((goal, True))
    return goals


def _rank_bonus(position: int) -> float:
    return -RANK_STEP * position


def _score(
    technique: TechniqueInfo,
    profile: Profile,
    catalogue: Catalogue,
    goals: Sequence[Tuple[str, bool]],
    places: str,
) -> Tuple[float, List[str]]:
    score, reasons = 0.0, []
    if technique.id in profile.techniques:
        score += REQUESTED_TECHNIQUE_WEIGHT
        reasons.append("you asked about it")
    for audience_id in profile.audiences:
        audience = catalogue.audiences.get(audience_id)
        if audience and technique.id in audience.techniques:
            score += AUDIENCE_WEIGHT - AUDIENCE_RANK_STEP * audience.techniques.index(technique.id)
            reasons.append(f"it is a good match for {audience.name.lower()}")
    for symptom_id in profile.symptoms:
        symptom = catalogue.symptoms.get(symptom_id)
        if symptom and technique.id in symptom.techniques:
            score += SYMPTOM_WEIGHT + _rank_bonus(symptom.techniques.index(technique.id))
            where = places if symptom_id in LOCAL_SYMPTOMS else ""
            reasons.append(f"it helps with the {symptom.name}{where}")
    for goal_id, derived in goals:
        if goal_id in technique.goals:
            score += DERIVED_GOAL_WEIGHT if derived else GOAL_WEIGHT
            if not derived:
                reasons.append(f"you want {catalogue.goals[goal_id].lower()}")
    return score, reasons


def _area_phrase(profile: Profile, catalogue: Catalogue, avoided: Sequence[str]) -> str:
    names = [catalogue.body_parts[p] for p in profile.body_parts if p in catalogue.body_parts and p not in avoided]
    return f" in your {join_words(names)}" if names and not _is_full_body(profile, catalogue) else ""


def _is_full_body(profile: Profile, catalogue: Catalogue) -> bool:
    return any(p in catalogue.full_body_parts for p in profile.body_parts)


def join_words(words: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    words = list(dict.fromkeys(words))
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def choose_techniques(
    profile: Profile, catalogue: Catalogue, max_pressure: int, avoided: Sequence[str] = ()
) -> Tuple[List[TechniqueChoice], List[str]]:
    goals = ordered_goals(profile, catalogue, include_audience=False)
    places = _area_phrase(profile, catalogue, avoided)
    scored = []
    excluded = []
    for position, technique in enumerate(catalogue.techniques):
        if technique.pressure_level > max_pressure:
            excluded.append(technique.id)
            continue
        score, reasons = _score(technique, profile, catalogue, goals, places)
        if profile.pressure and catalogue.pressure_levels.get(profile.pressure, 0) >= FULL_PRESSURE:
            score += FIRM_BONUS if technique.pressure_level >= FULL_PRESSURE else 0.0
        scored.append((score, -position, technique, reasons))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    chosen = [
        TechniqueChoice(t.id, t.name, _reason(t, reasons))
        for score, _, t, reasons in scored[:MAX_TECHNIQUES]
        if score > 0 and reasons
    ]
    if not chosen and scored:
        gentlest = min((item[2] for item in scored), key=lambda t: t.pressure_level)
        chosen = [TechniqueChoice(gentlest.id, gentlest.name,
                                  f"{gentlest.name} {gentlest.effects}, a comfortable place to start.")]
    return chosen, excluded


def _reason(technique: TechniqueInfo, reasons: Sequence[str]) -> str:
    return f"{technique.name} {technique.effects}. Good for you because {join_words(list(reasons)[:2])}."


def session_length(profile: Profile, catalogue: Catalogue, avoided: Sequence[str]) -> Tuple[int, str]:
    """30 minutes for one area, 45 for two or three, 60 for the full body, within the time they have."""
    minutes, reason = _length_for_areas(profile, catalogue, avoided)
    available = profile.minutes_available
    if available is None or available >= minutes:
        return minutes, reason
    fitting = [length for length in catalogue.session_lengths if length.minutes <= available]
    if not fitting:
        shortest = catalogue.session_lengths[0]
        return shortest.minutes, (f"{shortest.minutes} minutes is the shortest session, enough for "
                                  f"{shortest.areas}; ask the spa if less time is possible")
    best = fitting[-1]
    return best.minutes, (f"{best.minutes} minutes fits the time you have; that is enough for {best.areas}, "
                          f"so the therapist will focus on what bothers you most")


def _length_for_areas(profile: Profile, catalogue: Catalogue, avoided: Sequence[str]) -> Tuple[int, str]:
    lengths = catalogue.session_lengths
    areas = [p for p in profile.body_parts if p not in avoided and p not in catalogue.full_body_parts]
    if _is_full_body(profile, catalogue) or not areas:
        longest = lengths[-1]
        return longest.minutes, f"{longest.minutes} minutes covers {longest.areas}"
    for length in lengths:
        if len(areas) <= length.max_areas:
            names = join_words([catalogue.body_parts[a] for a in areas])
            return length.minutes, f"{length.minutes} minutes is right for {length.areas} ({names})"
    return lengths[-1].minutes, f"{lengths[-1].minutes} minutes covers {lengths[-1].areas}"


def session_frequency(profile: Profile, catalogue: Catalogue) -> FrequencyInfo:
    """The first frequency plan that fits the person's first goal, else the spa's default."""
    for goal_id, _ in ordered_goals(profile, catalogue):
        for frequency in catalogue.frequencies:
            if goal_id in frequency.goals:
                return frequency
    return next((f for f in catalogue.frequencies if f.default), catalogue.frequencies[0])


def with_condition_audiences(profile: Profile, catalogue: Catalogue, screening: Screening) -> Profile:
    """Someone with arthritis is also someone living with chronic pain, and is advised as such."""
    implied = [a for c in screening.relative if c in catalogue.conditions for a in catalogue.conditions[c].audiences]
    extra = [a for a in dict.fromkeys(implied) if a not in profile.audiences]
    return replace(profile, audiences=profile.audiences + extra) if extra else profile


def recommend(profile: Profile, catalogue: Catalogue, screening: Screening) -> Recommendation:
    """Only call when screening.allows_massage; the caller enforces that, this double-checks."""
    if not screening.allows_massage:
        raise ValueError("no recommendation when massage is not safe")
    profile = with_condition_audiences(profile, catalogue, screening)
    max_pressure = pressure_limit(profile, catalogue, screening)
    relative = [catalogue.conditions[c] for c in screening.relative if c in catalogue.conditions]
    avoided = tuple(dict.fromkeys(a for c in relative for a in c.avoid_areas if a in profile.body_parts))
    techniques, excluded = choose_techniques(profile, catalogue, max_pressure, avoided)
    minutes, length_reason = session_length(profile, catalogue, avoided)
    return Recommendation(
        techniques=tuple(techniques),
        minutes=minutes,
        length_reason=length_reason,
        frequency=session_frequency(profile, catalogue),
        modifications=tuple(c.modification for c in relative if c.modification),
        avoided_areas=tuple(catalogue.body_parts[a] for a in avoided),
        max_pressure=max_pressure,
        excluded=tuple(excluded),
    )
