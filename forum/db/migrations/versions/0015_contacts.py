"""Contact points' directory entries, contact requests and their private conversations.

Revision ID: 0015_contacts
Revises: 0014_records
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_contacts"
down_revision = "0014_records"
branch_labels = None
depends_on = None


def _user(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "contact_entries",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expertise", sa.Text(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _user("user_id", "contact_entries"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_contact_entries")),
    )
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("answer_seq", sa.Integer(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        _user("requester_id", "contact_requests"),
        _user("contact_id", "contact_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_requests")),
    )
    op.create_index("ix_contact_requests_requester_id", "contact_requests", ["requester_id"])
    op.create_index("ix_contact_requests_contact_id", "contact_requests", ["contact_id"])
    op.create_index(
        "uq_contact_requests_pending_pair",
        "contact_requests",
        ["requester_id", "contact_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "contact_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["contact_requests.id"],
            name=op.f("fk_contact_messages_request_id_contact_requests"),
            ondelete="CASCADE",
        ),
        _user("author_id", "contact_messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_messages")),
        sa.UniqueConstraint("request_id", "seq", name="uq_contact_messages_request_id_seq"),
    )


def downgrade() -> None:
    op.drop_table("contact_messages")
    op.drop_index("uq_contact_requests_pending_pair", table_name="contact_requests")
    op.drop_index("ix_contact_requests_contact_id", table_name="contact_requests")
    op.drop_index("ix_contact_requests_requester_id", table_name="contact_requests")
    op.drop_table("contact_requests")
    op.drop_table("contact_entries")
