"""Work out a conversation's applied events from the new events only, not from the start.

Why: rasa 3.6's `DialogueStateTracker.applied_events` walks every event of the conversation
(with `isinstance` checks against abstract classes, which are slow, and, for forms, a walk back
over the applied events at each run of the form) to drop the ones a rewind, restart or loop
undid. It is called several times per turn (each policy prediction's dialogue states, the
session check, copies of the tracker), so in long conversations it was the largest cost left
that grows with their length (bench/README.md).

What it does: the applied events are a fold over the events, oldest first, whose only state is
the applied list so far and the names of the loops (forms) that appear anywhere in the events.
Per conversation (for up to TTL_S idle) it keeps the events it has folded, those loop names and
the result. When a tracker's events start with those events (the same objects, or equal ones:
the tracker store rebuilds the previous turn's events from their JSON) and the new events name
no other loop, only the new events are folded, with rasa's own steps; anything else runs rasa's
function. Each caller gets a new list, as before.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the replaced function changes, and
compares the result with rasa's at every step of conversations with forms, rewinds and restarts.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, FrozenSet, List, NamedTuple, Optional, Sequence, Tuple

from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, Event, Restarted,
                                     SessionStarted, UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.patches.cache_bounds import MAX_CONVERSATIONS, TTL_S

UPSTREAM_SOURCES = {
    "rasa.shared.core.trackers.DialogueStateTracker.applied_events":
        "764d5065ea9997d613c1984d9357370f9ae32d31ca21346086f16c54f0487aae",
}

UPSTREAM: Callable[[DialogueStateTracker], List[Event]] = DialogueStateTracker.__dict__.get(
    "_upstream_applied_events", DialogueStateTracker.applied_events
)


class _Fold(NamedTuple):
    used: float
    events: Tuple[Event, ...]
    loop_names: FrozenSet[str]
    applied: Tuple[Event, ...]


_folds: "OrderedDict[str, _Fold]" = OrderedDict()
_lock = threading.Lock()


def _loop_names(events: Tuple[Event, ...]) -> FrozenSet[str]:
    return frozenset(event.name for event in events if type(event) is ActiveLoop and event.name)


def starts_with(events: Sequence[Event], prefix: Sequence[Event]) -> bool:
    """Whether `events` begin with `prefix`: the same objects, or (for the previous turn's events,
    which the tracker store hands back rebuilt from their JSON) equal ones."""
    return len(events) >= len(prefix) and all(new is old or new == old for new, old in zip(events, prefix))


def _continues(fold: Optional[_Fold], events: Tuple[Event, ...]) -> bool:
    return fold is not None and starts_with(events, fold.events)


def _step(tracker: DialogueStateTracker, applied: List[Event], event: Event, loop_names: FrozenSet[str]) -> List[Event]:
    """One event of rasa's `applied_events` loop (the same branches, in the same order)."""
    if isinstance(event, (Restarted, SessionStarted)):
        return []
    if isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in loop_names
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)
    return applied


def _is_prefix_of(events: Tuple[Event, ...], fold: Optional[_Fold]) -> bool:
    """A shorter tracker of the same conversation, as while it is being rebuilt event by event."""
    return fold is not None and len(events) < len(fold.events) and all(
        new is old for new, old in zip(events, fold.events))


def applied_events(self: DialogueStateTracker) -> List[Event]:
    """Drop-in for `DialogueStateTracker.applied_events`, folding only the new events."""
    events = tuple(self.events)
    now = time.monotonic()
    key = self.sender_id
    with _lock:
        fold = _folds.pop(key, None)
        while _folds and next(iter(_folds.values())).used < now - TTL_S:
            _folds.popitem(last=False)
    if _is_prefix_of(events, fold):
        # Replaying a rewind while the tracker is rebuilt: rasa's answer, and the longer fold stays.
        with _lock:
            _folds[key] = fold._replace(used=now)
        return UPSTREAM(self)
    new = events[len(fold.events):] if _continues(fold, events) else None
    if fold is not None and new is not None and _loop_names(new) <= fold.loop_names:
        applied = list(fold.applied)
        for event in new:
            applied = _step(self, applied, event, fold.loop_names)
        loop_names = fold.loop_names
    else:
        applied = UPSTREAM(self)
        loop_names = _loop_names(events)
    with _lock:
        _folds[key] = _Fold(now, events, loop_names, tuple(applied))
        while len(_folds) > MAX_CONVERSATIONS:
            _folds.popitem(last=False)
    return list(applied)


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    DialogueStateTracker._upstream_applied_events = UPSTREAM  # type: ignore[attr-defined]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[assignment]
