"""Booking requests (bot/booking/models.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("booking_requests",)


def upgrade() -> None:
    op.create_table(
        "booking_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("technique", sa.String(length=64), nullable=True),
        sa.Column("technique_name", sa.String(length=128), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("preferred_at", sa.DateTime(), nullable=True),
        sa.Column("preferred_text", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("intake", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_booking_requests_code", "booking_requests", ["code"], unique=True)
    op.create_index("ix_booking_requests_sender_id", "booking_requests", ["sender_id"], unique=False)
    op.create_index("ix_booking_requests_created_at", "booking_requests", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_booking_requests_created_at", table_name="booking_requests")
    op.drop_index("ix_booking_requests_sender_id", table_name="booking_requests")
    op.drop_index("ix_booking_requests_code", table_name="booking_requests")
    op.drop_table("booking_requests")
