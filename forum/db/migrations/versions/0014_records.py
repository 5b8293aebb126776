"""A closed session's minutes and follow-ups with every change to them; the calendar
entry's SEQUENCE of each session; the keys of people's private calendar addresses.

Revision ID: 0014_records
Revises: 0013_access
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_records"
down_revision = "0013_access"
branch_labels = None
depends_on = None


def _user_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete=ondelete
    )


def _session_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"],
        ["room_sessions.id"],
        name=op.f(f"fk_{table}_session_id_room_sessions"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    with op.batch_alter_table("room_sessions") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("revised_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "session_minutes",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _session_fk("session_minutes"),
        _user_fk("session_minutes", "updated_by", "SET NULL"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_minutes")),
    )
    op.create_table(
        "session_follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=300), nullable=False),
        sa.Column("owner_group_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _session_fk("session_follow_ups"),
        sa.ForeignKeyConstraint(
            ["owner_group_id"],
            ["groups.id"],
            name=op.f("fk_session_follow_ups_owner_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_follow_ups")),
    )
    op.create_index("ix_session_follow_ups_session_id", "session_follow_ups", ["session_id"])
    op.create_table(
        "session_record_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("op", sa.String(length=20), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _session_fk("session_record_changes"),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["session_follow_ups.id"],
            name=op.f("fk_session_record_changes_follow_up_id_session_follow_ups"),
            ondelete="CASCADE",
        ),
        _user_fk("session_record_changes", "actor_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_record_changes")),
    )
    op.create_index(
        "ix_session_record_changes_session_id", "session_record_changes", ["session_id", "id"]
    )
    op.create_table(
        "calendar_keys",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _user_fk("calendar_keys", "user_id", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_keys")),
        sa.UniqueConstraint("key", name=op.f("uq_calendar_keys_key")),
    )


def downgrade() -> None:
    op.drop_table("calendar_keys")
    op.drop_index("ix_session_record_changes_session_id", table_name="session_record_changes")
    op.drop_table("session_record_changes")
    op.drop_index("ix_session_follow_ups_session_id", table_name="session_follow_ups")
    op.drop_table("session_follow_ups")
    op.drop_table("session_minutes")
    with op.batch_alter_table("room_sessions") as batch:
        batch.drop_column("revised_at")
        batch.drop_column("sequence")
