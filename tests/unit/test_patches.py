"""The patches in bot/patches: same behaviour as the Rasa code they replace, and a tripwire when
that upstream code changes (then re-check the patch, or delete it if upstream fixed the cost)."""
from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
from typing import Any, Dict

import jsonschema
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import patches
from bot.patches import action_response_schema

VALID_RESPONSES = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "goal", "value": "relaxation"}],
     "responses": [{"text": "Hello", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
]
INVALID_RESPONSES = [
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},
    {"events": [{"no_event_key": 1}]},
    {"responses": [1, 2]},
    {"events": [{"event": "slot", "name": 7}]},
]


@pytest.fixture(scope="module", autouse=True)
def applied() -> None:
    patches.apply()


def upstream_source_hash(qualified_name: str) -> str:
    module_name, _, attribute_path = qualified_name.partition(".")
    obj: Any = importlib.import_module(module_name)
    for part in attribute_path.split("."):
        obj = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)
    if qualified_name.endswith("_validate_action_result"):
        obj = action_response_schema.UPSTREAM
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()


@pytest.mark.parametrize("qualified_name", sorted(action_response_schema.UPSTREAM_SOURCES))
def test_the_upstream_code_the_patch_replaces_is_unchanged(qualified_name: str) -> None:
    assert upstream_source_hash(qualified_name) == action_response_schema.UPSTREAM_SOURCES[qualified_name], (
        f"{qualified_name} changed upstream: re-check bot/patches/action_response_schema.py "
        "(or remove it if the upgrade fixed the per-call schema check), then record the new hash"
    )


def test_apply_installs_the_patch_once() -> None:
    patches.apply()
    patches.apply()
    assert RemoteAction._validate_action_result is action_response_schema.validate_action_result
    assert action_response_schema.UPSTREAM is not action_response_schema.validate_action_result


@pytest.mark.parametrize("response", VALID_RESPONSES)
def test_a_valid_action_server_response_passes(response: Dict[str, Any]) -> None:
    action = RemoteAction("action_advise", None)
    assert action._validate_action_result(response) is True
    assert action_response_schema.UPSTREAM(action, response) is True


@pytest.mark.parametrize("response", INVALID_RESPONSES)
def test_an_invalid_response_is_rejected_with_the_error_rasa_raises(response: Dict[str, Any]) -> None:
    action = RemoteAction("action_advise", None)
    with pytest.raises(ValidationError) as upstream:
        action_response_schema.UPSTREAM(action, response)
    with pytest.raises(ValidationError) as patched:
        action._validate_action_result(response)
    assert patched.value.message == upstream.value.message
    assert list(patched.value.path) == list(upstream.value.path)
    assert patched.value.validator == upstream.value.validator
    assert "Failed to validate Action server response" in patched.value.message


class FakeActionServer(EndpointConfig):
    """An action endpoint that answers every call with a fixed body, no network."""

    def __init__(self, body: Dict[str, Any]) -> None:
        super().__init__("http://action-server.invalid/webhook")
        self.body = body

    async def request(self, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        return dict(self.body)


def run_remote_action(body: Dict[str, Any]) -> list:
    action = RemoteAction("action_advise", FakeActionServer(body))
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}),
                                  DialogueStateTracker("patch-test", []), Domain.empty()))


def test_a_running_custom_action_still_rejects_a_malformed_response() -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        run_remote_action({"events": [{"event": "slot"}]})


def test_a_running_custom_action_accepts_a_well_formed_response() -> None:
    events = run_remote_action({"events": [{"event": "slot", "name": "goal", "value": "relaxation"}],
                                "responses": [{"text": "Hello"}]})
    assert [e.as_dict()["event"] for e in events] == ["bot", "slot"]


def test_the_validator_is_built_once() -> None:
    action = RemoteAction("action_advise", None)
    action._validate_action_result({})
    built = action_response_schema._validators[RemoteAction]
    action._validate_action_result({"events": []})
    assert action_response_schema._validators[RemoteAction] is built
    assert isinstance(built, jsonschema.validators.validator_for(RemoteAction.action_response_format_spec()))
