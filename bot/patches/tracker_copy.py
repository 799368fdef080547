"""Copy a tracker from a replay kept up to date, instead of replaying the whole conversation.

Why: rasa 3.6's `DialogueStateTracker.copy` builds a new tracker and replays every event of the
conversation into it (`travel_back_in_time`), and the processor copies the tracker before each
action it runs: twice or more a turn, each copy linear in the conversation's length (1.2 ms at
turn 100, 20 % of the Rasa server's CPU in the bench's long conversations; bench/README.md).

What it does: each tracker keeps a private replay of its events (a tracker built by rasa's own
`init_copy` and `update`, touched by nothing else). A copy brings that replay up to date with the
new events only, then duplicates it: the same event objects and the replay's state, with its own
slots, latest action and active loop, so changing the copy changes neither the replay nor the
original. The result is what rasa's copy gives, because rasa's copy is that same replay. The
replay is only reused while it holds a prefix of the tracker's events (the same objects); when
the events changed in any other way, or the tracker keeps a bounded history, rasa's copy runs.

The tracker store's cache (tracker_event_cache) keeps such a replay per conversation and hands
out `duplicate`s of it, each with a duplicate as its own replay (`REPLAY`), so neither reading a
conversation nor copying it replays it from the start.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the replaced functions change, and
compares every attribute of the copy with rasa's at every step of conversations with forms,
rewinds, restarts, pauses and follow-up actions.
"""
from __future__ import annotations

import copy as copy_module
import itertools
from collections import deque
from typing import Callable, Deque, Optional, Sequence

from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

UPSTREAM_SOURCES = {
    "rasa.shared.core.trackers.DialogueStateTracker.copy":
        "dfa48dca9f355ad1b42c625bc6f6370bafe83514ed17a77904ed64c67bf07285",
    "rasa.shared.core.trackers.DialogueStateTracker.travel_back_in_time":
        "09d16f28f007492f653b504cf2b6064dc453444c524799378609a85b04efd632",
    "rasa.shared.core.trackers.DialogueStateTracker.init_copy":
        "429fcd2243b9e0e1a6e8ffc3057a4f2fb4ecbb677055c644129bc65b6cd32b75",
    "rasa.shared.core.trackers.DialogueStateTracker.__init__":
        "8f39eb22462aa62b140d9da1f6db986cbc76383d8f7cc4e3dc7664fa7d84cb2d",
    "rasa.shared.core.trackers.DialogueStateTracker.update":
        "b55e6b1c724fa6e916399f81ea51dd5600ad6702f0b172923a83ca84bc23c668",
}

UPSTREAM: Callable[[DialogueStateTracker], DialogueStateTracker] = DialogueStateTracker.__dict__.get(
    "_upstream_copy", DialogueStateTracker.copy
)
REPLAY = "_replay_for_copies"


def starts_with_the_same(events: Sequence[Event], prefix: Sequence[Event]) -> bool:
    """Whether `events` begin with the very objects of `prefix` (equal copies do not count: a
    copy must hold the tracker's own events, as rasa's does)."""
    return len(events) >= len(prefix) and all(a is b for a, b in zip(events, prefix))


def replayed(tracker: DialogueStateTracker) -> Optional[DialogueStateTracker]:
    """The tracker's private replay, brought up to date with its events (None when the tracker
    keeps a bounded history, whose replay would start from a cut conversation)."""
    if tracker._max_event_history is not None or type(tracker) is not DialogueStateTracker:
        return None
    replay = tracker.__dict__.get(REPLAY)
    if replay is None or not starts_with_the_same(tracker.events, replay.events):
        replay = tracker.init_copy()
        tracker.__dict__[REPLAY] = replay
    for event in itertools.islice(tracker.events, len(replay.events), None):
        replay.update(event)
    return replay


def _own(message: Event, events: Deque[Event], empty: Callable[[], Event]) -> Event:
    """The latest message as rasa's copy has it: the event itself (copies share events), or,
    when it is the placeholder a reset leaves, a new placeholder of the copy's own."""
    for event in reversed(events):
        if event is message:
            return message
    return empty()


def duplicate(replay: DialogueStateTracker) -> DialogueStateTracker:
    """A new tracker in exactly the replay's state, sharing nothing that changes in place."""
    twin = DialogueStateTracker.__new__(DialogueStateTracker)
    state = dict(replay.__dict__)
    state.pop(REPLAY, None)
    state["events"] = deque(replay.events, replay.events.maxlen)
    state["slots"] = replay.slots.__class__(
        (name, copy_module.copy(slot)) for name, slot in replay.slots.items())
    if isinstance(replay.latest_action, dict):
        state["latest_action"] = dict(replay.latest_action)
    if replay.active_loop is not None:
        state["active_loop"] = copy_module.copy(replay.active_loop)
    state["latest_message"] = _own(replay.latest_message, replay.events, UserUttered.empty)
    state["latest_bot_utterance"] = _own(replay.latest_bot_utterance, replay.events, BotUttered.empty)
    twin.__dict__.update(state)
    return twin


def copy(self: DialogueStateTracker) -> DialogueStateTracker:
    """Drop-in for `DialogueStateTracker.copy`: rasa's replay, kept instead of redone."""
    replay = replayed(self)
    if replay is None:
        return UPSTREAM(self)
    return duplicate(replay)


def apply() -> None:
    """Install the patch (idempotent)."""
    DialogueStateTracker._upstream_copy = UPSTREAM  # type: ignore[attr-defined]
    DialogueStateTracker.copy = copy  # type: ignore[assignment]
