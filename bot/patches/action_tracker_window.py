"""Send the action server the events its actions read, not the whole conversation.

Why: rasa 3.6's `RemoteAction._action_call_format` serialises every event of the conversation
(`tracker.current_state(EventVerbosity.ALL)`) for each custom-action call, and the action server
parses them all again. The cost grows with the length of the conversation: `iterencode` was the
largest own-time entry of the Rasa server in 100-turn conversations (bench/README.md).

What our actions read from `tracker.events` (actions/tracker_state.py, rasa_sdk's forms):
- the user messages of the current session, oldest first: the profile is folded from their
  entities and intent names, so an earlier message is sent as just those (no text, no intent
  ranking: a 100-turn conversation's request is then about a tenth of the size);
- the events after the latest user message (rasa_sdk's `slots_to_validate` reads the trailing
  `slot` events of a form turn; `get_latest_input_channel` reads the latest user event).
Everything else (slots, latest message, active loop, latest action, followup action, paused) is
sent as before, outside the event list. Bot utterances, earlier action and slot events, and user
messages of earlier sessions are no longer sent: an action that needs them must not be added
without changing this module.

A conversation without a `session_started` event keeps all of its user messages.

Targets rasa 3.6.21. tests/unit/test_patches.py fails when the replaced function changes, and
checks that every other key of the request is what rasa sends.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Text

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

UPSTREAM_SOURCES = {
    "rasa.core.actions.action.RemoteAction._action_call_format":
        "428795b944f22edba142d278ec47a30098975b01463ba337ec447dade52a0492",
}

UPSTREAM: Callable[[RemoteAction, DialogueStateTracker, Domain], Dict[Text, Any]] = (
    RemoteAction.__dict__.get("_upstream_action_call_format", RemoteAction._action_call_format)
)


def events_for_actions(events: List[Event]) -> List[Event]:
    """The current session's user messages and everything after the latest user message."""
    start = 0
    last_user = None
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if last_user is None and type(event) is UserUttered:
            last_user = index
        if type(event) is SessionStarted:
            start = index
            break
    if last_user is None:
        return list(events[start:])
    window: List[Event] = [
        event for event in events[start:last_user]
        if type(event) is UserUttered or type(event) is SessionStarted
    ]
    window.extend(events[last_user:])
    return window


def _as_earlier_turn(event: UserUttered) -> Dict[Text, Any]:
    """An earlier user message as the actions read it: its intent name and entities (what
    `event.as_dict()` holds under those keys, without building the rest)."""
    parse_data = event.parse_data or {}
    return {
        "event": event.type_name,
        "timestamp": event.timestamp,
        "input_channel": getattr(event, "input_channel", None),
        "parse_data": {
            "intent": {"name": (parse_data.get("intent") or {}).get("name")},
            "entities": parse_data.get("entities") or [],
        },
    }


def serialise(events: List[Event]) -> List[Dict[Text, Any]]:
    """The window as JSON-ready dicts, earlier user messages reduced to what actions read."""
    latest_user = max((i for i, event in enumerate(events) if type(event) is UserUttered), default=-1)
    return [
        _as_earlier_turn(event) if type(event) is UserUttered and i != latest_user else event.as_dict()
        for i, event in enumerate(events)
    ]


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> Dict[Text, Any]:
    """Drop-in for `RemoteAction._action_call_format` with the event window above."""
    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = serialise(events_for_actions(list(tracker.events)))
    result = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state,
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    RemoteAction._upstream_action_call_format = UPSTREAM  # type: ignore[attr-defined]
    RemoteAction._action_call_format = action_call_format  # type: ignore[assignment]
