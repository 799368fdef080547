"""Crisis resources per country (bot/knowledge/models.py, data/kb/crisis.yml).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("crisis_resources",)


def upgrade() -> None:
    op.create_table(
        "crisis_resources",
        sa.Column("id", sa.String(length=8), nullable=False),
        sa.Column("country", sa.String(length=64), nullable=False),
        sa.Column("emergency", sa.String(length=32), nullable=False),
        sa.Column("crisis_line", sa.Text(), nullable=False),
        sa.Column("abuse_line", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("crisis_resources")
