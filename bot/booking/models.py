"""The booking request table.

It shares the knowledge base's database and metadata (DATABASE_URL: SQLite by default,
PostgreSQL in production), so one set of Alembic migrations covers both.

Times: `created_at`/`updated_at` are naive UTC. `preferred_at` is the wall-clock time the person
asked for at the spa, naive, in the spa's own time zone (`timezone` in data/kb/spa.yml): it is a
time on the spa's calendar, not an instant the server should convert.

`intake` is a JSON object built from the conversation (bot/booking/intake.py):
    {"conditions": [{"id", "name", "severity", "modification"}], "areas": [str],
     "goals": [str], "symptoms": [str], "pressure": str | None, "audiences": [str]}
Names are the knowledge base's display names, so the staff page shows them as they are.
"""
from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Integer, String

from bot.knowledge.models import Base

STATUSES = ("new", "confirmed", "done", "cancelled")
# The changes staff (or the person, for "cancelled") can make from each status.
TRANSITIONS = {
    "new": ("confirmed", "cancelled"),
    "confirmed": ("done", "cancelled"),
    "done": (),
    "cancelled": (),
}


class BookingRequest(Base):
    __tablename__ = "booking_requests"
    id = Column(Integer, primary_key=True)
    code = Column(String(8), nullable=False, unique=True, index=True)
    # The conversation it came from: deleted with it ("forget me") and by retention.
    sender_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    status = Column(String(16), nullable=False, default="new")
    created_at = Column(DateTime, nullable=False, index=True)
    updated_at = Column(DateTime, nullable=False)
    technique = Column(String(64), nullable=True)  # knowledge-base technique id
    technique_name = Column(String(128), nullable=True)
    minutes = Column(Integer, nullable=True)
    preferred_at = Column(DateTime, nullable=True)
    preferred_text = Column(String(200), nullable=True)  # the person's own words
    name = Column(String(120), nullable=True)  # none at the kiosk: reception asks in person
    phone = Column(String(32), nullable=True)  # E.164
    email = Column(String(254), nullable=True)
    intake = Column(JSON, nullable=False, default=dict)

    def as_dict(self) -> dict:
        return {column.name: getattr(self, column.name) for column in self.__table__.columns}
