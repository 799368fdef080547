"""bot/patches/redis_lock_atomic.py: tickets stay unique when many processes ask for the same
conversation's lock at once (real Redis, skipped when none answers), and a tripwire on the
upstream methods it replaces."""
from __future__ import annotations

import hashlib
import inspect
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa.core.lock_store import LockStore, RedisLockStore

from bot.patches import redis_lock_atomic


def test_upstream_methods_unchanged() -> None:
    """Fails when rasa's lock store changes: re-check the read-modify-write race, then update."""
    classes = {"LockStore": LockStore, "RedisLockStore": RedisLockStore}
    for name, digest in redis_lock_atomic.UPSTREAM_SOURCES.items():
        cls, method = name.rsplit(".", 2)[-2:]
        source = inspect.getsource(getattr(classes[cls], method))
        assert hashlib.sha256(source.encode()).hexdigest() == digest, name


@pytest.fixture()
def store() -> RedisLockStore:
    try:
        s = RedisLockStore(host="127.0.0.1", port=6379, db=15)
        s.red.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    redis_lock_atomic.apply()
    return s


def test_simultaneous_tickets_are_unique_and_the_lock_is_removed_after(store: RedisLockStore) -> None:
    conversation = f"lock-test-{uuid.uuid4().hex}"
    stores = [RedisLockStore(host="127.0.0.1", port=6379, db=15) for _ in range(8)]  # like 8 replicas
    with ThreadPoolExecutor(8) as pool:
        tickets = list(pool.map(lambda i: stores[i % 8].issue_ticket(conversation, 30), range(64)))
    assert sorted(tickets) == list(range(64))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda t: stores[t % 8].cleanup(conversation, t), tickets))
    assert store.get_lock(conversation) is None


def test_serving_order_is_kept(store: RedisLockStore) -> None:
    conversation = f"lock-test-{uuid.uuid4().hex}"
    first, second = store.issue_ticket(conversation, 30), store.issue_ticket(conversation, 30)
    lock = store.get_lock(conversation)
    assert not lock.is_locked(first) and lock.is_locked(second)
    store.cleanup(conversation, first)
    assert not store.get_lock(conversation).is_locked(second)
    store.cleanup(conversation, second)
    assert store.get_lock(conversation) is None
