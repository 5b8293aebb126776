"""Join the discussions and rooms branches into one line of migrations.

Revision ID: 0004_join
Revises: 0002_discussions, 0003_rooms
"""

from __future__ import annotations

revision = "0004_join"
down_revision = ("0002_discussions", "0003_rooms")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the two branches touch separate tables."""


def downgrade() -> None:
    """Nothing to undo."""
