"""What the assistant missed, for the owner to review (/staff/review, bot/staff/review_pages.py).

A user message is listed when the assistant fell back on it (the `nlu_fallback` intent or
`action_default_fallback`), when FallbackClassifier found it ambiguous (its two best topics
closer than `ambiguity_threshold` in config.yml), or when the chosen topic's confidence was
below LOW_CONFIDENCE (0.5; REVIEW_LOW_CONFIDENCE changes it). The messages are read from the
tracker store's events (Rasa's SQL tracker store: SQLite by default, PostgreSQL in production),
newest first, identical wording once. Never listed:
- messages older than RETENTION_DAYS, even before the hourly purge has deleted them;
- anything from a conversation that asked to be forgotten (its events are deleted when it asks;
  one that still shows the request is skipped whole);
- crisis messages, by the analytics' own rules (bot/analytics/figures.py), and every other message
  of a conversation that had one;
- button payloads, and messages that already have a label.

Labels are kept in the `review_labels` table (bot/staff/review_models.py) and exported as Rasa
NLU training data to data/nlu/reviewed.yml (bot/staff/review_export.py), which the next
`make train` uses; the guard there keeps the new model only if it is no worse.

    .venv/bin/python -m bot.staff.review export [--database-url URL] [--out data/nlu/reviewed.yml]
"""
from __future__ import annotations

import argparse
import bisect
import json
import logging
import os
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import yaml
from sqlalchemy import and_, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.figures import FALLBACK_ACTION, FALLBACK_INTENT, crisis_tier, keepable
from bot.knowledge.db import PROJECT_ROOT, get_session
from bot.retention import FORGET_SLOT, innermost
from bot.staff.review_models import DISMISSED, ReviewLabel

logger = logging.getLogger(__name__)

DEFAULT_LOW_CONFIDENCE = 0.5
PER_PAGE = 20
# The newest user messages scanned for one listing: a bound on the page's work on a busy store.
MAX_SCANNED = 20_000
MAX_REPLY_EVENTS = 40
CONFIG_FILE = PROJECT_ROOT / "config.yml"


@dataclass
class Missed:
    """One message to review (the newest of its wording) and what the assistant made of it."""
    event_id: int
    sender_id: str
    timestamp: float
    text: str
    channel: str
    reason: str
    guess: Optional[str] = None
    confidence: Optional[float] = None
    runner_up: Optional[str] = None  # the other topic of an ambiguous message
    times: int = 1
    replies: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class Thresholds:
    fallback: float = 0.3
    ambiguity: float = 0.1
    low_confidence: float = DEFAULT_LOW_CONFIDENCE


@dataclass
class Labelled:
    """What already has a label: exact messages, and their wording (so repeats are not listed)."""
    keys: Set[Tuple[str, float]] = field(default_factory=set)
    wordings: Set[str] = field(default_factory=set)


def wording(text: str) -> str:
    """The key for "the same message": case and spacing do not matter."""
    return " ".join(text.casefold().split())


def low_confidence(env: Optional[Dict[str, str]] = None) -> float:
    """The confidence under which a message is worth a look although the assistant answered it."""
    env = os.environ if env is None else env
    return float(env.get("REVIEW_LOW_CONFIDENCE") or DEFAULT_LOW_CONFIDENCE)


@lru_cache(maxsize=1)
def fallback_settings(path: Path = CONFIG_FILE) -> Tuple[float, float]:
    """FallbackClassifier's threshold and ambiguity threshold, as config.yml sets them."""
    try:
        pipeline = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    except OSError:
        pipeline = []
    for component in pipeline:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.3, 0.1


def thresholds() -> Thresholds:
    fallback, ambiguity = fallback_settings()
    return Thresholds(fallback, ambiguity, low_confidence())


def judge(parse: Dict[str, Any], policy_fell_back: bool, limits: Thresholds) -> Optional[Tuple[str, Optional[str], Optional[float], Optional[str]]]:
    """(reason, guessed topic, its confidence, the runner-up when ambiguous) for a message worth
    reviewing; None for one the assistant understood."""
    intent = parse.get("intent") or {}
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") and r.get("name") != FALLBACK_INTENT]
    name = intent.get("name")
    if name == FALLBACK_INTENT:
        best = ranking[0] if ranking else {}
        second = ranking[1] if len(ranking) > 1 else {}
        guess, confidence = best.get("name"), best.get("confidence")
        if (confidence is not None and confidence >= limits.fallback and second
                and confidence - float(second.get("confidence") or 0.0) < limits.ambiguity):
            return "ambiguous", guess, float(confidence), second.get("name")
        return "fallback", guess, None if confidence is None else float(confidence), None
    confidence = intent.get("confidence")
    confidence = None if confidence is None else float(confidence)
    if policy_fell_back:
        return "fallback", name, confidence, None
    if name and confidence is not None and confidence < limits.low_confidence:
        return "low_confidence", name, confidence, None
    return None


