"""A person's language and time zone, for pages, error messages and dates.

Revision ID: 0008_user_locale
Revises: 0007_spectators
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_user_locale"
down_revision = "0007_spectators"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: unset means "follow the browser" (cookie, then Accept-Language; UTC).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(16), nullable=True))
        batch.add_column(sa.Column("time_zone", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone")
        batch.drop_column("language")
