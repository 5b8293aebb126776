"""discussions: boards, threads, nested posts, revisions, co-signatures, search

Revision ID: 0002_discussions
Revises: 0001_foundation

Search is the one part that differs by backend. On SQLite, `posts_fts` is an FTS5
table over `posts(title, plain)` with external content (the text is stored once, in
`posts`), kept in step by triggers; deleted posts leave the index. On PostgreSQL,
`posts.search_vector` is a stored generated tsvector (title weighted above the body)
with a GIN index. See forum/db/search.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_discussions"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

_SQLITE_SEARCH = [
    """
    CREATE VIRTUAL TABLE posts_fts USING fts5(
        title, plain, content='posts', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts WHEN new.deleted_at IS NULL
    BEGIN
        INSERT INTO posts_fts(rowid, title, plain) VALUES (new.id, new.title, new.plain);
    END
    """,
    """
    CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts WHEN old.deleted_at IS NULL
    BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, plain)
        VALUES ('delete', old.id, old.title, old.plain);
    END
    """,
    # One trigger for both halves of an update, so that the old entry always leaves
    # the index before the new one enters it.
    """
    CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, plain, deleted_at ON posts
    BEGIN
        INSERT INTO posts_fts(posts_fts, rowid, title, plain)
        SELECT 'delete', old.id, old.title, old.plain WHERE old.deleted_at IS NULL;
        INSERT INTO posts_fts(rowid, title, plain)
        SELECT new.id, new.title, new.plain WHERE new.deleted_at IS NULL;
    END
    """,
]

_POSTGRES_SEARCH = [
    """
    ALTER TABLE posts ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple', coalesce(plain, '')), 'B')
    ) STORED
    """,
    "CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "boards",
        sa.Column("action_line_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_line_id"],
            ["action_lines.id"],
            name=op.f("fk_boards_action_line_id_action_lines"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_line_id", name=op.f("pk_boards")),
    )
    op.create_table(
        "threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_line_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_post_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("position_count", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_line_id"],
            ["action_lines.id"],
            name=op.f("fk_threads_action_line_id_action_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_threads_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["locked_by"], ["users.id"], name=op.f("fk_threads_locked_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
    )
    op.create_index("ix_threads_line_activity", "threads", ["action_line_id", "last_post_at", "id"])
    op.create_index("ix_threads_line_seq", "threads", ["action_line_id", "seq"])
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=160), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("plain", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision_count", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_posts_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["posts.id"], name=op.f("fk_posts_parent_id_posts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_posts_group_id_groups"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by"], ["users.id"], name=op.f("fk_posts_deleted_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
        sa.UniqueConstraint("thread_id", "path", name="uq_posts_thread_path"),
    )
    op.create_index("ix_posts_thread_seq", "posts", ["thread_id", "seq"])
    op.create_index("ix_posts_group_created", "posts", ["group_id", "created_at"])
    op.create_index("ix_posts_kind_created", "posts", ["kind", "created_at"])
    op.create_table(
        "post_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["editor_id"], ["users.id"], name=op.f("fk_post_revisions_editor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
        sa.UniqueConstraint("post_id", "number", name="uq_post_revisions_post_number"),
    )
    op.create_table(
        "cosignatures",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("signed_by", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_cosignatures_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_cosignatures_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["signed_by"], ["users.id"], name=op.f("fk_cosignatures_signed_by_users")
        ),
        sa.PrimaryKeyConstraint("post_id", "group_id", name=op.f("pk_cosignatures")),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": _SQLITE_SEARCH, "postgresql": _POSTGRES_SEARCH}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS posts_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS posts_fts")
    op.drop_table("cosignatures")
    op.drop_table("post_revisions")
    op.drop_index("ix_posts_kind_created", table_name="posts")
    op.drop_index("ix_posts_group_created", table_name="posts")
    op.drop_index("ix_posts_thread_seq", table_name="posts")
    op.drop_table("posts")
    op.drop_index("ix_threads_line_seq", table_name="threads")
    op.drop_index("ix_threads_line_activity", table_name="threads")
    op.drop_table("threads")
    op.drop_table("boards")
