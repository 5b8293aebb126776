"""Requests to change one's stakeholder family, waiting for the secretariat.

Revision ID: 0010_family_requests
Revises: 0009_voice
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_family_requests"
down_revision = "0009_voice"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("previous", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_family_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_family_requests_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_family_requests")),
    )
    op.create_index("ix_family_requests_user_id_status", "family_requests", ["user_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_family_requests_user_id_status", table_name="family_requests")
    op.drop_table("family_requests")
