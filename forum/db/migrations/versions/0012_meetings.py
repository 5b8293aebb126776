"""Meetings with a room of their own: briefings and consultations.

A room may now belong to no group (a meeting's); the sides' turns of a consultation
are counted on the room.

Revision ID: 0012_meetings
Revises: 0011_floor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_meetings"
down_revision = "0011_floor"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.alter_column("group_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(
            sa.Column("side_turns", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("transcript_closed", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("outcome_html", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("meetings", "room_id", "rooms", "CASCADE"),
        _fk("meetings", "session_id", "room_sessions", "SET NULL"),
        _fk("meetings", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("room_id", name=op.f("uq_meetings_room_id")),
    )
    op.create_table(
        "meeting_people",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("side_group_id", sa.Integer(), nullable=True),
        sa.Column("named_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("meeting_people", "meeting_id", "meetings", "CASCADE"),
        _fk("meeting_people", "user_id", "users", "CASCADE"),
        _fk("meeting_people", "side_group_id", "groups", "CASCADE"),
        _fk("meeting_people", "named_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("meeting_id", "user_id", name=op.f("pk_meeting_people")),
    )
    op.create_index("ix_meeting_people_user_id", "meeting_people", ["user_id"])
    op.create_table(
        "consultations",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=10), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("host_group_id", sa.Integer(), nullable=False),
        sa.Column("guest_group_id", sa.Integer(), nullable=False),
        sa.Column("seats_per_side", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("awaiting_group_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("counter_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counter_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("short_notice", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        _fk("consultations", "meeting_id", "meetings", "CASCADE"),
        _fk("consultations", "host_group_id", "groups", "CASCADE"),
        _fk("consultations", "guest_group_id", "groups", "CASCADE"),
        _fk("consultations", "awaiting_group_id", "groups", "SET NULL"),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_consultations")),
    )
    op.create_index("ix_consultations_host_group_id", "consultations", ["host_group_id"])
    op.create_index("ix_consultations_guest_group_id", "consultations", ["guest_group_id"])


def downgrade() -> None:
    op.drop_index("ix_consultations_guest_group_id", table_name="consultations")
    op.drop_index("ix_consultations_host_group_id", table_name="consultations")
    op.drop_table("consultations")
    op.drop_index("ix_meeting_people_user_id", table_name="meeting_people")
    op.drop_table("meeting_people")
    op.drop_table("meetings")
    op.execute("DELETE FROM rooms WHERE group_id IS NULL")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("side_turns")
        batch.alter_column("group_id", existing_type=sa.Integer(), nullable=False)
