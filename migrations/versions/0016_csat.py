"""csat: one survey per contact, with its answer (score 1-5, comment)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{table}.id"],
        name=op.f(f"fk_csat_surveys_{column}_{table}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "csat_surveys",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("queue_id", sa.BigInteger(), nullable=True),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment_erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('voice', 'email', 'chat')", name=op.f("ck_csat_surveys_channel")
        ),
        sa.CheckConstraint(
            "score IS NULL OR score BETWEEN 1 AND 5", name=op.f("ck_csat_surveys_score")
        ),
        sa.CheckConstraint(
            "(score IS NULL) = (answered_at IS NULL)", name=op.f("ck_csat_surveys_answered")
        ),
        _fk("contact_id", "contacts", "CASCADE"),
        _fk("customer_id", "customers", "SET NULL"),
        _fk("agent_id", "users", "SET NULL"),
        _fk("queue_id", "queues", "SET NULL"),
        _fk("case_id", "cases", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_surveys")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_csat_surveys_contact_id")),
    )
    op.create_index("ix_csat_surveys_offered", "csat_surveys", ["offered_at"])
    op.create_index("ix_csat_surveys_customer", "csat_surveys", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_csat_surveys_customer", table_name="csat_surveys")
    op.drop_index("ix_csat_surveys_offered", table_name="csat_surveys")
    op.drop_table("csat_surveys")
