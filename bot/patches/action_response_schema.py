"""Validate action-server responses with a JSON Schema validator built once, not once per call.

Why: rasa 3.6's `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)`
after every custom action. `jsonschema.validate` (4.17) first checks the *schema* against the
Draft 2020-12 metaschema and builds a new validator each time: 41.7 ms per call on our 2-core
machine, 70 % of the Rasa server's CPU under the bench's load (py-spy; see bench/README.md).
The schema is a constant (`RemoteAction.action_response_format_spec()`), so this patch checks it
and builds its validator once, then validates each response with that validator (0.64 ms).
Behaviour is unchanged: the same validator class, the same `best_match` error, the same message
suffix, the same `ValidationError` raised (what `jsonschema.validate` does after its schema check).

A response is first checked on a fast path: the schema's `oneOf` over 23 event types (each event
tried against every type: 1.95 ms for a six-event response even with the validator built once,
0.41 ms on the fast path) is replaced by the one branch whose `event` constant matches the event. The branches differ
in that constant, so no other branch can match and the event satisfies the `oneOf` exactly when
it satisfies its own branch: a response the fast path accepts is one the full schema accepts.
Anything it does not accept goes through the full validation, which raises rasa's error (or
accepts it). The fast path is only built when every branch has its own constant.

Targets rasa 3.6.21 with jsonschema 4.17.3. tests/unit/test_patches.py fails when the source of
either replaced function changes, so an upgrade makes someone look at this module again (newer
jsonschema releases cache the schema check; rasa may fix this upstream; then delete this patch).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Text

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

# sha256 of `inspect.getsource` of the functions whose behaviour this patch reproduces.
UPSTREAM_SOURCES = {
    "rasa.core.actions.action.RemoteAction._validate_action_result":
        "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
    "jsonschema.validate": "dc1e7e6a0aee8a4e5f3fbf9ace69e843f0ee3732fa4ee270da51f731037b2a74",
}

UPSTREAM: Callable[[RemoteAction, Dict[Text, Any]], bool] = RemoteAction.__dict__.get(
    "_upstream_validate_action_result", RemoteAction._validate_action_result
)
_validators: Dict[type, Validator] = {}
_fast_paths: Dict[type, Optional["FastPath"]] = {}


class FastPath(NamedTuple):
    """The response schema without the events' `oneOf`, and one validator per event type."""

    response: Validator
    events: Dict[str, Validator]

    def accepts(self, result: Any) -> bool:
        if not self.response.is_valid(result):
            return False
        for event in result.get("events") or ():
            kind = event.get("event")
            validator = self.events.get(kind) if isinstance(kind, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True


def _fast_path(action_class: type) -> Optional[FastPath]:
    """The fast path for this class's schema, or None when its event branches are not told
    apart by a constant `event` (then every response gets the full validation)."""
    if action_class in _fast_paths:
        return _fast_paths[action_class]
    schema = action_class.action_response_format_spec()
    fast: Optional[FastPath] = None
    try:
        items = schema["properties"]["events"]["items"]
        branches = items["oneOf"]
        kinds = [branch["properties"]["event"]["const"] for branch in branches]
    except (KeyError, TypeError):
        kinds, branches, items = [], [], {}
    if kinds and len(set(kinds)) == len(kinds) and all(isinstance(k, str) for k in kinds):
        cls = validator_for(schema)
        common = {key: value for key, value in items.items() if key != "oneOf"}
        events_schema = {**schema["properties"]["events"], "items": common}
        response = cls({**schema, "properties": {**schema["properties"], "events": events_schema}})
        fast = FastPath(response, {kind: cls({**common, "allOf": [branch]}) for kind, branch in zip(kinds, branches)})
    _fast_paths[action_class] = fast
    return fast


def _validator(action_class: type) -> Validator:
    """The response schema checked once and its validator, per RemoteAction class."""
    validator = _validators.get(action_class)
    if validator is None:
        schema = action_class.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[action_class] = cls(schema)
    return validator


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Drop-in for `RemoteAction._validate_action_result`: rejects a malformed response exactly
    as rasa does (a `jsonschema.ValidationError` with rasa's hint appended)."""
    fast = _fast_path(type(self))
    if fast is not None and isinstance(result, dict) and fast.accepts(result):
        return True
    error = best_match(_validator(type(self)).iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> None:
    """Install the patch (idempotent); the original stays reachable as `UPSTREAM`."""
    RemoteAction._upstream_validate_action_result = UPSTREAM  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[assignment]
