"""The spa's price list and the saved versions of its own content (bot/knowledge/models.py).

`prices` is knowledge base (rewritten from the YAML on every load); `content_versions` holds the
spa's saved edits from the staff page and is never emptied by a load.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The knowledge-base tables this revision creates (bot/knowledge/migrate.py drops exactly these
# when it adopts a database built before migrations); the spa's saved content is kept apart.
TABLES = ("prices",)
CONTENT_TABLES = ("content_versions",)


def upgrade() -> None:
    op.create_table(
        "prices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=128), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("price", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "content_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )


def downgrade() -> None:
    op.drop_table("content_versions")
    op.drop_table("prices")
