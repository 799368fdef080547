"""Which step comes next when someone wants advice or a booking.

The order is the safety contract: red flags, then absolute contraindications, then the one-time
checklist, and only then a booking or a recommendation (asking for what is missing first).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Optional, Tuple

from bot.advice.profile import Profile
from bot.advice.recommendation import ASK_AREA, ASK_GOAL, missing_information
from bot.advice.safety import Screening, Verdict

RECOMMEND = "recommend"
BOOK = "book"
SCREENING = "screening"


class Step(str, Enum):
    EMERGENCY = "emergency"
    AVOID = "avoid"
    ASK_SCREENING = "ask_screening"
    ASK_WHICH_CONDITION = "ask_which_condition"
    ASK_GOAL = "ask_goal"
    ASK_AREA = "ask_area"
    RECOMMEND = "recommend"
    BOOK = "book"


@dataclass(frozen=True)
class State:
    """What the conversation has already done, kept in slots between turns."""

    screened: bool = False
    pending: Optional[str] = None
    request: str = RECOMMEND
    asked: Tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Decision:
    step: Step
    state: State


def decide(profile: Profile, screening: Screening, state: State, intent: str) -> Decision:
    """The next step, and the state to remember, after the person's latest message."""
    request = BOOK if intent == "book_session" else state.request
    if state.pending == SCREENING and intent == "affirm" and not profile.conditions:
        return Decision(Step.ASK_WHICH_CONDITION, replace(state, request=request))
    answered = state.pending is not None
    state = replace(
        state,
        request=request,
        pending=None,
        screened=state.screened or state.pending == SCREENING,
        asked=state.asked + ((state.pending,) if answered and state.pending not in state.asked else ()),
    )
    if screening.verdict is Verdict.EMERGENCY:
        return Decision(Step.EMERGENCY, state)
    if screening.verdict is Verdict.AVOID:
        return Decision(Step.AVOID, state)
    if not state.screened:
        return Decision(Step.ASK_SCREENING, replace(state, pending=SCREENING))
    if request == BOOK:
        return Decision(Step.BOOK, replace(state, request=RECOMMEND))
    missing = missing_information(profile)
    if missing == ASK_GOAL and ASK_GOAL not in state.asked:
        return Decision(Step.ASK_GOAL, replace(state, pending=ASK_GOAL))
    if missing == ASK_AREA and ASK_AREA not in state.asked:
        return Decision(Step.ASK_AREA, replace(state, pending=ASK_AREA))
    return Decision(Step.RECOMMEND, state)
