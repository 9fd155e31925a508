"""canned replies: bilingual snippets per team, one shortcut per team and language

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("language IN ('zh-CN', 'en')", name=op.f("ck_canned_replies_language")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_canned_replies_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
    )
    op.create_index(
        "uq_canned_replies_shortcut_every_team",
        "canned_replies",
        ["language", "shortcut"],
        unique=True,
        postgresql_where=sa.text("team IS NULL"),
    )
    op.create_index(
        "uq_canned_replies_team_shortcut",
        "canned_replies",
        ["team", "language", "shortcut"],
        unique=True,
        postgresql_where=sa.text("team IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_canned_replies_team_shortcut", table_name="canned_replies")
    op.drop_index("uq_canned_replies_shortcut_every_team", table_name="canned_replies")
    op.drop_table("canned_replies")
