"""Work out a tracker's applied events once per change of its events, not once per call.

Why: rasa 3.6's `DialogueStateTracker.applied_events` walks every event of the conversation
(with `isinstance` checks against abstract classes, which are slow) to drop the ones a rewind,
restart or loop undid, and it is called several times per turn: for each policy prediction's
dialogue states, when checking the session, and when serialising the tracker. With 100-turn
conversations it was about 9 % of the Rasa server's CPU (bench/README.md).

What it does: the result is kept on the tracker with a key made of its event list's identity,
length and last event; any change to the events (a new event, a reset, a rewind, which all
change that key) recomputes it with rasa's own code. Each caller gets a new list, as before.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the replaced function changes.
"""
from __future__ import annotations

from typing import Any, Callable, List, Tuple

from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

UPSTREAM_SOURCES = {
    "rasa.shared.core.trackers.DialogueStateTracker.applied_events":
        "764d5065ea9997d613c1984d9357370f9ae32d31ca21346086f16c54f0487aae",
}

UPSTREAM: Callable[[DialogueStateTracker], List[Event]] = DialogueStateTracker.__dict__.get(
    "_upstream_applied_events", DialogueStateTracker.applied_events
)
_ATTRIBUTE = "_applied_events_cache"


def _key(tracker: DialogueStateTracker) -> Tuple[Any, ...]:
    events = tracker.events
    return id(events), len(events), id(events[-1]) if events else None


def applied_events(self: DialogueStateTracker) -> List[Event]:
    """Drop-in for `DialogueStateTracker.applied_events`, computed once per change of events."""
    key = _key(self)
    cached = self.__dict__.get(_ATTRIBUTE)
    if cached is None or cached[0] != key:
        cached = (key, UPSTREAM(self))
        self.__dict__[_ATTRIBUTE] = cached
    return list(cached[1])


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    DialogueStateTracker._upstream_applied_events = UPSTREAM  # type: ignore[attr-defined]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[assignment]