def private(text: str, parse: Dict[str, Any]) -> bool:
    """A crisis message (marked by the NLU, or speaking of one): never shown, never kept."""
    return crisis_tier(parse) is not None or keepable(text) is None


# -- the tracker store ---------------------------------------------------------------------------

def events_table(store: Any) -> Any:
    """The events table of Rasa's SQL tracker store (the configured one, inside Rasa's wrappers)."""
    inner = innermost(store)
    if not hasattr(inner, "engine") or not hasattr(inner, "SQLEvent"):
        raise LookupError(f"{type(inner).__name__} is not an SQL tracker store")
    return inner.engine, inner.SQLEvent.__table__


def _data(raw: Any) -> Dict[str, Any]:
    try:
        value = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def forgotten(connection: Connection, events: Any, cutoff: Optional[float]) -> Set[str]:
    """Conversations that asked to be forgotten and still have events (their deletion failed)."""
    query = select(events.c.sender_id, events.c.data).where(
        events.c.type_name == "slot", events.c.data.like(f'%"{FORGET_SLOT}"%'))
    if cutoff is not None:
        query = query.where(events.c.timestamp >= cutoff)
    return {sender for sender, raw in connection.execute(query)
            if _data(raw).get("name") == FORGET_SLOT and _data(raw).get("value") is True}


def _policy_fallbacks(connection: Connection, events: Any, cutoff: Optional[float],
                      user_ids: Dict[str, List[int]]) -> Set[int]:
    """Ids of the user messages answered by action_default_fallback (the latest message before it)."""
    query = select(events.c.sender_id, events.c.id).where(
        events.c.type_name == "action", events.c.action_name == FALLBACK_ACTION)
    if cutoff is not None:
        query = query.where(events.c.timestamp >= cutoff)
    found = set()
    for sender, action_id in connection.execute(query):
        ids = user_ids.get(sender) or []
        at = bisect.bisect_left(ids, action_id)
        if at:
            found.add(ids[at - 1])
    return found


def find_missed(store: Any, labelled: Labelled, now: float, retention_days: float,
                limits: Optional[Thresholds] = None) -> Tuple[List[Missed], bool]:
    """Every message to review, newest first, one per wording; and whether the scan hit MAX_SCANNED."""
    limits = limits or thresholds()
    engine, events = events_table(store)
    cutoff = now - retention_days * 86400.0 if retention_days > 0 else None
    query = select(events.c.id, events.c.sender_id, events.c.timestamp, events.c.data).where(
        events.c.type_name == "user").order_by(events.c.timestamp.desc(), events.c.id.desc()).limit(MAX_SCANNED)
    if cutoff is not None:
        query = query.where(events.c.timestamp >= cutoff)
    with engine.connect() as connection:
        rows = list(connection.execute(query))
        gone = forgotten(connection, events, cutoff)
        user_ids: Dict[str, List[int]] = defaultdict(list)
        for event_id, sender, _, _ in rows:
            user_ids[sender].append(event_id)
        for ids in user_ids.values():
            ids.sort()
        fell_back = _policy_fallbacks(connection, events, cutoff, user_ids)
    events_by_id = {event_id: _data(raw) for event_id, _, _, raw in rows}
    gone |= {sender for event_id, sender, _, _ in rows if _is_private(events_by_id[event_id])}
    found: Dict[str, Missed] = {}
    for event_id, sender, timestamp, _ in rows:
        if sender in gone or (sender, float(timestamp)) in labelled.keys:
            continue
        item = _missed(event_id, sender, float(timestamp), events_by_id[event_id], event_id in fell_back, limits)
        if item is None:
            continue
        key = wording(item.text)
        if key in labelled.wordings:
            continue
        if key in found:
            found[key].times += 1
        else:
            found[key] = item
    return list(found.values()), len(rows) >= MAX_SCANNED


def _is_private(event: Dict[str, Any]) -> bool:
    text = event.get("text")
    return private(text if isinstance(text, str) else "", event.get("parse_data") or {})


def _missed(event_id: int, sender: str, timestamp: float, event: Dict[str, Any], policy_fell_back: bool,
            limits: Thresholds) -> Optional[Missed]:
    text = event.get("text")
    if not isinstance(text, str) or not text.strip() or text.startswith("/"):
        return None
    parse = event.get("parse_data") or {}
    if private(text, parse):
        return None
    verdict = judge(parse, policy_fell_back, limits)
    if verdict is None:
        return None
    reason, guess, confidence, runner_up = verdict
    return Missed(event_id=event_id, sender_id=sender, timestamp=timestamp, text=text,
                  channel=event.get("input_channel") or "unknown", reason=reason, guess=guess,
                  confidence=confidence, runner_up=runner_up)


def _after(connection: Connection, events: Any, sender: str, event_id: int) -> List[Tuple[str, Dict[str, Any]]]:
    """The events of the turn that followed a user message (up to the next one)."""
    query = select(events.c.type_name, events.c.data).where(
        and_(events.c.sender_id == sender, events.c.id > event_id)).order_by(events.c.id).limit(MAX_REPLY_EVENTS)
    turn = []
    for kind, raw in connection.execute(query):
        if kind == "user":
            break
        turn.append((kind, _data(raw)))
    return turn


