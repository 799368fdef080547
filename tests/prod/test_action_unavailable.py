"""bot/patches/action_unavailable.py: an unreachable action server gets a polite apology with
the spa's contact details instead of silence; other failures behave as in rasa."""
from __future__ import annotations

import asyncio
import hashlib
import inspect
from typing import Any, List

import aiohttp
import pytest
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.patches import action_unavailable


@pytest.fixture(scope="module", autouse=True)
def applied() -> None:
    action_unavailable.apply()


def test_upstream_run_unchanged() -> None:
    """Fails when rasa's RemoteAction.run changes: re-check which errors it raises, then update."""
    for name, digest in action_unavailable.UPSTREAM_SOURCES.items():
        source = inspect.getsource(action_unavailable.UPSTREAM)
        assert name.endswith(".run")
        assert hashlib.sha256(source.encode()).hexdigest() == digest


def test_apply_is_idempotent() -> None:
    action_unavailable.apply()
    action_unavailable.apply()
    assert RemoteAction.run is action_unavailable.run
    assert RemoteAction._upstream_run is action_unavailable.UPSTREAM


def run_action(url: str) -> List[Any]:
    action = RemoteAction("action_answer_topic", EndpointConfig(url))
    domain = Domain.empty()
    tracker = DialogueStateTracker("someone", [])
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker, domain))


def test_refused_connection_gets_the_apology_with_contact_details() -> None:
    events = run_action("http://127.0.0.1:9/webhook")  # discard port: nothing listens
    assert len(events) == 1 and isinstance(events[0], BotUttered)
    text = events[0].text
    assert "having trouble" in text and "+1 555 0100" in text and "hello@harbourlight.example" in text
    assert events[0].metadata == {"action_server_unavailable": True}


@pytest.mark.parametrize("error, outage", [
    (aiohttp.ClientConnectionError(), True),
    (asyncio.TimeoutError(), True),
    (RasaException("Failed to execute custom action 'x'. Couldn't connect to the server"), True),
    (ActionExecutionRejection("action_x"), False),
    (RasaException("something else"), False),
    (ValueError("bug"), False),
])
def test_only_outages_are_caught(error: BaseException, outage: bool) -> None:
    assert action_unavailable.is_unavailable(error) is outage


def test_server_error_status_is_an_outage_but_not_a_client_error() -> None:
    def wrapped(status: int) -> RasaException:
        try:
            raise RasaException("Failed to execute custom action 'x'") from aiohttp.ClientResponseError(
                None, (), status=status)  # type: ignore[arg-type]
        except RasaException as error:
            return error
    assert action_unavailable.is_unavailable(wrapped(502))
    assert not action_unavailable.is_unavailable(wrapped(404))


def test_bad_gateway_from_the_balancer_is_an_outage() -> None:
    """What rasa raises when nginx has no action server left: its own ClientResponseError."""
    from rasa.utils.endpoints import ClientResponseError

    try:
        raise RasaException("Failed to execute custom action 'x'") from ClientResponseError(502, "Bad Gateway", "")
    except RasaException as error:
        assert action_unavailable.is_unavailable(error)


def test_someone_in_crisis_gets_the_crisis_reply_even_with_no_action_server() -> None:
    from rasa.shared.core.events import UserUttered

    message = UserUttered("i want to end my life", intent={"name": "report_crisis", "confidence": 1.0},
                          entities=[{"entity": "crisis", "value": "suicide", "start": 10, "end": 21}])
    tracker = DialogueStateTracker("someone in crisis", [])
    tracker.update(message)
    action = RemoteAction("action_crisis", EndpointConfig("http://127.0.0.1:9/webhook"))
    events = asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator({}), tracker,
                                    Domain.empty()))
    assert len(events) == 1 and "988" in events[0].text and "I'm really glad you told me" in events[0].text
    assert "having trouble" not in events[0].text
