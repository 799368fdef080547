"""Reading and writing booking requests. Every function opens its own short session, so the
action server, the staff page and retention can call them without sharing state."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

from sqlalchemy import delete, or_, select

from bot.booking.models import STATUSES, TRANSITIONS, BookingRequest
from bot.knowledge.db import get_session

# Reference codes are read aloud and typed by reception: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 4


class InvalidTransition(ValueError):
    """A status change the workflow does not allow (for example done -> new)."""


def utcnow() -> datetime:
    return datetime.utcnow().replace(microsecond=0)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def create_request(
    *,
    sender_id: str,
    channel: str,
    technique: Optional[str] = None,
    technique_name: Optional[str] = None,
    minutes: Optional[int] = None,
    preferred_at: Optional[datetime] = None,
    preferred_text: Optional[str] = None,
    name: Optional[str] = None,
    phone: Optional[str] = None,
    email: Optional[str] = None,
    intake: Optional[Dict[str, Any]] = None,
    url: Optional[str] = None,
    now: Optional[datetime] = None,
) -> BookingRequest:
    """Store a new request under a fresh reference code (retried until unused)."""
    now = now or utcnow()
    with get_session(url) as session, session.begin():
        while True:
            code = new_code()
            if session.execute(select(BookingRequest.id).where(BookingRequest.code == code)).first() is None:
                break
        request = BookingRequest(
            code=code, sender_id=sender_id, channel=channel, status="new", created_at=now,
            updated_at=now, technique=technique, technique_name=technique_name, minutes=minutes,
            preferred_at=preferred_at, preferred_text=preferred_text, name=name, phone=phone,
            email=email, intake=intake or {},
        )
        session.add(request)
    return request


def _by_code(session: Any, code: str) -> Optional[BookingRequest]:
    return session.execute(
        select(BookingRequest).where(BookingRequest.code == normalise_code(code))
    ).scalar_one_or_none()


def get_by_code(code: str, url: Optional[str] = None) -> Optional[BookingRequest]:
    with get_session(url) as session:
        return _by_code(session, code)


def search(
    query: Optional[str] = None, status: Optional[str] = None, limit: int = 200, url: Optional[str] = None
) -> List[BookingRequest]:
    """Newest first; `query` matches the code exactly or a part of the name."""
    statement = select(BookingRequest).order_by(BookingRequest.created_at.desc(), BookingRequest.id.desc())
    if query and query.strip():
        text = query.strip()
        statement = statement.where(
            or_(BookingRequest.code == normalise_code(text), BookingRequest.name.ilike(f"%{_escape_like(text)}%", escape="\\"))
        )
    if status:
        statement = statement.where(BookingRequest.status == status)
    with get_session(url) as session:
        return list(session.execute(statement.limit(limit)).scalars())


def set_status(code: str, status: str, url: Optional[str] = None, now: Optional[datetime] = None) -> BookingRequest:
    """Move a request along new -> confirmed -> done, or to cancelled; raises on anything else."""
    if status not in STATUSES:
        raise InvalidTransition(f"unknown status {status!r}")
    with get_session(url) as session, session.begin():
        request = _by_code(session, code)
        if request is None:
            raise LookupError(code)
        if status != request.status:
            if status not in TRANSITIONS[request.status]:
                raise InvalidTransition(f"{request.status} -> {status}")
            request.status = status
            request.updated_at = now or utcnow()
    return request


def latest_for_sender(sender_id: str, url: Optional[str] = None) -> Optional[BookingRequest]:
    """The person's most recent request in this conversation (to change or cancel it)."""
    with get_session(url) as session:
        return session.execute(
            select(BookingRequest)
            .where(BookingRequest.sender_id == sender_id)
            .order_by(BookingRequest.created_at.desc(), BookingRequest.id.desc())
            .limit(1)
        ).scalar_one_or_none()


def update_request(code: str, url: Optional[str] = None, now: Optional[datetime] = None, **changes: Any) -> BookingRequest:
    """Change the time, service or contact of a request the person has not had confirmed yet."""
    allowed = {"technique", "technique_name", "minutes", "preferred_at", "preferred_text", "name", "phone", "email", "intake"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    with get_session(url) as session, session.begin():
        request = _by_code(session, code)
        if request is None:
            raise LookupError(code)
        for key, value in changes.items():
            setattr(request, key, value)
        request.updated_at = now or utcnow()
    return request


def delete_for_sender(sender_id: str, url: Optional[str] = None) -> int:
    """'Forget me': the conversation's booking requests go with it."""
    with get_session(url) as session, session.begin():
        result = session.execute(delete(BookingRequest).where(BookingRequest.sender_id == sender_id))
        return result.rowcount or 0


def purge_older_than(days: float, url: Optional[str] = None, now: Optional[datetime] = None) -> int:
    """Delete requests created more than `days` ago (booking retention)."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    with get_session(url) as session, session.begin():
        result = session.execute(delete(BookingRequest).where(BookingRequest.created_at < cutoff))
        return result.rowcount or 0


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
