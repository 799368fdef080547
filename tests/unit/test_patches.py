"""The patches in bot/patches: same behaviour as the Rasa code they replace, and a tripwire when
that upstream code changes (then re-check the patch, or delete it if upstream fixed the cost)."""
from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys
from pathlib import Path
import hashlib
import importlib
import inspect
import json
import logging
import time
from typing import Any, Dict, List, Optional

import jsonschema
import sqlalchemy
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.core.domain import Domain
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered,
                                     deserialise_events)
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.common import all_subclasses
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import patches
from bot.patches import (action_response_schema, action_tracker_window, applied_events_cache, cache_bounds,
                         endpoint_session_reuse, event_type_lookup, graph_run_order, incremental_tracker_states,
                         no_memory_fallback, nlu_token_cap, rule_policy_debug_states, rule_policy_feature_key,
                         rule_policy_state_window, skip_jax, sqlite_tracker_journal, tracker_copy, tracker_event_cache)

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


PATCH_MODULES = [action_response_schema, action_tracker_window, applied_events_cache, endpoint_session_reuse,
                 event_type_lookup, incremental_tracker_states, no_memory_fallback, nlu_token_cap, rule_policy_debug_states,
                 rule_policy_feature_key, rule_policy_state_window, sqlite_tracker_journal, tracker_copy,
                 tracker_event_cache]
UPSTREAM_FUNCTIONS = [(module, name) for module in PATCH_MODULES for name in sorted(module.UPSTREAM_SOURCES)]


def upstream_source(module: Any, qualified_name: str) -> str:
    """Source of the upstream function as installed (the saved original where it is patched)."""
    replaced = qualified_name.rsplit(".", 1)[-1]
    for name in dir(module):
        saved = getattr(module, name)
        if name.startswith("UPSTREAM") and callable(saved) and saved.__name__ == replaced:
            return inspect.getsource(saved)
    module_name, _, attribute_path = qualified_name.partition(".")
    obj: Any = importlib.import_module(module_name)
    path = attribute_path.split(".")
    while path and not hasattr(obj, path[0]):  # walk down a dotted module path first
        module_name, path = f"{module_name}.{path[0]}", path[1:]
        obj = importlib.import_module(module_name)
    for part in path:
        obj = getattr(obj, part)
    return inspect.getsource(obj)


def test_every_patch_module_here_is_applied() -> None:
    assert {module.__name__ for module in PATCH_MODULES} <= set(patches.PATCHES)


@pytest.mark.parametrize("module, qualified_name", UPSTREAM_FUNCTIONS,
                         ids=[name for _, name in UPSTREAM_FUNCTIONS])
def test_the_upstream_code_a_patch_replaces_is_unchanged(module: Any, qualified_name: str) -> None:
    digest = hashlib.sha256(upstream_source(module, qualified_name).encode()).hexdigest()
    assert digest == module.UPSTREAM_SOURCES[qualified_name], (
        f"{qualified_name} changed upstream: re-check {module.__name__} (or delete it if the upgrade "
        "made it unnecessary), then record the new hash"
    )


def test_apply_installs_each_patch_once() -> None:
    patches.apply()
    patches.apply()
    assert RemoteAction._validate_action_result is action_response_schema.validate_action_result
    assert action_response_schema.UPSTREAM is not action_response_schema.validate_action_result
    assert Event.resolve_by_type is event_type_lookup.resolve_by_type
    assert event_type_lookup.UPSTREAM is not event_type_lookup.resolve_by_type
    assert Tokenizer.process is nlu_token_cap.process
    assert nlu_token_cap.UPSTREAM is not nlu_token_cap.process
    assert SQLTrackerStore.save is tracker_event_cache.save
    assert tracker_event_cache.UPSTREAM is not tracker_event_cache.save
    assert tracker_event_cache.UPSTREAM_RETRIEVE is not tracker_event_cache._retrieve
    assert RemoteAction._action_call_format is action_tracker_window.action_call_format
    assert Domain.states_for_tracker_history is incremental_tracker_states.states_for_tracker_history
    assert DialogueStateTracker.applied_events is applied_events_cache.applied_events
    from rasa.engine.runner.dask import DaskGraphRunner
    assert DaskGraphRunner.run is graph_run_order.run
    assert action_tracker_window.UPSTREAM is not action_tracker_window.action_call_format
    from rasa.core.policies.policy import Policy
    from rasa.core.policies.rule_policy import RulePolicy
    assert RulePolicy._prediction_states is rule_policy_state_window.prediction_states
    assert Policy._prediction_states is rule_policy_state_window.UPSTREAM


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


def rasa_events() -> List[Dict[str, Any]]:
    """Events as rasa serialises them, of the kinds the action server sends and more."""
    from rasa.shared.core.events import (ActionExecuted, ActiveLoop, AllSlotsReset, BotUttered,
                                         ConversationPaused, ConversationResumed, FollowupAction,
                                         ReminderScheduled, Restarted, SessionStarted, SlotSet,
                                         UserUttered)

    return [e.as_dict() for e in [
        UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "condition", "value": "fever",
                                                                 "start": 0, "end": 5}]),
        ActionExecuted("action_listen"), SlotSet("goal", "relaxation"), SlotSet("profile", {"a": [1]}),
        BotUttered("Hello", {"buttons": [{"title": "Yes", "payload": "/affirm"}]}), ActiveLoop("booking_form"),
        ActiveLoop(None), FollowupAction("action_listen"), Restarted(), SessionStarted(), AllSlotsReset(),
        ConversationPaused(), ConversationResumed(), ReminderScheduled("greet", datetime.datetime(2030, 1, 1)),
    ]]


ODD_RESPONSES = [
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": ["slot"]}]},
    {"events": [{"event": 3}]},
    {"events": [{"event": "slot", "name": "goal"}, "not an object"]},
    {"events": None},
    {"events": [{"event": "user", "parse_data": {"entities": [{"entity": "x"}]}}]},
    {"events": [{"event": "bot", "text": 7}]},
    {"responses": "hello"},
]


def test_the_fast_path_is_built_for_rasas_schema() -> None:
    fast = action_response_schema._fast_path(RemoteAction)
    assert fast is not None and "slot" in fast.events and "user" in fast.events


@pytest.mark.parametrize("event", rasa_events(), ids=lambda e: e["event"])
def test_events_rasa_writes_pass_the_fast_path(event: Dict[str, Any]) -> None:
    action = RemoteAction("action_advise", None)
    assert action_response_schema.UPSTREAM(action, {"events": [event]}) is True
    assert action_response_schema._fast_path(RemoteAction).accepts({"events": [event], "responses": []})


