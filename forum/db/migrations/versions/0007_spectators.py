"""Signed-out spectators of a room: one row per connection, counted, never listed.

Revision ID: 0007_spectators
Revises: 0006_rooms_for_groups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_spectators"
down_revision = "0006_rooms_for_groups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "room_spectators",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=36), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_room_spectators_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_spectators")),
    )
    op.create_index("ix_room_spectators_room_id", "room_spectators", ["room_id"])
    op.create_index("ix_room_spectators_worker", "room_spectators", ["worker"])


def downgrade() -> None:
    op.drop_index("ix_room_spectators_worker", table_name="room_spectators")
    op.drop_index("ix_room_spectators_room_id", table_name="room_spectators")
    op.drop_table("room_spectators")
