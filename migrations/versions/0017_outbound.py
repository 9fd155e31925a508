"""outbound: outbound calls and their attempts (retries scheduled once, started once)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(owner: str, column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{table}.id"],
        name=op.f(f"fk_{owner}_{column}_{table}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "outbound_calls",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column(
            "skills",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("script", sa.Text(), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('service', 'marketing')", name=op.f("ck_outbound_calls_purpose")
        ),
        sa.CheckConstraint(
            "state IN ('active', 'done', 'suppressed')", name=op.f("ck_outbound_calls_state")
        ),
        _fk("outbound_calls", "customer_id", "customers", "CASCADE"),
        _fk("outbound_calls", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_calls")),
    )
    op.create_index("ix_outbound_calls_customer", "outbound_calls", ["customer_id"])
    op.create_table(
        "outbound_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("call_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "state IN ('scheduled', 'started', 'done', 'suppressed', 'cancelled')",
            name=op.f("ck_outbound_attempts_state"),
        ),
        _fk("outbound_attempts", "call_id", "outbound_calls", "CASCADE"),
        _fk("outbound_attempts", "contact_id", "contacts", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_attempts")),
        sa.UniqueConstraint(
            "call_id", "attempt", name=op.f("uq_outbound_attempts_call_id_attempt")
        ),
    )
    op.create_index(
        "ix_outbound_attempts_due",
        "outbound_attempts",
        ["due_at"],
        postgresql_where=sa.text("state = 'scheduled'"),
    )
    op.create_index(
        "ix_outbound_attempts_contact", "outbound_attempts", ["contact_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_attempts_contact", table_name="outbound_attempts")
    op.drop_index("ix_outbound_attempts_due", table_name="outbound_attempts")
    op.drop_table("outbound_attempts")
    op.drop_index("ix_outbound_calls_customer", table_name="outbound_calls")
    op.drop_table("outbound_calls")