@pytest.mark.parametrize("response", VALID_RESPONSES + INVALID_RESPONSES + ODD_RESPONSES)
def test_the_fast_path_accepts_only_what_the_full_schema_accepts(response: Dict[str, Any]) -> None:
    action = RemoteAction("action_advise", None)
    try:
        upstream = action_response_schema.UPSTREAM(action, response)
    except ValidationError:
        upstream = False
    assert action_response_schema._fast_path(RemoteAction).accepts(response) == upstream


def test_the_validator_is_built_once() -> None:
    action = RemoteAction("action_advise", None)
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})
    built = action_response_schema._validators[RemoteAction]
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": [{"event": "slot"}]})
    assert action_response_schema._validators[RemoteAction] is built
    assert isinstance(built, jsonschema.validators.validator_for(RemoteAction.action_response_format_spec()))


# event_type_lookup

EVENT_TYPE_NAMES = sorted({cls.type_name for cls in all_subclasses(Event)})


@pytest.mark.parametrize("type_name", EVENT_TYPE_NAMES)
def test_every_event_type_resolves_to_the_class_rasa_finds(type_name: str) -> None:
    assert Event.resolve_by_type(type_name) is event_type_lookup.UPSTREAM(type_name)
    assert Event.resolve_by_type(type_name) is event_type_lookup.UPSTREAM(type_name)  # from the dict


def test_unknown_event_types_behave_as_upstream() -> None:
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", default=Event) is Event
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("topic", default=Event) is None


def test_stored_events_deserialise_the_same() -> None:
    stored = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "session_started", "timestamp": 2.0},
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1.0}},
         "timestamp": 3.0},
        {"event": "slot", "name": "screened", "value": True, "timestamp": 4.0},
        {"event": "bot", "text": "Hello!", "timestamp": 5.0},
    ]
    events = deserialise_events(stored)
    assert [type(e).__name__ for e in events] == [
        "ActionExecuted", "SessionStarted", "UserUttered", "SlotSet", "BotUttered"]
    assert [e.as_dict()["event"] for e in events] == [e["event"] for e in stored]


# nlu_token_cap

def tokenizer() -> WhitespaceTokenizer:
    return WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())


def test_a_huge_message_keeps_only_the_first_tokens() -> None:
    message = Message({TEXT: " ".join(f"word{i}" for i in range(20_000))})
    tokenizer().process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert len(tokens) == nlu_token_cap.MAX_TOKENS
    assert [t.text for t in tokens[:2]] == ["word0", "word1"]
    assert message.get(TEXT).endswith("word19999")  # the text itself is untouched


def test_no_message_a_channel_accepts_is_cut() -> None:
    densest = "a " * 500  # 1,000 characters: the channels' cap
    message = Message({TEXT: densest.strip()})
    tokenizer().process([message])
    assert len(message.get(TOKENS_NAMES[TEXT])) == 500 <= nlu_token_cap.MAX_TOKENS


def test_training_data_is_not_cut() -> None:
    example = Message({TEXT: " ".join(["word"] * 800), "intent": "describe_problem"})
    tokenizer().process_training_data(TrainingData([example]))
    assert len(example.get(TOKENS_NAMES[TEXT])) == 800


# tracker_event_cache

def sql_store(path: Any) -> SQLTrackerStore:
    domain = Domain.from_dict({"slots": {"screened": {"type": "bool", "initial_value": False,
                                                     "mappings": [{"type": "custom"}]}}})
    return SQLTrackerStore(domain, dialect="sqlite", db=str(path))


def turn(tracker: DialogueStateTracker, text: str, at: float) -> None:
    """One turn's events, as Rasa adds them (timestamps increasing)."""
    tracker.update(UserUttered(text, {"name": "greet", "confidence": 0.9},
                               [{"entity": "body_part", "value": "back", "start": 0, "end": 4}],
                               timestamp=at))
    tracker.update(ActionExecuted("action_advise", timestamp=at + 0.1))
    tracker.update(SlotSet("screened", True, timestamp=at + 0.2))
    tracker.update(BotUttered("Hello", {"buttons": [{"title": "Yes", "payload": "/affirm"}]}, timestamp=at + 0.3))
    tracker.update(ActionExecuted("action_listen", timestamp=at + 0.4))


def as_stored(tracker: Optional[DialogueStateTracker]) -> Any:
    return None if tracker is None else ([e.as_dict() for e in tracker.events], tracker.current_slot_values())


def full_state(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """Every attribute of a tracker, with events and messages by content."""
    state = {key: value for key, value in vars(tracker).items() if key != tracker_copy.REPLAY}
    state["events"] = [e.as_dict() for e in tracker.events]
    state["slots"] = {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()}
    for key in ("latest_message", "latest_bot_utterance"):  # a reset's placeholders: their own times
        state[key] = {k: v for k, v in state[key].as_dict().items() if k != "timestamp"}
    return state


async def upstream_view(store: SQLTrackerStore, sender_id: str) -> Any:
    return as_stored(await tracker_event_cache.UPSTREAM_RETRIEVE(store, sender_id, False))


def test_cached_conversations_read_back_exactly_as_rasa_reads_them(tmp_path: Any, monkeypatch: Any) -> None:
    store = sql_store(tmp_path / "tracker.db")
    upstream_reads = []
    original = tracker_event_cache.UPSTREAM_RETRIEVE

    async def counting(*args: Any) -> Any:
        upstream_reads.append(args[1])
        return await original(*args)

    async def conversation() -> None:
        tracker = await store.get_or_create_tracker("visitor")
        tracker.update(ActionExecuted("action_session_start", timestamp=1.0))
        tracker.update(SessionStarted(timestamp=1.1))
        tracker.update(ActionExecuted("action_listen", timestamp=1.2))
        await store.save(tracker)
        for number in range(6):
            monkeypatch.setattr(tracker_event_cache, "UPSTREAM_RETRIEVE", counting)
            tracker = await store.retrieve("visitor")
            monkeypatch.setattr(tracker_event_cache, "UPSTREAM_RETRIEVE", original)
            assert as_stored(tracker) == await upstream_view(store, "visitor")
            upstream = await tracker_event_cache.UPSTREAM_RETRIEVE(store, "visitor", False)
            assert full_state(tracker) == full_state(upstream)
            assert full_state(tracker.copy()) == full_state(tracker_copy.UPSTREAM(upstream))
            turn(tracker, f"message {number}", at=10.0 + number)
            await store.save(tracker)
        assert as_stored(await store.retrieve("visitor")) == await upstream_view(store, "visitor")

    asyncio.run(conversation())
    assert len(upstream_reads) == 1  # the first read after creation; every later turn from memory


def test_the_cached_path_builds_its_statements_once_per_store(tmp_path: Any) -> None:
    store = sql_store(tmp_path / "tracker.db")

    async def two_conversations() -> None:
        for sender in ("first", "second"):
            tracker = await store.get_or_create_tracker(sender)
            for number in range(3):
                turn(tracker, f"message {number}", at=10.0 + number)
                await store.save(tracker)
                tracker = await store.retrieve(sender)
            assert len(tracker.events) == 16  # the new tracker's action_listen, then 3 turns of 5

    asyncio.run(two_conversations())
    built = tracker_event_cache._statements(store)
    assert tracker_event_cache._statements(store) is built
    assert tracker_event_cache._statements(sql_store(tmp_path / "other.db")) is not built


def test_a_deleted_conversation_is_not_served_from_memory(tmp_path: Any) -> None:
    store = sql_store(tmp_path / "tracker.db")

    async def conversation() -> None:
        tracker = await store.get_or_create_tracker("visitor")
        turn(tracker, "hi", at=1.0)
        await store.save(tracker)
        tracker = await store.retrieve("visitor")
        turn(tracker, "again", at=2.0)
        await store.save(tracker)
        with store.session_scope() as session:  # "forget me", or the retention purge
            session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == "visitor").delete()
            session.commit()
        assert await store.retrieve("visitor") is None

    asyncio.run(conversation())


