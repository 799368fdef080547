"""The event outbox: a turn's events reach RabbitMQ once the turn is stored, whatever fails.

Rasa's own event broker publishes from the replica's memory after the turn is saved: events
published while RabbitMQ is away, or not yet published when the replica dies, are gone, and the
analytics undercount. Here the tracker store (bot.retention.PrivateSQLTrackerStore with
`outbox: true`) writes each new event a second time into `event_outbox`, in the same transaction
as the conversation's own rows, and Rasa's broker is not configured. The relay below publishes
the outbox in order, waits for RabbitMQ's confirmation, and only then deletes the rows; a crash
in between publishes them again, so delivery is at least once, and every message carries its
`event_id` (the outbox row's id) so a consumer drops what it has seen (bot/analytics/consumer.py).

    python -m bot.delivery.outbox     # the relay (scripts/run-prod.sh runs one)

Settings: DATABASE_URL (the tracker store's PostgreSQL), RABBITMQ_HOST, RABBITMQ_PORT,
RABBITMQ_USER, RABBITMQ_PASSWORD, RABBITMQ_QUEUE (declared and bound to Rasa's fanout exchange
`rasa-exchange`, as Rasa's broker does), RELAY_PORT (default 5071: GET /health answers with the
number of events waiting). Several relays may run: each batch is claimed with FOR UPDATE SKIP
LOCKED.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import sqlalchemy as sa

logger = logging.getLogger(__name__)

EXCHANGE = "rasa-exchange"  # rasa.core.brokers.pika.RABBITMQ_EXCHANGE
BATCH = 500
IDLE_POLL_S = 0.1
DEFAULT_PORT = 5071

metadata = sa.MetaData()
outbox = sa.Table("event_outbox", metadata,
                  sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                            autoincrement=True),
                  sa.Column("sender_id", sa.String(255), nullable=False, index=True),
                  sa.Column("data", sa.Text, nullable=False))


def create_table(engine: sa.engine.Engine) -> None:
    metadata.create_all(engine, tables=[outbox])


def write(connection: Any, sender_id: str, serialised_events: Sequence[str]) -> None:
    """Add the turn's events (each as stored in the events table) inside the caller's transaction."""
    if serialised_events:
        connection.execute(outbox.insert(), [{"sender_id": sender_id, "data": data} for data in serialised_events])


def forget(connection: Any, sender_id: str) -> None:
    """Unpublished events of a conversation that asked to be forgotten are not published."""
    connection.execute(outbox.delete().where(outbox.c.sender_id == sender_id))


def message_body(row_id: int, sender_id: str, data: str) -> Dict[str, Any]:
    """What Rasa's broker publishes ({"sender_id", **event}) plus the event's id."""
    body: Dict[str, Any] = {"sender_id": sender_id}
    body.update(json.loads(data))
    body["event_id"] = str(row_id)
    return body


async def publish_batch(pool: Any, exchange: Any) -> int:
    """Publish the oldest unpublished events and delete them once RabbitMQ confirmed them all;
    returns how many. On any failure nothing is deleted (they go again next time)."""
    import aio_pika

    async with pool.acquire() as connection:
        async with connection.transaction():
            rows = await connection.fetch(
                "SELECT id, sender_id, data FROM event_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", BATCH)
            if not rows:
                return 0
            # Sent in order on one channel; RabbitMQ's confirms are awaited together.
            await asyncio.gather(*(
                exchange.publish(aio_pika.Message(
                    json.dumps(message_body(row["id"], row["sender_id"], row["data"])).encode("utf-8"),
                    message_id=str(row["id"]), delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")
                for row in rows))
            await connection.execute("DELETE FROM event_outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
            return len(rows)


async def declare(channel: Any, queues: Iterable[str]) -> Any:
    import aio_pika

    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.FANOUT)
    for name in queues:
        queue = await channel.declare_queue(name, durable=True)
        await queue.bind(exchange, "")
    return exchange


def settings(env: Mapping[str, str]) -> Tuple[str, str, List[str]]:
    from bot.knowledge.db import database_url

    url = env.get("DATABASE_URL") or database_url()
    amqp = (f"amqp://{env.get('RABBITMQ_USER', 'guest')}:{env.get('RABBITMQ_PASSWORD', 'guest')}@"
            f"{env.get('RABBITMQ_HOST', '127.0.0.1')}:{env.get('RABBITMQ_PORT', '5672')}/")
    queues = [q for q in (env.get("RABBITMQ_QUEUE") or "rasa_events").split(",") if q]
    return url, amqp, queues


async def wait_for_table(url: str) -> None:
    """Create the outbox table, waiting for PostgreSQL when it is not up yet."""
    delay = 0.2
    while True:
        engine = sa.create_engine(url, future=True)
        try:
            create_table(engine)
            return
        except sa.exc.OperationalError as error:
            logger.warning("Outbox relay: the database is unreachable (%s); trying again.", type(error).__name__)
        finally:
            engine.dispose()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)


async def relay(env: Mapping[str, str], stop: "asyncio.Event | None" = None) -> None:
    """Publish the outbox until `stop` is set (or forever), riding out PostgreSQL and RabbitMQ
    outages."""
    import aio_pika
    import asyncpg

    from bot.delivery.retry import transient

    url, amqp, queues = settings(env)
    await wait_for_table(url)
    pool = await asyncpg.create_pool(url.replace("postgresql+psycopg2://", "postgresql://"), min_size=1, max_size=3)
    health = await serve_health(pool, int(env.get("RELAY_PORT") or DEFAULT_PORT)) if env.get("RELAY_PORT") != "0" else None
    connection = channel = exchange = None
    delay = 0.1
    published = 0
    try:
        while stop is None or not stop.is_set():
            try:
                if exchange is None:
                    connection = await aio_pika.connect(amqp, timeout=5)
                    channel = await connection.channel(publisher_confirms=True)
                    exchange = await declare(channel, queues)
                    logger.info("Outbox relay publishing to %s (queues %s).", EXCHANGE, ", ".join(queues))
                sent = await publish_batch(pool, exchange)
                published += sent
                delay = 0.1
                if not sent:
                    await asyncio.sleep(IDLE_POLL_S)
            except Exception as error:  # noqa: BLE001 - the relay outlives any outage
                expected = transient(error) or isinstance(error, aio_pika.exceptions.AMQPError)
                (logger.warning if expected else logger.exception)(
                    "Outbox relay: %s; trying again in %.1f s.", type(error).__name__, delay)
                if connection is not None:
                    try:
                        await connection.close()
                    except Exception:  # noqa: BLE001 - already broken
                        pass
                connection = channel = exchange = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
    finally:
        if connection is not None:
            await connection.close()
        if health is not None:
            await health.cleanup()
        pool.terminate()
        logger.info("Outbox relay stopped after publishing %d events.", published)


async def serve_health(pool: Any, port: int) -> Any:
    """GET /health: {"status": "ok", "waiting": events not yet published} (probes, run-prod)."""
    from aiohttp import web

    async def health(_: web.Request) -> web.StreamResponse:
        try:
            async with pool.acquire() as connection:
                waiting = await connection.fetchval("SELECT count(*) FROM event_outbox", timeout=2)
        except Exception as error:  # noqa: BLE001 - reported, the relay keeps trying
            return web.json_response({"status": "database unreachable", "error": type(error).__name__}, status=503)
        return web.json_response({"status": "ok", "waiting": waiting})

    app = web.Application()
    app.add_routes([web.get("/health", health)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    asyncio.run(relay(dict(os.environ)))


if __name__ == "__main__":
    main()
