"""The floor's time: a session's speaking-time budgets per stakeholder family, and the
room's running tally of time used and turns by north and south.

Revision ID: 0011_floor
Revises: 0010_family_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_floor"
down_revision = "0010_family_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("room_sessions") as batch:
        batch.add_column(
            sa.Column("family_budgets", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("floor_tally", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("floor_tally")
    with op.batch_alter_table("room_sessions") as batch:
        batch.drop_column("family_budgets")
