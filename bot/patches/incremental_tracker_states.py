"""Compute a conversation's dialogue states once per event, not once per prediction.

Why: rasa 3.6's RulePolicy featurises the whole conversation for every prediction:
`Domain.states_for_tracker_history` replays every applied event of the tracker from the start
and builds a state before each action. That happens three times per turn (the text and intent
lookups after the message, one more after the action), so its cost grows with the length of the
conversation: `past_states` was 25 % of the Rasa server's CPU with 100-turn conversations, and
the reason turn 100 cost more than twice turn 1 (bench/README.md).

What it does: per conversation (and domain, and `omit_unset_slots`), for up to TTL_S idle, it keeps the applied events
it has replayed, the replayed tracker and the states built so far. When a new call's applied
events start with those events (the same objects, or equal ones: the tracker store rebuilds the
previous turn's events from their JSON), only the new events are replayed. Anything else (an event undone by a rewind, a loop's
happy-path executions collapsed by `applied_events`, a restart, a new model's domain, or states
for ML policies with `ignore_rule_only_turns`) runs rasa's own function and starts the entry
afresh. Each caller gets its own copy of the states' user sub-states (the featurizer deletes keys
from them). A caller that sets WINDOW gets only the last WINDOW states (RulePolicy, whose rules
look no further back: bot/patches/rule_policy_state_window.py).

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the replaced function or the
generator it inlines changes, and compares the states with rasa's own for growing conversations
with forms, rewinds, restarts and sessions.
"""
from __future__ import annotations

import contextvars
import threading
import time
from collections import OrderedDict
from typing import Any, Dict, List, NamedTuple, Optional, Text, Tuple

from rasa.shared.core.constants import USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from bot.patches.applied_events_cache import starts_with
from bot.patches.cache_bounds import MAX_CONVERSATIONS, TTL_S


UPSTREAM_SOURCES = {
    "rasa.shared.core.domain.Domain.states_for_tracker_history":
        "035111ce73ac90ba50e143abf556f924af07d9f452893f5a96a62895d44df8b7",
    "rasa.shared.core.trackers.DialogueStateTracker.generate_all_prior_trackers":
        "a1f6954347b52649a7b1054741338997d2369197d91acb2eab7f6b11d3855ed1",
}

UPSTREAM = Domain.__dict__.get("_upstream_states_for_tracker_history", Domain.states_for_tracker_history)


class _Replay(NamedTuple):
    used: float
    domain: Domain
    events: List[Event]
    tracker: DialogueStateTracker
    states: List[State]


_replays: "OrderedDict[Tuple[Text, bool, bool], _Replay]" = OrderedDict()
_lock = threading.Lock()

# At least how many states, counted from the end and the current one included, the caller needs;
# None: all of them. Set by rule_policy_state_window while RulePolicy predicts.
WINDOW: contextvars.ContextVar[Optional[int]] = contextvars.ContextVar("states_window", default=None)


def _copy(state: State) -> State:
    """A state whose user sub-state callers may change without touching the cached one: the
    featurizer deletes the intent or the text from it (`_choose_last_user_input`,
    `_remove_user_text_if_intent`); the other sub-states are only read."""
    user = state.get(USER)
    if user is None:
        return dict(state)
    copied = dict(state)
    copied[USER] = dict(user)
    return copied


def _reusable(replay: Optional[_Replay], domain: Domain, applied: List[Event]) -> bool:
    """Whether `applied` starts with the replayed events, for the same domain."""
    return replay is not None and replay.domain is domain and starts_with(applied, replay.events)


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    """Drop-in for `Domain.states_for_tracker_history`: the same states, replaying only new events."""
    if ignore_rule_only_turns:
        return UPSTREAM(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    applied = tracker.applied_events()
    key = (tracker.sender_id, omit_unset_slots, tracker.is_rule_tracker)
    now = time.monotonic()
    with _lock:
        replay = _replays.pop(key, None)
        while _replays and next(iter(_replays.values())).used < now - TTL_S:
            _replays.popitem(last=False)
    if _reusable(replay, self, applied):
        replayed, states, start = replay.tracker, replay.states, len(replay.events)
    else:
        replayed, states, start = tracker.init_copy(), [], 0
    for event in applied[start:]:
        if isinstance(event, ActionExecuted):
            states.append(self._clean_state(self.get_active_state(replayed, omit_unset_slots=omit_unset_slots)))
        replayed.update(event)
    window = WINDOW.get()
    kept = states if window is None or len(states) < window else states[len(states) - window + 1:]
    result = [_copy(state) for state in kept]
    result.append(self._clean_state(self.get_active_state(replayed, omit_unset_slots=omit_unset_slots)))
    with _lock:
        _replays[key] = _Replay(now, self, applied, replayed, states)
        while len(_replays) > MAX_CONVERSATIONS:
            _replays.popitem(last=False)
    return result


def forget(sender_id: Text) -> None:
    """Drop a conversation's replay (its events are being deleted)."""
    with _lock:
        for key in [key for key in _replays if key[0] == sender_id]:
            del _replays[key]


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    Domain._upstream_states_for_tracker_history = UPSTREAM  # type: ignore[attr-defined]
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[assignment]