def test_a_purge_during_a_turn_falls_back_to_rasas_count(tmp_path: Any) -> None:
    store = sql_store(tmp_path / "tracker.db")

    async def conversation() -> None:
        tracker = await store.get_or_create_tracker("visitor")
        turn(tracker, "old", at=1.0)
        await store.save(tracker)
        await store.save(await store.retrieve("visitor"))
        tracker = await store.retrieve("visitor")  # from memory
        with store.session_scope() as session:  # the retention job, while the turn runs
            session.query(store.SQLEvent).filter(store.SQLEvent.timestamp < 1.5).delete()
            session.commit()
        turn(tracker, "new", at=time.time())
        await store.save(tracker)
        assert as_stored(await store.retrieve("visitor")) == await upstream_view(store, "visitor")

    asyncio.run(conversation())


def test_writes_by_another_process_are_seen(tmp_path: Any) -> None:
    ours, other = sql_store(tmp_path / "tracker.db"), sql_store(tmp_path / "tracker.db")

    async def conversation() -> None:
        tracker = await ours.get_or_create_tracker("visitor")
        turn(tracker, "hi", at=1.0)
        await ours.save(tracker)
        await ours.save(await ours.retrieve("visitor"))  # now cached in `ours`
        elsewhere = await other.retrieve("visitor")
        turn(elsewhere, "from another replica", at=5.0)
        await other.save(elsewhere)
        assert as_stored(await ours.retrieve("visitor")) == await upstream_view(ours, "visitor")
        assert (await ours.retrieve("visitor")).latest_message.text == "from another replica"

    asyncio.run(conversation())


def test_two_replicas_taking_turns_read_only_each_others_new_events(tmp_path: Any, monkeypatch: Any) -> None:
    """A balancer sends a conversation's turns to alternate replicas: each one reads only the
    turn the other added, and hands out exactly the tracker Rasa would have read."""
    first, second = sql_store(tmp_path / "tracker.db"), sql_store(tmp_path / "tracker.db")
    upstream_reads: List[int] = []
    original = tracker_event_cache.UPSTREAM_RETRIEVE

    async def counting(*args: Any) -> Any:
        upstream_reads.append(id(args[0]))
        return await original(*args)

    async def conversation() -> None:
        tracker = await first.get_or_create_tracker("visitor")
        turn(tracker, "hi", at=1.0)
        await first.save(tracker)
        for number in range(8):
            store = (first, second)[number % 2]
            monkeypatch.setattr(tracker_event_cache, "UPSTREAM_RETRIEVE", counting)
            tracker = await store.retrieve("visitor")
            monkeypatch.setattr(tracker_event_cache, "UPSTREAM_RETRIEVE", original)
            upstream = await original(store, "visitor", False)
            assert full_state(tracker) == full_state(upstream)
            assert full_state(tracker.copy()) == full_state(tracker_copy.UPSTREAM(upstream))
            turn(tracker, f"message {number}", at=10.0 + number)
            await store.save(tracker)
        for store in (first, second):
            assert as_stored(await store.retrieve("visitor")) == await upstream_view(store, "visitor")

    asyncio.run(conversation())
    assert upstream_reads == [id(first), id(second)]  # each one's first read; later turns caught up


def test_a_new_session_reads_only_its_own_events(tmp_path: Any) -> None:
    store = sql_store(tmp_path / "tracker.db")

    async def conversation() -> None:
        tracker = await store.get_or_create_tracker("visitor")
        turn(tracker, "hi", at=1.0)
        await store.save(tracker)
        tracker = await store.retrieve("visitor")
        turn(tracker, "again", at=2.0)
        await store.save(tracker)
        tracker = await store.retrieve("visitor")  # from memory
        later = time.time() + 86400
        tracker.update(ActionExecuted("action_session_start", timestamp=later))
        tracker.update(SessionStarted(timestamp=later + 0.1))
        tracker.update(ActionExecuted("action_listen", timestamp=later + 0.2))
        turn(tracker, "back after a day", at=later + 1)
        await store.save(tracker)
        view = as_stored(await store.retrieve("visitor"))
        assert view == await upstream_view(store, "visitor")
        assert [e["event"] for e in view[0]][:2] == ["session_started", "action"]

    asyncio.run(conversation())


# sqlite_tracker_journal

def test_the_sqlite_tracker_store_uses_a_write_ahead_log(tmp_path: Any) -> None:
    store = sql_store(tmp_path / "tracker.db")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    asyncio.run(store.save(DialogueStateTracker("visitor", [])))
    assert SQLTrackerStore.__init__ is sqlite_tracker_journal.__init__


def test_sqlite_connections_are_kept_and_usable_from_another_thread(tmp_path: Any) -> None:
    import threading

    store = sql_store(tmp_path / "tracker.db")
    assert isinstance(store.engine.pool, sqlalchemy.pool.QueuePool)
    counted = []

    def count_events() -> None:  # what the retention job does from its worker thread
        with store.session_scope() as session:
            counted.append(session.query(store.SQLEvent).count())

    worker = threading.Thread(target=count_events)
    worker.start()
    worker.join()
    count_events()
    assert counted == [0, 0]


