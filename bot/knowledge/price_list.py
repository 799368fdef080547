"""The spa's price list as the action server reads it: the `prices` rows, in the spa's order.

Read once per version of the knowledge base (`queries.kb_version`, one indexed read per call), so
a price saved on the staff page is quoted on the next message, by every action server, without a
restart.
"""
from __future__ import annotations

from typing import Dict, Tuple

from sqlalchemy import select

from bot.knowledge import models, queries
from bot.knowledge.db import database_url, get_session
from bot.knowledge.prices import Price

_by_version: Dict[Tuple[str, str], Tuple[Price, ...]] = {}


def price_list() -> Tuple[Price, ...]:
    """Every price line, as the spa listed them."""
    version = (database_url(), queries.kb_version())
    if version not in _by_version:
        _by_version.clear()
        _by_version[version] = _read()
    return _by_version[version]


def _read() -> Tuple[Price, ...]:
    with get_session() as session:
        rows = session.execute(select(models.Price).order_by(models.Price.position)).scalars()
        return tuple(Price(row.service, row.minutes, row.price) for row in rows)
