"""Presence lookups that do not grow with the room: a person's latest connection and
the observer seats taken are read on every join.

Revision ID: 0005_presence_lookups
Revises: 0004_join
"""

from __future__ import annotations

from alembic import op

revision = "0005_presence_lookups"
down_revision = "0004_join"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_room_presence_room_id_user_id", table_name="room_presence")
    op.create_index(
        "ix_room_presence_room_id_user_id_joined_at",
        "room_presence",
        ["room_id", "user_id", "joined_at"],
    )
    op.create_index(
        "ix_room_presence_room_id_seat",
        "room_presence",
        ["room_id", "seat", "user_id", "family"],
    )


def downgrade() -> None:
    op.drop_index("ix_room_presence_room_id_seat", table_name="room_presence")
    op.drop_index("ix_room_presence_room_id_user_id_joined_at", table_name="room_presence")
    op.create_index("ix_room_presence_room_id_user_id", "room_presence", ["room_id", "user_id"])
