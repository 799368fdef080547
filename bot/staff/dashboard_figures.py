"""The owner's dashboard figures, counted from what the assistant already stores.

Why from the tracker store: the analytics consumer (bot/analytics/consumer.py) needs RabbitMQ,
which the embedded default does not run. Every installation, SQLite or PostgreSQL, keeps each
conversation's events in the tracker store's `events` table, so the dashboard reads those (only
the period asked for, and only the kinds of event that can count) and classifies each with the
consumer's own rules (bot/analytics/figures.py). The booking steps come from the
booking_requests table (bot/booking/models.py).

No message text leaves this module: the events are read, counted and dropped.
"""
from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Collection, Dict, Iterable, Iterator, List, Optional, Set, Tuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.figures import count_without_text
from bot.booking.models import BookingRequest
from bot.knowledge.db import get_session
from bot.knowledge.models import Condition

logger = logging.getLogger(__name__)

# The event kinds figures.count can count; `action_listen` (every turn ends with one) never counts.
COUNTED_KINDS = ("user", "bot", "action")
LISTEN = "action_listen"
CONFIRMED = ("confirmed", "done")  # "done" was confirmed first
BATCH_ROWS = 2000

events_table = sa.table("events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
                        sa.column("timestamp"), sa.column("action_name"), sa.column("data"))


@dataclass
class Tally:
    """What happened in a period. Days are UTC dates (as figures.day_of counts them), oldest first."""

    days: Tuple[str, ...]
    per_day: Dict[str, Counter] = field(default_factory=dict)  # channel -> day -> conversations
    per_channel: Counter = field(default_factory=Counter)  # channel -> conversations in the period
    metrics: Dict[str, Counter] = field(default_factory=dict)  # figures.METRICS name -> day -> count
    intents: Counter = field(default_factory=Counter)  # intent -> messages (crisis messages left out)
    messages: int = 0
    conversations: int = 0
    recommended: int = 0  # conversations given a recommendation
    offered: int = 0  # conversations offered a booking
    requested: int = 0  # conversations that made a booking request
    confirmed: int = 0  # conversations with a request confirmed (or done)
    events: int = 0
    computed_at: float = 0.0

    def total(self, metric: str) -> int:
        return sum(self.metrics.get(metric, Counter()).values())

    def daily(self, metric: str) -> Tuple[int, ...]:
        counts = self.metrics.get(metric, Counter())
        return tuple(counts.get(day, 0) for day in self.days)


def period(days: int, today: date) -> Tuple[str, ...]:
    """The last `days` days up to and including today, as ISO dates."""
    return tuple((today - timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1))


def start_of(day: str) -> datetime:
    """Midnight UTC at the start of an ISO date, naive (as booking times are stored)."""
    return datetime.fromisoformat(day)


def read_events(engine: Engine, since: float) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(conversation id, event) for every stored event from `since` on that could count, in the
    order they were stored."""
    query = (sa.select(events_table.c.sender_id, events_table.c.data)
             .where(events_table.c.timestamp >= since, events_table.c.type_name.in_(COUNTED_KINDS),
                    sa.or_(events_table.c.action_name.is_(None), events_table.c.action_name != LISTEN))
             .order_by(events_table.c.id))
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True).execute(query)
        for rows in result.partitions(BATCH_ROWS):
            for sender, data in rows:
                try:
                    event = json.loads(data) if data else None
                except ValueError:
                    continue
                if isinstance(event, dict):
                    yield str(sender), event


def tally_events(events: Iterable[Tuple[str, Dict[str, Any]]], days: Tuple[str, ...],
                 absolute_conditions: Collection[str]) -> Tally:
    """Count events the way the analytics consumer does: a conversation once per day (on the
    channel of its first message that day), each metric as figures.count says. Pure."""
    tally = Tally(days=days)
    in_period = set(days)
    seen_today: Set[Tuple[str, str]] = set()
    first_channel: Dict[str, str] = {}
    recommended: Set[str] = set()
    offered: Set[str] = set()
    for sender, event in events:
        tally.events += 1
        counted = count_without_text(event, absolute_conditions)
        if counted.day not in in_period:
            continue
        if counted.channel is not None:  # a message from the person
            tally.messages += 1
            if (counted.day, sender) not in seen_today:
                seen_today.add((counted.day, sender))
                tally.per_day.setdefault(counted.channel, Counter())[counted.day] += 1
            if sender not in first_channel:
                first_channel[sender] = counted.channel
                tally.per_channel[counted.channel] += 1
            if "crisis_replies" not in counted.metrics:
                intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
                if intent:
                    tally.intents[str(intent)] += 1
        for metric in counted.metrics:
            tally.metrics.setdefault(metric, Counter())[counted.day] += 1
            if metric == "recommendations":
                recommended.add(sender)
            elif metric == "booking_offers":
                offered.add(sender)
    tally.conversations = len(first_channel)
    tally.recommended, tally.offered = len(recommended), len(offered)
    return tally


def read_bookings(url: Optional[str], since: datetime) -> List[Tuple[str, str]]:
    """(conversation id, status) of every booking request made since `since`."""
    with get_session(url) as session:
        rows = session.execute(sa.select(BookingRequest.sender_id, BookingRequest.status)
                               .where(BookingRequest.created_at >= since)).all()
    return [(str(sender), str(status)) for sender, status in rows]


def add_bookings(tally: Tally, bookings: Iterable[Tuple[str, str]]) -> None:
    """The last two steps of the booking funnel, in conversations like the first two."""
    requested: Set[str] = set()
    confirmed: Set[str] = set()
    for sender, status in bookings:
        requested.add(sender)
        if status in CONFIRMED:
            confirmed.add(sender)
    tally.requested, tally.confirmed = len(requested), len(confirmed)


def absolute_conditions(url: Optional[str]) -> Set[str]:
    """The knowledge base's absolute contraindications (none when it cannot be read)."""
    try:
        with get_session(url) as session:
            return set(session.execute(sa.select(Condition.id).where(Condition.severity == "absolute")).scalars())
    except SQLAlchemyError as error:
        logger.warning("Dashboard: the knowledge base's conditions cannot be read (%s).", type(error).__name__)
        return set()


def compute(tracker: Engine, booking_url: Optional[str], days: int, today: Optional[date] = None) -> Tally:
    """Every figure of the dashboard for the last `days` days (blocking: run it in a thread)."""
    started = time.perf_counter()
    today = today or datetime.now(timezone.utc).date()
    span = period(days, today)
    since = start_of(span[0])
    tally = tally_events(read_events(tracker, since.replace(tzinfo=timezone.utc).timestamp()), span,
                         absolute_conditions(booking_url))
    add_bookings(tally, read_bookings(booking_url, since))
    tally.computed_at = time.time()
    logger.info("Dashboard: %d days, %d events, %d conversations counted in %.2f s.", days, tally.events,
                tally.conversations, time.perf_counter() - started)
    return tally
