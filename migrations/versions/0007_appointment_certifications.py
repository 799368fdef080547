"""The training an appointment needs (pregnancy -> prenatal), kept with it: a move by SMS, in a
later conversation or on the staff page must stay with a therapist who has it, and those know
nothing of the chat where the person told us.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("certifications", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("certifications")
