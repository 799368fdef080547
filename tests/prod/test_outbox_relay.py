"""The event outbox relay against the machine's PostgreSQL and RabbitMQ: events written with a
turn reach the stream once confirmed, stay in the outbox while RabbitMQ is away, and a relay that
dies between publishing and deleting publishes them again, which the analytics consumer counts
once (at least once, no double counting)."""
from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa

from bot.analytics.consumer import Figures
from bot.delivery import outbox

pytestmark = pytest.mark.e2e
AMQP = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture()
def database() -> Iterator[str]:
    name = f"outbox_test_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", "-h", "127.0.0.1", "-d", "postgres", "-qc", f'CREATE DATABASE "{name}"'], check=True)
    try:
        yield f"postgresql://root@127.0.0.1:5432/{name}"
    finally:
        subprocess.run(["psql", "-h", "127.0.0.1", "-d", "postgres", "-qc",
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


@pytest.fixture()
def queue() -> Iterator[str]:
    name = f"outbox_test_{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["rabbitmqctl", "delete_queue", name], capture_output=True)


def turn(url: str, sender: str, texts: List[str]) -> None:
    """What the tracker store writes with a turn: the events, and the same events in the outbox."""
    engine = sa.create_engine(url, future=True)
    outbox.create_table(engine)
    with engine.begin() as connection:
        outbox.write(connection, sender, [json.dumps({"event": "user", "text": t, "timestamp": 1.0,
                                                      "input_channel": "rest", "parse_data": {"intent": {"name": "greet"}}})
                                          for t in texts])
    engine.dispose()


async def drain(queue: str, sender: str) -> List[Dict[str, Any]]:
    """The queue's events of `sender` (the exchange is shared with any running stack)."""
    import aio_pika

    connection = await aio_pika.connect(AMQP)
    async with connection:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, durable=True)
        out = []
        while True:
            message = await q.get(no_ack=True, fail=False, timeout=5)
            if message is None:
                return [event for event in out if event.get("sender_id") == sender]
            out.append(json.loads(message.body))


async def one_batch(url: str, queue: str, fail_delete: bool = False) -> int:
    import aio_pika
    import asyncpg

    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    connection = await aio_pika.connect(AMQP)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await outbox.declare(channel, [queue])
        if not fail_delete:
            return await outbox.publish_batch(pool, exchange)

        class DiesBeforeDeleting:
            """The relay's process dies after RabbitMQ confirmed, before the DELETE commits."""

            def __init__(self, inner: Any) -> None:
                self.inner = inner

            def acquire(self) -> Any:
                inner = self.inner.acquire()

                class Context:
                    async def __aenter__(self) -> Any:
                        real = await inner.__aenter__()

                        class Wrapped:
                            def __getattr__(self, name: str) -> Any:
                                return getattr(real, name)

                            async def execute(self, query: str, *args: Any) -> Any:
                                if query.startswith("DELETE"):
                                    raise ConnectionResetError("killed")
                                return await real.execute(query, *args)
                        return Wrapped()

                    async def __aexit__(self, *exc: Any) -> Any:
                        return await inner.__aexit__(*exc)
                return Context()

        with pytest.raises(ConnectionResetError):
            await outbox.publish_batch(DiesBeforeDeleting(pool), exchange)
        return 0
    finally:
        await connection.close()
        await pool.close()


def test_events_are_published_with_their_ids_and_then_deleted(database: str, queue: str) -> None:
    sender = f"ana-{uuid.uuid4().hex[:6]}"
    turn(database, sender, ["hi", "my back hurts"])
    assert asyncio.run(one_batch(database, queue)) == 2
    events = asyncio.run(drain(queue, sender))
    assert [e["text"] for e in events] == ["hi", "my back hurts"]
    assert all(e["event_id"] for e in events)
    engine = sa.create_engine(database, future=True)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM event_outbox")).scalar() == 0
    engine.dispose()


def test_a_relay_that_dies_before_deleting_publishes_again_and_nothing_is_counted_twice(database: str,
                                                                                          queue: str) -> None:
    sender = f"ben-{uuid.uuid4().hex[:6]}"
    turn(database, sender, ["hi", "what should I wear"])
    asyncio.run(one_batch(database, queue, fail_delete=True))  # published, not deleted
    assert asyncio.run(one_batch(database, queue)) == 2  # the next relay publishes them again
    events = asyncio.run(drain(queue, sender))
    assert len(events) == 4 and len({e["event_id"] for e in events}) == 2
    figures = Figures(sa.create_engine("sqlite://", future=True))
    figures.record_many(events)
    (day,) = figures.report(days=100000)["days"].values()
    assert day["rest"]["conversations"] == 1
    with figures.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM analytics_seen_events")).scalar() == 2
