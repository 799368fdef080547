"""Labels for the messages the assistant missed (bot/staff/review_models.py).

The spa's own records (like booking requests): a knowledge-base load never empties them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("review_labels",)


def upgrade() -> None:
    op.create_table(
        "review_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("message_at", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("guessed_intent", sa.String(length=64), nullable=True),
        sa.Column("guessed_confidence", sa.Float(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("labelled_by", sa.String(length=64), nullable=False),
        sa.Column("labelled_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", "message_at", name="uq_review_labels_message"),
    )
    op.create_index("ix_review_labels_sender_id", "review_labels", ["sender_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_review_labels_sender_id", table_name="review_labels")
    op.drop_table("review_labels")
