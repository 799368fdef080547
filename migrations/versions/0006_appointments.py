"""Therapists, their hours and time off, rooms and appointments (bot/booking/appointments.py).

The spa's own records (like booking requests): a knowledge-base load never empties them.

On PostgreSQL the database itself refuses a double booking: two exclusion constraints over
`tsrange(starts_at, ends_at, '[)')` (the columns are naive UTC), one per therapist and one per room,
for held and confirmed appointments only, so a cancelled one or a released hold frees its time.
`therapist_id WITH =` inside a GiST index needs the `btree_gist` extension; it is created when
missing (a trusted extension since PostgreSQL 13, so the database's owner may create it) and left
in place on downgrade, since other schemas may use it. SQLite has no such constraint:
bot/booking/appointment_store.py checks for overlaps and writes inside one `BEGIN IMMEDIATE`
transaction there, which serialises every writer of the file.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("therapists", "therapist_hours", "therapist_time_off", "rooms", "appointments")

# name -> the column whose time may not overlap itself (bot/booking/appointments.py names them).
EXCLUSIONS = {
    "ex_appointments_therapist_time": "therapist_id",
    "ex_appointments_room_time": "room_id",
}


def upgrade() -> None:
    op.create_table(
        "therapists",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("techniques", sa.JSON(), nullable=False),
        sa.Column("certifications", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "therapist_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.String(length=64), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["therapists.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_therapist_hours_therapist_id", "therapist_hours", ["therapist_id"], unique=False)
    op.create_table(
        "therapist_time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("therapist_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["therapist_id"], ["therapists.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_therapist_time_off_therapist_id", "therapist_time_off", ["therapist_id"],
                    unique=False)
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("therapist_id", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.String(length=64), nullable=False),
        sa.Column("technique", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hold_expires_at", sa.DateTime(), nullable=True),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("booking_request", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("reminder_sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("starts_at < ends_at", name="ck_appointments_time_order"),
        sa.CheckConstraint("status IN ('held', 'confirmed', 'cancelled', 'no_show', 'done')",
                           name="ck_appointments_status"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"]),
        sa.ForeignKeyConstraint(["therapist_id"], ["therapists.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appointments_code", "appointments", ["code"], unique=True)
    op.create_index("ix_appointments_sender_id", "appointments", ["sender_id"], unique=False)
    op.create_index("ix_appointments_therapist_starts_at", "appointments", ["therapist_id", "starts_at"],
                    unique=False)
    op.create_index("ix_appointments_room_starts_at", "appointments", ["room_id", "starts_at"], unique=False)
    op.create_index("ix_appointments_status_starts_at", "appointments", ["status", "starts_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for name, column in EXCLUSIONS.items():
            op.execute(
                f"ALTER TABLE appointments ADD CONSTRAINT {name} EXCLUDE USING gist "
                f"({column} WITH =, tsrange(starts_at, ends_at, '[)') WITH &&) "
                "WHERE (status IN ('held', 'confirmed'))"
            )


def downgrade() -> None:
    op.drop_index("ix_appointments_status_starts_at", table_name="appointments")
    op.drop_index("ix_appointments_room_starts_at", table_name="appointments")
    op.drop_index("ix_appointments_therapist_starts_at", table_name="appointments")
    op.drop_index("ix_appointments_sender_id", table_name="appointments")
    op.drop_index("ix_appointments_code", table_name="appointments")
    op.drop_table("appointments")  # its exclusion constraints go with it
    op.drop_index("ix_therapist_time_off_therapist_id", table_name="therapist_time_off")
    op.drop_table("therapist_time_off")
    op.drop_index("ix_therapist_hours_therapist_id", table_name="therapist_hours")
    op.drop_table("therapist_hours")
    op.drop_table("rooms")
    op.drop_table("therapists")