# skip_jax

def test_tensorflow_still_guards_its_jax_import() -> None:
    import importlib.util

    spec = importlib.util.find_spec("tensorflow")
    util = Path(spec.origin).parent / "lite" / "python" / "util.py"
    assert skip_jax.GUARDED_IMPORT in util.read_text(), (
        f"{skip_jax.UPSTREAM_FILE} changed: re-check bot/patches/skip_jax.py")


def test_the_rasa_server_process_does_not_import_jax() -> None:
    code = ("import sys; from bot import patches; patches.apply(); import tensorflow, rasa.core.agent; "
            "from tensorflow.lite.python import util; "
            "print(sys.modules.get('jax') is None and util._xla_computation is None)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip().splitlines()[-1] == "True", result.stderr[-2000:]


# The action server's view of the conversation (action_tracker_window).

def _user(text: str, intent: str, entities: List[Dict[str, Any]], at: float) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9},
                       entities, parse_data={"intent": {"name": intent, "confidence": 0.9},
                                             "entities": entities, "text": text},
                       timestamp=at, input_channel="web")


def long_conversation() -> DialogueStateTracker:
    """Two sessions; the second mentions a condition, an area, bot replies and slots between."""
    domain = Domain.from_yaml("""
version: "3.1"
intents: [greet, describe_need]
entities: [condition, body_part]
slots:
  screened: {type: bool, mappings: [{type: custom}]}
  requested_slot: {type: any, mappings: [{type: custom}]}
""")
    tracker = DialogueStateTracker("someone", domain.slots)
    events: List[Event] = [ActionExecuted("action_session_start", timestamp=1), SessionStarted(timestamp=1),
                           ActionExecuted("action_listen", timestamp=1),
                           _user("I have a fever", "describe_need", [{"entity": "condition", "value": "fever"}], 2),
                           ActionExecuted("action_advice", timestamp=3), BotUttered("Please wait", timestamp=3),
                           ActionExecuted("action_session_start", timestamp=10), SessionStarted(timestamp=10),
                           ActionExecuted("action_listen", timestamp=10)]
    at = 11.0
    for turn_number in range(30):
        entities = [{"entity": "body_part", "value": "neck"}] if turn_number == 3 else []
        if turn_number == 5:
            entities = [{"entity": "condition", "value": "pregnancy"}]
        events += [_user(f"message {turn_number}", "describe_need", entities, at),
                   ActionExecuted("action_advice", timestamp=at + 0.1), BotUttered("reply", timestamp=at + 0.1),
                   SlotSet("screened", True, timestamp=at + 0.1), ActionExecuted("action_listen", timestamp=at + 0.2)]
        at += 1
    events += [_user("last", "describe_need", [], at), SlotSet("requested_slot", "when", timestamp=at)]
    for event in events:
        tracker.update(event)
    return tracker


def test_actions_receive_the_sessions_user_messages_and_the_current_turn() -> None:
    tracker = long_conversation()
    domain = Domain.empty()
    action = RemoteAction("action_advice", EndpointConfig("http://localhost:5055/webhook"))
    upstream = action_tracker_window.UPSTREAM(action, tracker, domain)
    patched = action._action_call_format(tracker, domain)

    assert {k: v for k, v in patched.items() if k != "tracker"} == {k: v for k, v in upstream.items() if k != "tracker"}
    assert {k: v for k, v in patched["tracker"].items() if k != "events"} == \
        {k: v for k, v in upstream["tracker"].items() if k != "events"}
    sent = patched["tracker"]["events"]
    assert len(sent) < len(upstream["tracker"]["events"]) / 3
    users = [e for e in sent if e["event"] == "user"]
    assert len(users) == 31 and users[-1]["text"] == "last"
    assert all("text" not in e and "intent_ranking" not in e["parse_data"] for e in users[:-1])
    assert [e["parse_data"]["entities"] for e in users[:-1]] == \
        [e["parse_data"]["entities"] for e in upstream["tracker"]["events"] if e["event"] == "user"][1:-1]
    assert sent[0]["event"] == "session_started"
    assert sent[-2:] == upstream["tracker"]["events"][-2:]  # the trailing slot candidates of a form turn


def test_actions_rebuild_the_same_profile_and_channel_from_the_window() -> None:
    from rasa_sdk import Tracker

    from actions.tracker_state import profile_from

    tracker = long_conversation()
    action = RemoteAction("action_advice", EndpointConfig("http://localhost:5055/webhook"))
    upstream = Tracker.from_dict(action_tracker_window.UPSTREAM(action, tracker, Domain.empty())["tracker"])
    patched = Tracker.from_dict(action._action_call_format(tracker, Domain.empty())["tracker"])

    assert profile_from(patched) == profile_from(upstream)
    assert profile_from(patched).body_parts == ["neck"] and "pregnancy" in profile_from(patched).conditions
    assert "fever" not in profile_from(patched).conditions  # an earlier session's, as before
    assert patched.get_latest_input_channel() == upstream.get_latest_input_channel() == "web"
    assert patched.slots_to_validate() == upstream.slots_to_validate() == {"requested_slot": "when"}


def test_an_earlier_user_message_is_sent_as_its_serialised_intent_and_entities() -> None:
    def from_rasas_dict(event: UserUttered) -> Dict[str, Any]:
        serialised = event.as_dict()
        parse_data = serialised.get("parse_data") or {}
        return {"event": serialised["event"], "timestamp": serialised.get("timestamp"),
                "input_channel": serialised.get("input_channel"),
                "parse_data": {"intent": {"name": (parse_data.get("intent") or {}).get("name")},
                               "entities": parse_data.get("entities") or []}}

    users = [e for e in long_conversation().events if isinstance(e, UserUttered)]
    users += [UserUttered("no intent"), UserUttered(None, {"name": "greet"}),
              UserUttered("nlu", parse_data={"intent": None, "entities": None}, input_channel=None)]
    users += deserialise_events([e.as_dict() for e in users])  # as read back from the tracker store
    for event in users:
        assert action_tracker_window._as_earlier_turn(event) == from_rasas_dict(event)


# Dialogue states replayed incrementally (incremental_tracker_states).

