"""A session's audio or video conference link.

Revision ID: 0009_voice
Revises: 0008_user_locale
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_voice"
down_revision = "0008_user_locale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: most sessions are held in the room alone.
    with op.batch_alter_table("room_sessions") as batch:
        batch.add_column(sa.Column("conference_url", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("room_sessions") as batch:
        batch.drop_column("conference_url")
