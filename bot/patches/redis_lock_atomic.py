"""Make Rasa's Redis lock store safe across replicas: every change to a conversation's ticket
lock is one Redis transaction (WATCH/MULTI/EXEC), not a read followed by a blind write.

Why: in rasa 3.6, `LockStore.issue_ticket`, `update_lock`, `finish_serving` and `cleanup` read the
lock (GET), change it in Python and write it back (SET). Two replicas that receive messages of
the same conversation at the same moment both read "no lock", both issue ticket 0, and both
process their message at once; the SQL tracker store then appends only the events beyond the
stored count, so one message and its replies vanish from the conversation although the person
got an answer. tests/prod/test_stack.py found this with 20 conversations each sending two
messages at the same moment to the two replicas (one lost turn out of 20). A cleanup that races
with a new ticket can also erase it, and the message then fails with LockError.

With this patch the read, the change and the write happen in a `redis.Redis.transaction`, which
retries when another replica changed the lock in between, so tickets are unique and ordered.
Behaviour for a single process is unchanged (same TicketLock logic, same keys and values).

Targets rasa 3.6.21 with redis-py 4.6. tests/prod/test_redis_lock_atomic.py fails when the source
of a replaced method changes.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

UPSTREAM_SOURCES = {
    "rasa.core.lock_store.LockStore.issue_ticket":
        "4dfdfb5e62c1dda994b30fe56f20994a55d54493d1f1b84e8a0ec2e8291036b8",
    "rasa.core.lock_store.LockStore.update_lock":
        "d56816a13451e7a5fe53b6e8aa6c604775d58de1febbbd0f3664c3cf92f68cb3",
    "rasa.core.lock_store.LockStore.finish_serving":
        "ba76ac5a486b97dda51d0522ca2978fd8a5ccd01c26e1124ba31169f948945f9",
    "rasa.core.lock_store.LockStore.cleanup":
        "f2ba1745c8153f923521ce87419bf04a30c5764e1680f15d5d30bd7e4d65dac5",
    "rasa.core.lock_store.RedisLockStore.save_lock":
        "204875b9029c7f1802056acaf61bef20af631c51ac84625d5eb82ebfedb72bc3",
}

Mutation = Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], Any]]


def _atomically(store: RedisLockStore, conversation_id: Text, mutate: Mutation) -> Any:
    """Read the lock, apply `mutate` and write the result (None deletes the key) in one
    transaction, retried while another process changes the same key."""
    key = store.key_prefix + conversation_id
    outcome: list = []

    def transaction(pipe: Any) -> None:
        raw = pipe.get(key)
        lock = TicketLock.from_dict(json.loads(raw)) if raw else None
        new_lock, result = mutate(lock)
        pipe.multi()
        if new_lock is None:
            pipe.delete(key)
        else:
            pipe.set(key, new_lock.dumps())
        outcome[:] = [result]

    store.red.transaction(transaction, key)
    return outcome[0]


def issue_ticket(self: RedisLockStore, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
    """A ticket that no other replica can also get."""
    def mutate(lock: Optional[TicketLock]) -> Tuple[TicketLock, int]:
        lock = lock or TicketLock(conversation_id)
        return lock, lock.issue_ticket(lock_lifetime)
    try:
        return _atomically(self, conversation_id, mutate)
    except Exception as e:
        raise LockError(f"Error while acquiring lock. Error:\n{e}")


def update_lock(self: RedisLockStore, conversation_id: Text) -> None:
    """Drop expired tickets without losing one issued meanwhile."""
    def mutate(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
        if lock:
            lock.remove_expired_tickets()
        return lock, None
    if self.get_lock(conversation_id):
        _atomically(self, conversation_id, mutate)


def finish_serving(self: RedisLockStore, conversation_id: Text, ticket_number: int) -> None:
    def mutate(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
        if lock:
            lock.remove_ticket_for(ticket_number)
        return lock, None
    if self.get_lock(conversation_id):
        _atomically(self, conversation_id, mutate)


def cleanup(self: RedisLockStore, conversation_id: Text, ticket_number: int) -> None:
    """Remove this ticket, and the lock when nobody else holds one, in one step."""
    def mutate(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
        if lock:
            lock.remove_ticket_for(ticket_number)
            if not lock.is_someone_waiting():
                return None, None
        return lock, None
    _atomically(self, conversation_id, mutate)


REPLACED = {"issue_ticket": issue_ticket, "update_lock": update_lock, "finish_serving": finish_serving,
            "cleanup": cleanup}


def apply() -> None:
    """Install the patch on RedisLockStore only (idempotent); other lock stores are unchanged."""
    for name, function in REPLACED.items():
        setattr(RedisLockStore, name, function)