FORM_DOMAIN = """
version: "3.1"
intents: [greet, book_session, inform, deny, describe_need]
entities: [condition, body_part]
slots:
  screened: {type: bool, influence_conversation: true, mappings: [{type: custom}]}
  pressure: {type: categorical, values: [light, firm], influence_conversation: true, mappings: [{type: custom}]}
  when: {type: text, influence_conversation: false, mappings: [{type: custom}]}
forms:
  booking_form: {required_slots: [when]}
actions: [action_advice, validate_booking_form]
"""


def scripted_events() -> List[Event]:
    """Turns with slots, a form that runs on its happy path, rewinds, a restart and a new session."""
    from rasa.shared.core.events import ActionReverted, ActiveLoop, Restarted, UserUtteranceReverted

    def user(text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None) -> UserUttered:
        return UserUttered(text, {"name": intent, "confidence": 1.0}, entities or [])

    listen = lambda: ActionExecuted("action_listen")  # noqa: E731
    events: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), listen()]
    for turn in range(3):
        events += [user(f"my back {turn}", "describe_need", [{"entity": "body_part", "value": "back"}]),
                   ActionExecuted("action_advice"), SlotSet("screened", True), SlotSet("pressure", "light"), listen()]
    events += [user("book", "book_session"), ActionExecuted("booking_form"), ActiveLoop("booking_form"),
               SlotSet("requested_slot", "when"), listen(),
               user("friday", "inform"), ActionExecuted("booking_form"), SlotSet("when", "friday"), listen(),
               user("at 3", "inform"), ActionExecuted("booking_form"), SlotSet("when", "friday 3"),
               ActiveLoop(None), SlotSet("requested_slot", None), ActionExecuted("action_advice"), listen(),
               user("oops", "deny"), UserUtteranceReverted(), user("no", "deny"), ActionExecuted("action_advice"),
               ActionReverted(), ActionExecuted("action_advice"), listen(),
               user("firm please", "inform"), ActionExecuted("action_advice"), SlotSet("pressure", "firm"), listen(),
               Restarted(), ActionExecuted("action_session_start"), SessionStarted(), listen(),
               user("hi", "greet"), ActionExecuted("action_advice"), listen()]
    return events


@pytest.mark.parametrize("omit_unset_slots", [False, True])
@pytest.mark.parametrize("new_tracker_each_turn", [False, True])
def test_states_match_rasas_at_every_step_of_a_conversation(omit_unset_slots: bool,
                                                            new_tracker_each_turn: bool) -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    events = scripted_events()
    tracker = DialogueStateTracker("growing", domain.slots)
    for step, event in enumerate(events):
        if new_tracker_each_turn:  # as a tracker store rebuilds it: earlier events from their JSON
            rebuilt = deserialise_events([e.as_dict() for e in events[:step]])
            tracker = DialogueStateTracker.from_events("growing", rebuilt + [event], domain.slots)
        else:
            tracker.update(event)
        for _ in range(2):  # the second call reuses everything
            assert tracker.applied_events() == applied_events_cache.UPSTREAM(tracker)
            patched = tracker.past_states(domain, omit_unset_slots=omit_unset_slots)
            expected = incremental_tracker_states.UPSTREAM(domain, tracker, omit_unset_slots)
            assert patched == expected, f"differs after event {step}: {event}"


def test_callers_changing_the_states_do_not_change_the_next_result() -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    tracker = DialogueStateTracker.from_events("mutating", scripted_events()[:12], domain.slots)
    first = tracker.past_states(domain)
    for state in first:
        state.get("user", {}).clear()
        state.pop("user", None)
    assert tracker.past_states(domain) == incremental_tracker_states.UPSTREAM(domain, tracker)


def test_rule_only_turns_for_ml_policies_use_rasas_code(monkeypatch: Any) -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    tracker = DialogueStateTracker.from_events("ml", scripted_events()[:12], domain.slots)
    calls = []
    monkeypatch.setattr(incremental_tracker_states, "UPSTREAM",
                        lambda *args: calls.append(args) or [])
    tracker.past_states(domain, ignore_rule_only_turns=True, rule_only_data={"slots": [], "loops": []})
    assert len(calls) == 1


def test_idle_conversations_leave_memory(monkeypatch: Any) -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    DialogueStateTracker.from_events("idle", scripted_events()[:6], domain.slots).past_states(domain)
    assert any(key[0] == "idle" for key in incremental_tracker_states._replays)
    later = time.monotonic() + incremental_tracker_states.TTL_S + 1
    monkeypatch.setattr(incremental_tracker_states.time, "monotonic", lambda: later)
    DialogueStateTracker.from_events("other", scripted_events()[:6], domain.slots).past_states(domain)
    assert not any(key[0] == "idle" for key in incremental_tracker_states._replays)


def test_the_caches_keep_at_most_max_conversations() -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    events = scripted_events()[:6]
    senders = [f"visitor-{n}" for n in range(cache_bounds.MAX_CONVERSATIONS + 5)]
    for sender in senders:
        tracker = DialogueStateTracker.from_events(sender, events, domain.slots)
        tracker.past_states(domain)
        tracker.applied_events()
    for cache in (incremental_tracker_states._replays, applied_events_cache._folds):
        kept = {key[0] if isinstance(key, tuple) else key for key in cache}
        assert len(cache) <= cache_bounds.MAX_CONVERSATIONS
        assert senders[-1] in kept and senders[0] not in kept


def test_a_growing_conversation_is_replayed_once(monkeypatch: Any) -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    events = scripted_events()[:18]  # three turns, no form or rewind
    copies = []
    upstream_init_copy = DialogueStateTracker.init_copy
    monkeypatch.setattr(DialogueStateTracker, "init_copy", lambda self: copies.append(1) or upstream_init_copy(self))
    for step in range(2, len(events)):  # from the session start on, which resets the applied events
        rebuilt = deserialise_events([e.as_dict() for e in events[:step]])  # as the tracker store does
        DialogueStateTracker.from_events("once", rebuilt + [events[step]], domain.slots).past_states(domain)
    assert len(copies) == 1


def test_applied_events_follow_every_change_of_the_events() -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    tracker = DialogueStateTracker("changing", domain.slots)
    for event in scripted_events():
        tracker.update(event)
        first = tracker.applied_events()
        first.clear()  # a caller changing its list does not change the next caller's
        assert tracker.applied_events() == applied_events_cache.UPSTREAM(tracker)
    tracker.events.clear()
    assert tracker.applied_events() == [] == applied_events_cache.UPSTREAM(tracker)
    rewound = tracker.travel_back_in_time(0)
    assert rewound.applied_events() == applied_events_cache.UPSTREAM(rewound)