def _in_crisis(connection: Connection, events: Any, sender: str) -> bool:
    """Whether any message of the conversation spoke of a crisis."""
    query = select(events.c.data).where(events.c.sender_id == sender, events.c.type_name == "user")
    return any(_is_private(_data(raw)) for (raw,) in connection.execute(query))


def add_replies(store: Any, items: Sequence[Missed]) -> None:
    """What the assistant said back to each message (only for the page's own messages)."""
    engine, events = events_table(store)
    with engine.connect() as connection:
        for item in items:
            item.replies = [data.get("text") for kind, data in _after(connection, events, item.sender_id, item.event_id)
                            if kind == "bot" and data.get("text")]


def one_missed(store: Any, event_id: int, now: float, retention_days: float,
               limits: Optional[Thresholds] = None) -> Optional[Missed]:
    """The message with this event id, if it may still be reviewed (the same rules as the list)."""
    limits = limits or thresholds()
    engine, events = events_table(store)
    cutoff = now - retention_days * 86400.0 if retention_days > 0 else None
    with engine.connect() as connection:
        row = connection.execute(select(events.c.sender_id, events.c.timestamp, events.c.data).where(
            events.c.id == event_id, events.c.type_name == "user")).first()
        if row is None or (cutoff is not None and float(row.timestamp) < cutoff):
            return None
        if row.sender_id in forgotten(connection, events, cutoff) or _in_crisis(connection, events, row.sender_id):
            return None
        turn = _after(connection, events, row.sender_id, event_id)
    policy_fell_back = any(kind == "action" and data.get("name") == FALLBACK_ACTION for kind, data in turn)
    item = _missed(event_id, row.sender_id, float(row.timestamp), _data(row.data), policy_fell_back, limits)
    if item is not None:
        item.replies = [data.get("text") for kind, data in turn if kind == "bot" and data.get("text")]
    return item


# -- labels ---------------------------------------------------------------------------------------

def labelled(url: Optional[str] = None) -> Labelled:
    with get_session(url) as session:
        rows = session.execute(select(ReviewLabel.sender_id, ReviewLabel.message_at, ReviewLabel.text)).all()
    found = Labelled()
    for sender, at, text in rows:
        found.keys.add((sender, float(at)))
        if text:
            found.wordings.add(wording(text))
    return found


def save_label(item: Missed, intent: str, entities: Iterable[Dict[str, str]], user: str,
               url: Optional[str] = None) -> ReviewLabel:
    """Record the topic staff chose for a message (again: the newer choice wins). A dismissed
    message keeps no text."""
    dismissed = intent == DISMISSED
    with get_session(url) as session, session.begin():
        label = session.execute(select(ReviewLabel).where(
            ReviewLabel.sender_id == item.sender_id, ReviewLabel.message_at == item.timestamp)).scalar_one_or_none()
        if label is None:
            label = ReviewLabel(sender_id=item.sender_id, message_at=item.timestamp)
            session.add(label)
        label.text = "" if dismissed else item.text
        label.intent = intent
        label.entities = [] if dismissed else [dict(e) for e in entities]
        label.guessed_intent = item.guess
        label.guessed_confidence = item.confidence
        label.reason = item.reason
        label.labelled_by = user[:64]
        label.labelled_at = datetime.utcnow().replace(microsecond=0)
    return label


def all_labels(url: Optional[str] = None) -> List[ReviewLabel]:
    """Every label to export, oldest first (a later label of the same wording wins)."""
    with get_session(url) as session:
        return list(session.scalars(select(ReviewLabel).where(ReviewLabel.intent != DISMISSED)
                                    .order_by(ReviewLabel.labelled_at, ReviewLabel.id)))


def forget(sender_id: str, url: Optional[str] = None) -> int:
    """Delete the labels of one conversation ("forget me"); rewrite the export afterwards."""
    with get_session(url) as session, session.begin():
        return session.execute(delete(ReviewLabel).where(ReviewLabel.sender_id == sender_id)).rowcount or 0


def main(argv: Optional[List[str]] = None) -> int:
    from bot.staff import review_export

    parser = argparse.ArgumentParser(description="The review page's labels as Rasa NLU training data.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write the labelled messages to data/nlu/reviewed.yml")
    export.add_argument("--database-url", default=None, help="defaults to DATABASE_URL or SQLite")
    export.add_argument("--out", type=Path, default=None, help=f"defaults to {review_export.export_path()}")
    args = parser.parse_args(argv)
    path = args.out or review_export.export_path()
    try:
        count = review_export.export(args.database_url, path)
    except SQLAlchemyError as error:
        print(f"The labels could not be read ({type(error).__name__}): run `make kb` to bring the database "
              "up to date.", file=sys.stderr)
        return 1
    print(f"Wrote {count} reviewed example{'' if count == 1 else 's'} to {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
