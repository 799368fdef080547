"""Therapists, their hours and time off, rooms, and appointments.

They share the knowledge base's database and metadata (DATABASE_URL: SQLite by default,
PostgreSQL in production), so one set of Alembic migrations covers them
(migrations/versions/0006_appointments.py). They are the spa's own records: a knowledge-base load
never rewrites them, because appointments point at therapists and rooms (retire a therapist by
setting `active` to false, never by deleting the row).

Times: instants (appointments, time off) are stored as naive UTC and read and written as aware UTC
datetimes through `UTCDateTime`, so no caller can mix up the server's clock and the spa's.
Weekly hours are wall-clock times in the spa's own time zone (`timezone` in data/kb/spa.yml):
"Tuesdays 10:00-18:00" stays 10:00 through a daylight-saving change.

No double booking: on PostgreSQL two exclusion constraints (EX_THERAPIST_TIME, EX_ROOM_TIME) refuse
a second live appointment (held or confirmed) over any part of the same therapist's or room's
time, whoever writes the row. SQLite cannot express that, so bot/booking/appointment_store.py
checks and writes under one `BEGIN IMMEDIATE` lock there.

An appointment's `ends_at` includes the buffer after the service (turning the room, notes), so
`ends_at - starts_at` is what the therapist and the room are busy for; `minutes` is the service.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Time,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bot.knowledge.models import Base

STATUSES = ("held", "confirmed", "cancelled", "no_show", "done")
# The statuses that occupy the therapist and the room; the constraints apply to these only, so a
# cancelled appointment (or a released hold) frees its time.
LIVE_STATUSES = ("held", "confirmed")
EX_THERAPIST_TIME = "ex_appointments_therapist_time"
EX_ROOM_TIME = "ex_appointments_room_time"


class UTCDateTime(TypeDecorator):
    """An instant: aware UTC in Python, naive UTC in the database (tsrange on PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"an aware datetime is needed, not the naive {value.isoformat()}")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Optional[datetime], dialect: Dialect) -> Optional[datetime]:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Therapist(Base):
    __tablename__ = "therapists"
    id = Column(String(64), primary_key=True)  # a slug, e.g. "maria"
    name = Column(String(120), nullable=False)
    gender = Column(String(16), nullable=True)  # for "a woman therapist please"; optional
    techniques = Column(JSON, nullable=False, default=list)  # knowledge-base technique ids
    certifications = Column(JSON, nullable=False, default=list)  # e.g. ["prenatal", "oncology"]
    active = Column(Boolean, nullable=False, default=True)


class TherapistHours(Base):
    """One working stretch on one weekday; a break is the gap between two stretches."""

    __tablename__ = "therapist_hours"
    id = Column(Integer, primary_key=True)
    therapist_id = Column(String(64), ForeignKey("therapists.id"), nullable=False, index=True)
    weekday = Column(Integer, nullable=False)  # 0 = Monday, as datetime.weekday()
    start_time = Column(Time, nullable=False)  # the spa's wall clock
    end_time = Column(Time, nullable=False)


class TherapistTimeOff(Base):
    __tablename__ = "therapist_time_off"
    id = Column(Integer, primary_key=True)
    therapist_id = Column(String(64), ForeignKey("therapists.id"), nullable=False, index=True)
    starts_at = Column(UTCDateTime, nullable=False)
    ends_at = Column(UTCDateTime, nullable=False)
    reason = Column(String(200), nullable=True)


class Room(Base):
    __tablename__ = "rooms"
    id = Column(String(64), primary_key=True)
    name = Column(String(120), nullable=False)
    kind = Column(String(32), nullable=False)  # e.g. "treatment", "couples"


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="ck_appointments_time_order"),
        CheckConstraint("status IN ('held', 'confirmed', 'cancelled', 'no_show', 'done')",
                        name="ck_appointments_status"),
        Index("ix_appointments_therapist_starts_at", "therapist_id", "starts_at"),
        Index("ix_appointments_room_starts_at", "room_id", "starts_at"),
        Index("ix_appointments_status_starts_at", "status", "starts_at"),
    )

    id = Column(Integer, primary_key=True)
    # Read aloud and typed like a booking request's code (same alphabet, never the same code).
    code = Column(String(8), nullable=False, unique=True, index=True)
    therapist_id = Column(String(64), ForeignKey("therapists.id"), nullable=False)
    room_id = Column(String(64), ForeignKey("rooms.id"), nullable=False)
    technique = Column(String(64), nullable=False)  # knowledge-base technique id
    service = Column(String(128), nullable=True)  # the price list's name for it, as shown
    minutes = Column(Integer, nullable=False)  # the service itself, without the buffer
    starts_at = Column(UTCDateTime, nullable=False)
    ends_at = Column(UTCDateTime, nullable=False)  # includes the buffer after the service
    status = Column(String(16), nullable=False)
    # While held: when the hold lapses. Cleared on confirming or cancelling; kept on a hold that
    # lapsed and was released, which is how "it ran out" stays apart from "it was cancelled".
    hold_expires_at = Column(UTCDateTime, nullable=True)
    # The conversation it came from, like booking requests.
    sender_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    name = Column(String(120), nullable=True)
    phone = Column(String(32), nullable=True)  # E.164
    email = Column(String(254), nullable=True)
    booking_request = Column(String(8), nullable=True)  # the request's code (with the intake), if any
    # The training the client needs from whoever sees them (["prenatal"]), from the chat's intake:
    # kept so that moving the appointment later, from anywhere, keeps to it. None: none needed.
    certifications = Column(JSON, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
    reminder_sent_at = Column(UTCDateTime, nullable=True)

    def as_dict(self) -> dict:
        return {column.name: getattr(self, column.name) for column in self.__table__.columns}

    def __repr__(self) -> str:
        return f"<Appointment {self.code} {self.status} {self.therapist_id}/{self.room_id} {self.starts_at}>"
