"""bot/delivery without servers: which stored turn answers a repeated message id, how store
operations are retried while the database is away, and the lock keys."""
from __future__ import annotations

import asyncio
from typing import Any, List

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc

from bot.delivery import once, retry
from bot.delivery.locks import PostgresLockStore, lock_key


def conversation() -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events("visitor", [
        UserUttered("hi", message_id="m-1"), ActionExecuted("utter_greet"),
        BotUttered("Hello! How can I help?", {"buttons": [{"title": "Book", "payload": "/book_session"}]}),
        ActionExecuted("action_listen"),
        UserUttered("what should I wear", message_id="m-2"), BotUttered("Whatever is comfortable."),
        BotUttered("You undress to your comfort level."), ActionExecuted("action_listen"),
    ])
    return tracker


def test_a_handled_message_id_gives_the_replies_stored_after_it() -> None:
    tracker = conversation()
    first = once.replies_to(tracker, "m-1")
    assert [r["text"] for r in first] == ["Hello! How can I help?"]
    assert first[0]["buttons"] == [{"title": "Book", "payload": "/book_session"}]
    assert [r["text"] for r in once.replies_to(tracker, "m-2")] == ["Whatever is comfortable.",
                                                                     "You undress to your comfort level."]
    assert once.replies_to(tracker, "m-3") is None
    assert once.replies_to(None, "m-1") is None


def test_only_valid_ids_from_outside_are_taken() -> None:
    message = UserMessage("hi", CollectingOutputChannel(), "visitor")
    assert not once.has_client_id(once.with_message_id(message, None))
    assert not once.has_client_id(once.with_message_id(message, "has spaces"))
    assert not once.has_client_id(once.with_message_id(message, "x" * 129))
    taken = once.with_message_id(message, "twilio:SM0123")
    assert once.has_client_id(taken) and taken.message_id == "twilio:SM0123"


class FakeAgent:
    """Just what `once.handle` uses of Rasa's Agent."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        from rasa.core.lock_store import InMemoryLockStore

        self.lock_store = InMemoryLockStore()
        self.handled: List[str] = []
        tracker_store = self

        class Processor:
            async def handle_message(self, message: UserMessage) -> None:
                tracker_store.handled.append(message.text)

        self.processor = Processor()
        self.tracker = tracker

    def is_ready(self) -> bool:
        return True

    @property
    def tracker_store(self) -> Any:
        return self

    async def retrieve(self, sender_id: str) -> DialogueStateTracker:
        return self.tracker


def test_a_repeated_id_is_answered_from_the_stored_turn_and_not_handled_again() -> None:
    agent = FakeAgent(conversation())

    async def send(text: str, message_id: Any) -> List[Any]:
        output = CollectingOutputChannel()
        await once.handle(agent, once.with_message_id(UserMessage(text, output, "visitor"), message_id))
        return [m.get("text") for m in output.messages]

    assert asyncio.run(send("what should I wear", "m-2")) == ["Whatever is comfortable.",
                                                              "You undress to your comfort level."]
    assert agent.handled == []
    asyncio.run(send("what should I wear", "m-9"))  # new id: a new message with the same words
    asyncio.run(send("how long is a session", None))  # no id (an older client): always handled
    assert agent.handled == ["what should I wear", "how long is a session"]


def operational() -> Exception:
    return exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))


def test_a_store_operation_is_retried_until_the_database_is_back() -> None:
    calls, sleeps = [], []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise operational()
        return "stored"

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    assert asyncio.run(retry.retrying(flaky, "saving a turn", deadline=15, sleep=sleep)) == "stored"
    assert len(calls) == 4 and sleeps == [0.05, 0.1, 0.2]


def test_after_the_deadline_the_store_says_it_is_unavailable() -> None:
    clock = [0.0]

    async def down() -> None:
        raise operational()

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    with pytest.raises(retry.StoreUnavailable):
        asyncio.run(retry.retrying(down, "saving a turn", deadline=5, sleep=sleep, clock=lambda: clock[0]))
    assert 4 <= clock[0] <= 5


def test_a_mistake_in_the_operation_is_not_retried() -> None:
    calls = []

    async def wrong() -> None:
        calls.append(1)
        raise exc.IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(exc.IntegrityError):
        asyncio.run(retry.retrying(wrong, "saving a turn", deadline=5))
    assert calls == [1]


def test_lock_keys_are_stable_signed_64_bit_and_distinct() -> None:
    keys = {lock_key(f"conversation-{i}") for i in range(10000)}
    assert len(keys) == 10000
    assert all(-2 ** 63 <= k < 2 ** 63 for k in keys)
    assert lock_key("visitor") == lock_key("visitor")


def test_the_lock_store_reads_the_tracker_stores_settings() -> None:
    from rasa.utils.endpoints import EndpointConfig

    store = PostgresLockStore(EndpointConfig(url="db.internal", type="bot.delivery.locks.PostgresLockStore",
                                             port=6543, db="spa", username="rasa", password="pw", pool_size=7,
                                             wait_s=12))
    assert store.connect == {"host": "db.internal", "port": 6543, "database": "spa", "user": "rasa",
                             "password": "pw"}
    assert store.pool_size == 7 and store.wait_s == 12


def test_a_blocking_answer_is_tried_again_from_a_clean_reply() -> None:
    """The action server's knowledge-base read fails while PostgreSQL restarts: the half-written
    reply is dropped and the answer is made again once the database is back."""
    messages: List[str] = []
    attempts = []

    def answer() -> str:
        attempts.append(1)
        messages.append("half")
        if len(attempts) < 3:
            raise operational()
        return "done"

    result = retry.retrying_sync(answer, "answering", deadline=10, before_retry=messages.clear, sleep=lambda s: None)
    assert result == "done" and messages == ["half"] and len(attempts) == 3


def test_a_failure_is_logged_with_where_it_happened_not_what_it_said() -> None:
    from bot.security.logs import failure_site

    def deep() -> None:
        raise ValueError("my private words")

    try:
        deep()
    except ValueError as error:
        site = failure_site(error)
    assert site.startswith("unit/test_delivery.py:") and site.endswith("in deep")
    assert "private" not in site
