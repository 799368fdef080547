"""The analytics consumer: Rasa's event stream (RabbitMQ) -> daily figures per channel in the
database -> a staff report behind the API token.

    python -m bot.analytics.consumer            # consume and serve the report on ANALYTICS_PORT

Settings (environment): RABBITMQ_HOST, RABBITMQ_PORT, RABBITMQ_USER, RABBITMQ_PASSWORD (as the
Rasa servers), ANALYTICS_QUEUE (its own durable queue bound to Rasa's `rasa-exchange`; default
rasa_analytics), DATABASE_URL (the figures' tables live beside the knowledge base), ANALYTICS_PORT
(default 5070), RASA_TOKEN (the report's token), RETENTION_DAYS (fallback messages are people's
words: deleted after this many days, like conversations).

Crisis replies are counted per day, channel and tier; the text of a crisis message is never kept
(figures.py decides, and `purge` also removes any such text kept before the crisis layer).

Each event is counted and acknowledged after its transaction commits, and its `event_id` (set by
the event outbox relay, bot/delivery/outbox.py) is recorded in the same transaction: an event
delivered again (a crash before the acknowledgement, or the relay publishing it twice) is
recognised and not counted twice.
"""
from __future__ import annotations

import asyncio
import html
import json
import logging
import os
from datetime import date, timedelta
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.analytics.figures import METRICS, count, keepable

logger = logging.getLogger(__name__)
EXCHANGE = "rasa-exchange"  # rasa.core.brokers.pika.RABBITMQ_EXCHANGE
BATCH = 200  # events counted in one transaction (at most the channel's prefetch)

metadata = sa.MetaData()
daily = sa.Table("analytics_daily", metadata,
                 sa.Column("day", sa.String(10), primary_key=True),
                 sa.Column("channel", sa.String(64), primary_key=True),
                 sa.Column("metric", sa.String(32), primary_key=True),
                 sa.Column("count", sa.Integer, nullable=False))
conversations = sa.Table("analytics_conversations", metadata,
                         sa.Column("day", sa.String(10), primary_key=True),
                         sa.Column("sender_id", sa.String(255), primary_key=True),
                         sa.Column("channel", sa.String(64), nullable=False))
seen_events = sa.Table("analytics_seen_events", metadata,
                        sa.Column("event_id", sa.String(64), primary_key=True),
                        sa.Column("day", sa.String(10), nullable=False, index=True))
fallbacks = sa.Table("analytics_fallbacks", metadata,
                     sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                     sa.Column("day", sa.String(10), nullable=False, index=True),
                     sa.Column("channel", sa.String(64), nullable=False),
                     sa.Column("text", sa.Text, nullable=False))


class Figures:
    """The figures' tables and how one event updates them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        self.absolute = self._absolute_conditions()
        self.last_user_text: Dict[str, str] = {}

    def _absolute_conditions(self) -> set:
        try:
            with self.engine.connect() as c:
                return {r[0] for r in c.execute(sa.text("SELECT id FROM conditions WHERE severity = 'absolute'"))}
        except sa.exc.SQLAlchemyError:
            return set()

    def _add(self, c: Connection, day: str, channel: str, metric: str) -> None:
        updated = c.execute(daily.update().where(daily.c.day == day, daily.c.channel == channel,
                                                 daily.c.metric == metric).values(count=daily.c.count + 1))
        if updated.rowcount == 0:
            c.execute(daily.insert().values(day=day, channel=channel, metric=metric, count=1))

    def record(self, event: Dict[str, Any]) -> None:
        self.record_many([event])

    def record_many(self, events: List[Dict[str, Any]]) -> None:
        """Count a batch of events in one transaction (the stream delivers them in bursts: one
        transaction each cost more than the counting)."""
        with self.engine.begin() as c:
            for event in events:
                self._record(c, event)

    def _record(self, c: Connection, event: Dict[str, Any]) -> None:
        sender = str(event.get("sender_id") or "")
        counted = count(event, self.absolute, self.last_user_text.get(sender))
        if event.get("event") == "user":
            if counted.private:
                self.last_user_text.pop(sender, None)
            else:
                self.last_user_text[sender] = event.get("text") or ""
        event_id = event.get("event_id")
        if isinstance(event_id, str) and event_id:
            if c.execute(sa.select(seen_events.c.event_id).where(seen_events.c.event_id == event_id)).first():
                return  # published again by the outbox relay (at least once): counted already
            c.execute(seen_events.insert().values(event_id=event_id, day=counted.day))
        channel = counted.channel
        seen = c.execute(sa.select(conversations.c.channel).where(
            conversations.c.day == counted.day, conversations.c.sender_id == sender)).first()
        if channel and not seen:
            c.execute(conversations.insert().values(day=counted.day, sender_id=sender, channel=channel))
            self._add(c, counted.day, channel, "conversations")
        if not channel:
            channel = seen[0] if seen else self._latest_channel(c, sender)
        for metric in counted.metrics:
            self._add(c, counted.day, channel, metric)
        if counted.fallback_text is not None:
            c.execute(fallbacks.insert().values(day=counted.day, channel=channel, text=counted.fallback_text[:1000]))

    @staticmethod
    def _latest_channel(c: Connection, sender: str) -> str:
        row = c.execute(sa.select(conversations.c.channel).where(conversations.c.sender_id == sender)
                        .order_by(conversations.c.day.desc()).limit(1)).first()
        return row[0] if row else "unknown"

    def purge(self, days: int) -> None:
        """Fallback messages are what people wrote: kept no longer than conversations, and never
        one that speaks of a crisis (kept by a consumer from before the crisis layer)."""
        with self.engine.begin() as c:
            if days > 0:
                cutoff = (date.today() - timedelta(days=days)).isoformat()
                c.execute(fallbacks.delete().where(fallbacks.c.day < cutoff))
                c.execute(conversations.delete().where(conversations.c.day < cutoff))
            # Event ids are kept a few days: the relay re-publishes within seconds, never weeks later.
            c.execute(seen_events.delete().where(seen_events.c.day < (date.today() - timedelta(days=7)).isoformat()))
            crisis = [i for i, text in c.execute(sa.select(fallbacks.c.id, fallbacks.c.text)) if keepable(text) is None]
            for start in range(0, len(crisis), 500):
                c.execute(fallbacks.delete().where(fallbacks.c.id.in_(crisis[start:start + 500])))

    def report(self, days: int = 30) -> Dict[str, Any]:
        """Per day and channel, each metric; and the unanswered messages, most frequent first."""
        since = (date.today() - timedelta(days=days)).isoformat()
        with self.engine.connect() as c:
            rows = c.execute(sa.select(daily).where(daily.c.day >= since).order_by(daily.c.day, daily.c.channel))
            table: Dict[str, Dict[str, Dict[str, int]]] = {}
            for day, channel, metric, n in rows:
                table.setdefault(day, {}).setdefault(channel, {m: 0 for m in METRICS})[metric] = n
            unanswered = c.execute(sa.select(fallbacks.c.text, sa.func.count().label("n"))
                                   .where(fallbacks.c.day >= since).group_by(fallbacks.c.text)
                                   .order_by(sa.desc("n")).limit(50)).all()
        return {"days": table, "unanswered": [{"text": t, "count": n} for t, n in unanswered]}


# Column headings of the staff page; the JSON uses the metric names.
HEADINGS = {"crisis_danger_now": "crisis: danger now", "crisis_suicide": "crisis: suicide or self-harm",
            "crisis_abuse": "crisis: abuse"}


def report_html(data: Dict[str, Any]) -> str:
    """The staff page; every value is escaped (people's words are in it)."""
    head = "".join(f"<th>{html.escape(HEADINGS.get(m, m.replace('_', ' ')))}</th>" for m in METRICS)
    rows = "".join(
        f"<tr><td>{html.escape(day)}</td><td>{html.escape(channel)}</td>"
        + "".join(f"<td>{figures.get(m, 0)}</td>" for m in METRICS) + "</tr>"
        for day, channels in data["days"].items() for channel, figures in channels.items())
    unanswered = "".join(f"<li>{html.escape(u['text'])} ({u['count']})</li>" for u in data["unanswered"])
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>Assistant figures</title>"
            f"<h1>Daily figures per channel</h1><table border=1><tr><th>day</th><th>channel</th>{head}</tr>{rows}</table>"
            f"<p>Crisis replies: how many times the assistant gave someone the emergency number and the "
            f"crisis or abuse line (the tiers are the most urgent of each message). What they wrote is "
            f"never kept.</p>"
            f"<h2>Messages the assistant could not answer</h2><ul>{unanswered}</ul>")