# The trained model, for the patches that run it.

MODEL = Path(__file__).resolve().parents[2] / "models" / "model.tar.gz"
MESSAGES = ["hi", "my lower back is stiff from sitting all day", "I'm pregnant, can I get a massage?",
            "how often should I come?", "what should I wear", "thanks, bye"]


# RulePolicy's debug formatting (rule_policy_debug_states).

def test_rule_policy_formats_states_only_for_a_debug_log(caplog: Any) -> None:
    from rasa.core.policies.policy import Policy
    from rasa.core.policies.rule_policy import RulePolicy

    states = [{}, {"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}]
    assert RulePolicy.format_tracker_states(states) == ""
    assert "user intent: greet" in Policy.format_tracker_states(states)  # other policies unchanged
    with caplog.at_level(logging.DEBUG, logger="rasa.core.policies.rule_policy"):
        assert RulePolicy.format_tracker_states(states) == rule_policy_debug_states.UPSTREAM(states)


# One kept-alive HTTP session per endpoint (endpoint_session_reuse).

def test_requests_to_an_endpoint_share_one_connection() -> None:
    from aiohttp import web

    peers = []

    async def handler(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        return web.json_response({"echo": await request.json(), "auth": request.headers.get("Authorization")})

    async def scenario() -> List[Any]:
        app = web.Application()
        app.router.add_post("/webhook", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", basic_auth={"username": "u", "password": "p"})
        replies = [await endpoint.request(json={"n": n}) for n in range(5)]
        shared = endpoint.__dict__[endpoint_session_reuse._ATTRIBUTE]
        assert not shared.closed
        await shared.close()
        replies.append(await endpoint.request(json={"n": 5}))  # a closed session is replaced
        await endpoint.__dict__[endpoint_session_reuse._ATTRIBUTE].close()
        await runner.cleanup()
        return replies

    replies = asyncio.run(scenario())
    assert [r["echo"]["n"] for r in replies] == list(range(6))
    assert all(r["auth"] and r["auth"].startswith("Basic ") for r in replies)
    assert len(set(peers[:5])) == 1  # five requests, one connection
    assert peers[5] != peers[0]


def test_a_new_event_loop_gets_its_own_session() -> None:
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook")

    async def current() -> Any:
        async with endpoint.session() as session:
            return session

    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    sessions = [loop.run_until_complete(current()) for loop in loops]
    assert sessions[0] is not sessions[1]
    assert loops[1].run_until_complete(current()) is sessions[1]
    for loop, session in zip(loops, sessions):
        loop.run_until_complete(session.close())
        loop.close()


# The model's graph run in a fixed order (graph_run_order).

@pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model (make train)")
def test_the_trained_graph_gives_what_dask_gives_for_parsing_and_predictions() -> None:
    from rasa.core.agent import Agent
    from rasa.engine.runner.dask import DaskGraphRunner

    agent = Agent.load(str(MODEL))
    runner = agent.processor.graph_runner

    async def conversation() -> List[Any]:
        outputs = []
        for text in MESSAGES:
            tracker = await agent.processor.fetch_tracker_with_initial_session("graph-check")
            for run in (graph_run_order.run, graph_run_order.UPSTREAM):
                DaskGraphRunner.run = run
                try:
                    parsed = await agent.parse_message(text)
                    prediction = agent.processor.predict_next_with_tracker(tracker)
                finally:
                    DaskGraphRunner.run = graph_run_order.run
                outputs.append((run is graph_run_order.run, parsed["intent"], parsed["entities"], prediction))
            await agent.handle_text(text, sender_id="graph-check")
        return outputs

    outputs = asyncio.run(conversation())
    for ours, dasks in zip(outputs[0::2], outputs[1::2]):
        assert ours[0] and not dasks[0]
        assert ours[1:] == dasks[1:]
    assert len(runner.__dict__[graph_run_order._ATTRIBUTE]) == 2  # parsing and predicting, each worked out once


def test_a_node_failing_or_an_input_named_like_a_node_raises_rasas_error() -> None:
    from rasa.engine.exceptions import GraphRunError

    class Node:
        def __init__(self, name: str, fail: bool = False) -> None:
            self.name, self.fail = name, fail

        def __call__(self, *inputs: Any) -> Any:
            if self.fail:
                raise RuntimeError("boom")
            return self.name, [value for _, value in inputs]

    class SchemaNode:
        def __init__(self, needs: Dict[str, str]) -> None:
            self.needs = needs

    class Schema:
        nodes = {"a": SchemaNode({"x": "__input__"}), "b": SchemaNode({"y": "a"}), "c": SchemaNode({})}
        target_names = ["b"]

    runner = object.__new__(graph_run_order.DaskGraphRunner)
    runner._graph_schema = Schema()
    runner._instantiated_nodes = {"a": Node("a"), "b": Node("b"), "c": Node("c", fail=True)}
    assert graph_run_order.run(runner, {"__input__": 1}) == {"b": [[1]]}
    with pytest.raises(GraphRunError):
        graph_run_order.run(runner, {"__input__": "a"})
    with pytest.raises(GraphRunError):
        graph_run_order.run(runner, {}, ["c"])


def test_applied_events_of_a_growing_conversation_fold_only_the_new_events(monkeypatch: Any) -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    events = scripted_events()
    calls = []
    upstream = applied_events_cache.UPSTREAM
    monkeypatch.setattr(applied_events_cache, "UPSTREAM", lambda tracker: calls.append(1) or upstream(tracker))
    for step in range(len(events)):
        rebuilt = deserialise_events([e.as_dict() for e in events[:step]])  # as the tracker store does
        tracker = DialogueStateTracker.from_events("folding", rebuilt + [events[step]], domain.slots)
        assert tracker.applied_events() == upstream(tracker)
    first_rewind = next(i for i, e in enumerate(events) if type(e).__name__ == "UserUtteranceReverted")
    # Once at the start, and once per rebuild after a rewind (rebuilding replays the rewind on
    # the shorter tracker); the full tracker's events are folded on from where they were.
    assert len(calls) <= 1 + (len(events) - first_rewind)


# A tracker copied from a replay kept up to date (tracker_copy).

def copy_events() -> List[Event]:
    """The scripted conversation, with a pause, a follow-up action, a rejected and an interrupted
    form step, a validation switch and a slot holding a mutable value."""
    from rasa.shared.core.events import (ActionExecutionRejected, ActiveLoop, ConversationPaused,
                                         ConversationResumed, FollowupAction, LoopInterrupted)

    extra: List[Event] = [
        UserUttered("pause", {"name": "deny", "confidence": 1.0}), ConversationPaused(), ConversationResumed(),
        FollowupAction("action_advice"), ActionExecuted("action_advice"), SlotSet("when", ["mon", {"at": 3}]),
        UserUttered("book", {"name": "book_session", "confidence": 1.0}), ActionExecuted("booking_form"),
        ActiveLoop("booking_form"), ActionExecutionRejected("booking_form"), LoopInterrupted(True),
        ActionExecuted("action_listen"),
    ]
    return scripted_events() + extra


def tracker_state(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """Every attribute of a tracker, events by identity, slots by value and whether they were set."""
    state = {key: value for key, value in vars(tracker).items() if key != tracker_copy.REPLAY}
    state["events"] = [id(event) for event in tracker.events]
    state["slots"] = {name: (type(slot), slot.value, slot.has_been_set, slot.influence_conversation)
                      for name, slot in tracker.slots.items()}
    for key in ("latest_message", "latest_bot_utterance"):
        message = state[key]
        shared = any(message is event for event in tracker.events)
        state[key] = id(message) if shared else ("placeholder", type(message), message.as_dict()["text"])
    return state


def test_a_copy_equals_rasas_replay_at_every_step_of_a_conversation() -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    tracker = DialogueStateTracker("copied", domain.slots)
    for event in copy_events():
        tracker.update(event)
        for _ in range(2):  # the second copy reuses the replay as it is
            copied, upstream = tracker.copy(), tracker_copy.UPSTREAM(tracker)
            assert tracker_state(copied) == tracker_state(upstream)
            assert copied.current_state() == upstream.current_state()
        if tracker.followup_action:
            tracker.clear_followup_action()  # as the processor does, outside any event
            assert tracker_state(tracker.copy()) == tracker_state(tracker_copy.UPSTREAM(tracker))


def test_changing_a_copy_leaves_the_original_and_later_copies_alone() -> None:
    from rasa.shared.core.events import ActiveLoop

    domain = Domain.from_yaml(FORM_DOMAIN)
    tracker = DialogueStateTracker("copied", domain.slots)
    for event in scripted_events()[:20] + [ActiveLoop("booking_form"), SlotSet("when", "monday")]:
        tracker.update(event)
    before = tracker_state(tracker)
    copied = tracker.copy()
    copied.update(SlotSet("when", "tuesday"))
    copied.interrupt_loop(True)
    copied.latest_action["action_name"] = "changed"
    copied.update(ActionExecuted("action_advice"))
    assert tracker_state(tracker) == before
    assert tracker.get_slot("when") == "monday" and not tracker.active_loop.is_interrupted
    assert tracker_state(tracker.copy()) == tracker_state(tracker_copy.UPSTREAM(tracker))


def test_a_tracker_whose_events_changed_gets_a_new_replay() -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    tracker = DialogueStateTracker("changed", domain.slots)
    for event in scripted_events()[:12]:
        tracker.update(event)
    tracker.copy()
    tracker.events[5] = SlotSet("pressure", "firm")  # not the event the replay holds
    assert tracker_state(tracker.copy()) == tracker_state(tracker_copy.UPSTREAM(tracker))
    rebuilt = DialogueStateTracker.from_events("changed", deserialise_events(
        [e.as_dict() for e in tracker.events]), domain.slots)
    assert tracker_state(rebuilt.copy()) == tracker_state(tracker_copy.UPSTREAM(rebuilt))


def test_a_tracker_with_a_bounded_history_is_copied_by_rasa(monkeypatch: Any) -> None:
    calls = []
    monkeypatch.setattr(tracker_copy, "UPSTREAM", lambda tracker: calls.append(tracker) or "rasa's")
    bounded = DialogueStateTracker("bounded", [], max_event_history=5)
    assert bounded.copy() == "rasa's" and calls == [bounded]


def test_a_long_conversation_is_replayed_once_for_all_its_copies(monkeypatch: Any) -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    tracker = DialogueStateTracker("long", domain.slots)
    applied = []
    upstream_update = DialogueStateTracker.update
    for event in scripted_events():
        tracker.update(event)
        tracker.copy()
    monkeypatch.setattr(DialogueStateTracker, "update",
                        lambda self, event, domain=None: applied.append(event) or upstream_update(self, event, domain))
    tracker.update(ActionExecuted("action_advice"))
    tracker.copy()
    tracker.copy()
    assert len(applied) == 2  # the new event, on the tracker and on its replay


def test_a_cached_conversation_is_read_and_copied_without_replaying_it(tmp_path: Any, monkeypatch: Any) -> None:
    store = sql_store(tmp_path / "tracker.db")
    replays = []

    async def conversation() -> DialogueStateTracker:
        tracker = await store.get_or_create_tracker("visitor")
        for number in range(4):
            turn(tracker, f"message {number}", at=10.0 + number)
            await store.save(tracker)
            tracker = await store.retrieve("visitor")
        monkeypatch.setattr(DialogueStateTracker, "from_events", classmethod(
            lambda cls, *args, **kwargs: replays.append(args) or pytest.fail("replayed")))
        monkeypatch.setattr(tracker_copy, "UPSTREAM", lambda tracker: pytest.fail("replayed"))
        for number in range(4, 8):
            tracker.copy()
            turn(tracker, f"message {number}", at=10.0 + number)
            await store.save(tracker)
            tracker = await store.retrieve("visitor")
            tracker.copy()
        return tracker

    tracker = asyncio.run(conversation())
    assert replays == [] and len(tracker.events) == 41
    handed = [tracker, tracker.copy()]
    handed[1].update(SlotSet("screened", False))
    assert tracker.get_slot("screened") is True  # a copy changes only itself


# RulePolicy predicting without the whole conversation's JSON key (rule_policy_feature_key).

def listen_state(intent: str) -> Dict[str, Any]:
    return {"prev_action": {"action_name": "action_listen"}, "user": {"intent": intent}}


def test_a_key_no_hidden_rule_could_equal_is_not_built_while_predicting(monkeypatch: Any) -> None:
    from rasa.core.policies.rule_policy import RULES_NOT_IN_STORIES, RulePolicy

    policy = RulePolicy.__new__(RulePolicy)
    hidden = json.dumps([listen_state("greet")], sort_keys=True)
    policy.lookup = {RULES_NOT_IN_STORIES: ["predicting default action with intent restart", hidden]}
    built = []
    monkeypatch.setattr(rule_policy_feature_key, "UPSTREAM", lambda self, states: built.append(len(states)) or "key")
    long_states = [listen_state("greet")] * 40

    def predicting(states: List[Dict[str, Any]]) -> Optional[str]:
        token = rule_policy_feature_key._predicting.set(True)
        try:
            return policy._create_feature_key(states)
        finally:
            rule_policy_feature_key._predicting.reset(token)

    assert predicting(long_states) is None and built == []
    assert predicting([listen_state("greet")]) == "key" and built == [1]  # as long as a hidden rule
    assert policy._create_feature_key(long_states) == "key" and built == [1, 40]  # training: always rasa's


def test_the_real_key_of_a_long_conversation_is_in_no_hidden_rule() -> None:
    from rasa.core.policies.rule_policy import RULES_NOT_IN_STORIES, RulePolicy

    policy = RulePolicy.__new__(RulePolicy)
    policy.lookup = {RULES_NOT_IN_STORIES: [json.dumps([listen_state("greet")], sort_keys=True)]}
    states = [listen_state("greet")] * 5
    assert rule_policy_feature_key.UPSTREAM(policy, states) not in policy.lookup[RULES_NOT_IN_STORIES]


@pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model (make train)")
def test_predictions_of_the_trained_model_equal_rasas_at_every_turn() -> None:
    from rasa.core.agent import Agent
    from rasa.core.policies.rule_policy import RulePolicy

    agent = Agent.load(str(MODEL))
    texts = MESSAGES + ["book a session", "swedish please", "tomorrow at 3pm", "no thanks", "what is it"] * 3

    async def conversation() -> List[Any]:
        outputs = []
        for text in texts:
            await agent.handle_text(text, sender_id="feature-key")
            tracker = await agent.processor.fetch_tracker_with_initial_session("feature-key")
            for create in (rule_policy_feature_key.create_feature_key, rule_policy_feature_key.UPSTREAM):
                RulePolicy._create_feature_key = create
                try:
                    outputs.append(agent.processor._predict_next_with_tracker(tracker.copy()))
                finally:
                    RulePolicy._create_feature_key = rule_policy_feature_key.create_feature_key
        return outputs

    outputs = asyncio.run(conversation())
    for ours, rasas in zip(outputs[0::2], outputs[1::2]):
        assert ours == rasas
    assert len({str(prediction) for prediction in outputs}) > 1  # a real conversation, not one answer


# RulePolicy predicting from the last states its rules look at (rule_policy_state_window).

def test_the_window_is_one_state_longer_than_the_longest_rule() -> None:
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RULES_NOT_IN_STORIES, RulePolicy

    policy = RulePolicy.__new__(RulePolicy)
    rule = [listen_state("greet"), listen_state("thanks"), listen_state("goodbye")]
    policy.lookup = {RULES: {json.dumps(rule[:2]): "utter_greet"},
                     RULES_FOR_LOOP_UNHAPPY_PATH: {json.dumps(rule): "do_not_predict_loop_action"},
                     RULES_NOT_IN_STORIES: ["predicting default action with intent restart", json.dumps(rule[:1])]}
    assert rule_policy_state_window.window(policy) == 4
    policy.lookup = {RULES: {json.dumps(rule[:1]): "utter_greet"}}
    assert rule_policy_state_window.window(policy) == 2  # a new lookup (a new model) is worked out again


def test_a_window_gives_the_last_states_of_the_whole_conversation() -> None:
    domain = Domain.from_yaml(FORM_DOMAIN)
    events = scripted_events()
    full = DialogueStateTracker.from_events("window", events, domain.slots).past_states(domain)
    for size in (1, 2, 4, len(full) - 1, len(full), len(full) + 3):
        token = incremental_tracker_states.WINDOW.set(size)
        try:
            tracker = DialogueStateTracker.from_events("window", events, domain.slots)
            assert tracker.past_states(domain) == full[-size:]
        finally:
            incremental_tracker_states.WINDOW.reset(token)
    assert DialogueStateTracker.from_events("window", events, domain.slots).past_states(domain) == full


def test_rule_policy_asks_for_a_window_only_while_predicting(monkeypatch: Any) -> None:
    from rasa.core.policies.rule_policy import RULES, RulePolicy

    policy = RulePolicy.__new__(RulePolicy)
    policy.lookup = {RULES: {json.dumps([listen_state("greet")] * 3): "utter_greet"}}
    seen = []
    monkeypatch.setattr(rule_policy_state_window, "UPSTREAM",
                        lambda *args: seen.append(incremental_tracker_states.WINDOW.get()) or [])
    policy._prediction_states(None, None)  # training: the whole conversation
    token = rule_policy_feature_key._predicting.set(True)
    try:
        policy._prediction_states(None, None)
    finally:
        rule_policy_feature_key._predicting.reset(token)
    assert seen == [None, 4] and incremental_tracker_states.WINDOW.get() is None


def test_rules_match_the_window_as_they_match_the_whole_conversation() -> None:
    from rasa.core.policies.rule_policy import RULES, RulePolicy

    def step(action: str, intent: str) -> Dict[str, Any]:
        return {"prev_action": {"action_name": action}, "user": {"intent": intent}}

    start = {}  # a conversation's first state: no previous action
    rules = [[step("action_listen", "greet")],
             [start, step("action_listen", "greet")],  # conversation_start: true
             [step("utter_ask", "affirm"), step("action_listen", "deny")],
             [step("action_listen", "book"), step("utter_ask", "affirm"), step("action_listen", "deny")]]
    policy = RulePolicy.__new__(RulePolicy)
    policy.lookup = {RULES: {json.dumps(rule): f"action_{n}" for n, rule in enumerate(rules)}}
    size = rule_policy_state_window.window(policy)
    conversation = [start, step("action_listen", "greet"), step("utter_ask", "greet"), step("utter_ask", "affirm"),
                    step("action_listen", "deny"), step("action_listen", "book"), step("utter_ask", "affirm"),
                    step("action_listen", "deny"), step("action_listen", "greet"), step("utter_ask", "affirm")]
    differs_with_less = False
    for end in range(1, len(conversation) + 1):
        states = conversation[:end]
        whole = policy._get_possible_keys(policy.lookup[RULES], states)
        assert policy._get_possible_keys(policy.lookup[RULES], states[-size:]) == whole
        differs_with_less |= policy._get_possible_keys(policy.lookup[RULES], states[-(size - 2):]) != whole
    assert size == 4 and differs_with_less  # the rules do look back: fewer states would change the match
