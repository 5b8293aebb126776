"""Access windows on sessions, and observer requests to groups.

Revision ID: 0013_access
Revises: 0012_meetings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_access"
down_revision = "0012_meetings"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "access_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", _WHEN, nullable=False),
        sa.Column("ends_at", _WHEN, nullable=False),
        sa.Column("offset_s", sa.Integer(), nullable=True),
        sa.Column("families", sa.JSON(), nullable=False),
        sa.Column("group_ids", sa.JSON(), nullable=False),
        sa.Column("seat", sa.String(length=20), nullable=False),
        sa.Column("after", sa.String(length=20), nullable=False),
        sa.Column("ended_at", _WHEN, nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_access_windows_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["room_sessions.id"],
            name=op.f("fk_access_windows_session_id_room_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_access_windows_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_windows")),
    )
    op.create_index("ix_access_windows_session_id", "access_windows", ["session_id"])
    op.create_index("ix_access_windows_ended_at_ends_at", "access_windows", ["ended_at", "ends_at"])
    op.create_table(
        "observer_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("caucus_id", sa.Integer(), nullable=True),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_observer_requests_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_observer_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["caucus_id"],
            ["groups.id"],
            name=op.f("fk_observer_requests_caucus_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_observer_requests_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observer_requests")),
    )
    op.create_index(
        "ix_observer_requests_group_id_status", "observer_requests", ["group_id", "status"]
    )
    for name, column, where in (
        ("uq_observer_requests_pending_user", "user_id", "caucus_id IS NULL"),
        ("uq_observer_requests_pending_caucus", "caucus_id", "caucus_id IS NOT NULL"),
    ):
        condition = sa.text(f"status = 'pending' AND {where}")
        op.create_index(
            name,
            "observer_requests",
            ["group_id", column],
            unique=True,
            sqlite_where=condition,
            postgresql_where=condition,
        )


def downgrade() -> None:
    op.drop_index("uq_observer_requests_pending_caucus", table_name="observer_requests")
    op.drop_index("uq_observer_requests_pending_user", table_name="observer_requests")
    op.drop_index("ix_observer_requests_group_id_status", table_name="observer_requests")
    op.drop_table("observer_requests")
    op.drop_index("ix_access_windows_ended_at_ends_at", table_name="access_windows")
    op.drop_index("ix_access_windows_session_id", table_name="access_windows")
    op.drop_table("access_windows")
