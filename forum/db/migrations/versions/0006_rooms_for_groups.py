"""Every group has its room: rooms were made on first use, by whatever request named
them first, a GET among them. Now they are made with their groups (the seed), and this
makes the missing ones of groups that already exist.

Revision ID: 0006_rooms_for_groups
Revises: 0005_presence_lookups
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_rooms_for_groups"
down_revision = "0005_presence_lookups"
branch_labels = None
depends_on = None

groups = sa.table("groups", sa.column("id", sa.Integer()))
rooms = sa.table(
    "rooms",
    sa.column("group_id", sa.Integer()),
    sa.column("last_seq", sa.Integer()),
    sa.column("presence_ver", sa.Integer()),
    sa.column("queue_policy", sa.String()),
    sa.column("observer_seats", sa.JSON()),
    sa.column("open_session_id", sa.Integer()),
    sa.column("queue", sa.JSON()),
    sa.column("floor", sa.JSON()),
    sa.column("spoken", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    missing = (
        op.get_bind()
        .execute(sa.select(groups.c.id).where(groups.c.id.not_in(sa.select(rooms.c.group_id))))
        .scalars()
        .all()
    )
    now = datetime.now(UTC)
    # The values a new room has (forum.db.models.Room's defaults).
    op.bulk_insert(
        rooms,
        [
            {
                "group_id": group_id,
                "last_seq": 0,
                "presence_ver": 0,
                "queue_policy": "fifo",
                "observer_seats": {"civil_society": 1},
                "open_session_id": None,
                "queue": [],
                "floor": None,
                "spoken": {},
                "created_at": now,
            }
            for group_id in missing
        ],
    )


def downgrade() -> None:
    """Nothing to undo: a room is its group's, whenever it was made."""