async def serve_report(figures: Figures, port: int, token: Optional[str]) -> Any:
    from aiohttp import web

    from bot.security.token import token_matches

    async def handle(request: web.Request) -> web.StreamResponse:
        if not token or not token_matches(request.query.get("token"), token):
            return web.json_response({"error": "unauthorized"}, status=401)
        days = int(request.query.get("days", "30")) if request.query.get("days", "30").isdigit() else 30
        data = await asyncio.get_running_loop().run_in_executor(None, figures.report, days)
        headers = {"Cache-Control": "no-store"}
        if request.path.endswith(".html"):
            return web.Response(text=report_html(data), content_type="text/html", headers=headers)
        return web.json_response(data, headers=headers)

    async def health(_: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.add_routes([web.get("/report", handle), web.get("/report.html", handle), web.get("/health", health)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    return runner


async def consume(env: Dict[str, str]) -> None:
    import aio_pika

    from bot.knowledge.db import database_url

    figures = Figures(sa.create_engine(env.get("DATABASE_URL") or database_url(), future=True, pool_pre_ping=True))
    runner = await serve_report(figures, int(env.get("ANALYTICS_PORT", "5070")), env.get("RASA_TOKEN"))
    url = (f"amqp://{env.get('RABBITMQ_USER', 'guest')}:{env.get('RABBITMQ_PASSWORD', 'guest')}@"
           f"{env.get('RABBITMQ_HOST', '127.0.0.1')}:{env.get('RABBITMQ_PORT', '5672')}/")
    connection = await aio_pika.connect_robust(url)
    retention = int(env.get("RETENTION_DAYS", "30"))
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=BATCH)
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.FANOUT)  # as rasa declares it
        queue = await channel.declare_queue(env.get("ANALYTICS_QUEUE", "rasa_analytics"), durable=True)
        await queue.bind(exchange)
        logger.info("Analytics consumer reading %s", queue.name)
        figures.purge(retention)
        arrived: "asyncio.Queue[Any]" = asyncio.Queue()
        await queue.consume(arrived.put)
        while True:
            batch = [await arrived.get()]
            while len(batch) < BATCH and not arrived.empty():
                batch.append(arrived.get_nowait())
            events = []
            for message in batch:
                try:
                    event = json.loads(message.body)
                    if not isinstance(event, dict):
                        raise TypeError("not an object")
                    events.append(event)
                except (ValueError, TypeError) as error:
                    logger.warning("Skipped an unreadable event (%s)", type(error).__name__)
            await asyncio.get_running_loop().run_in_executor(None, figures.record_many, events)
            await batch[-1].ack(multiple=True)  # after the commit: at least once
    finally:
        await connection.close()
        await runner.cleanup()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s - %(message)s")
    asyncio.run(consume(dict(os.environ)))


if __name__ == "__main__":
    main()
