"""care: proactive care rules and the touches they create; customers.birthday

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSONB = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.add_column("customers", sa.Column("birthday", sa.Date(), nullable=True))
    op.create_table(
        "care_rules",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("audience", _JSONB, server_default="{}", nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("templates", _JSONB, nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("skills", _JSONB, server_default="[]", nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("send_time", sa.Time(), server_default="10:00", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "trigger IN ('birthday', 'after_sale', 'vip_expiry', 'vip_granted', 'dormant',"
            " 'holiday')",
            name=op.f("ck_care_rules_trigger"),
        ),
        sa.CheckConstraint("channel IN ('email', 'call')", name=op.f("ck_care_rules_channel")),
        sa.CheckConstraint(
            "purpose IN ('service', 'marketing')", name=op.f("ck_care_rules_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_care_rules_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_care_rules")),
    )
    op.create_table(
        "care_touches",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("rule_key", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("occurrence", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("context", _JSONB, server_default="{}", nullable=False),
        sa.Column("outcome", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("rendered", _JSONB, nullable=True),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'emailed', 'called', 'suppressed', 'failed', 'skipped')",
            name=op.f("ck_care_touches_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["rule_key"],
            ["care_rules.key"],
            name=op.f("fk_care_touches_rule_key_care_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_care_touches_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_care_touches_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_touches")),
        sa.UniqueConstraint(
            "rule_key", "customer_id", "occurrence", name=op.f("uq_care_touches_occurrence")
        ),
    )
    op.create_index(
        "ix_care_touches_pending",
        "care_touches",
        ["due_at", "id"],
        postgresql_where=sa.text("outcome = 'pending'"),
    )
    op.create_index("ix_care_touches_customer", "care_touches", ["customer_id", "id"])
    op.create_index("ix_care_touches_day", "care_touches", ["day", "rule_key"])


def downgrade() -> None:
    op.drop_index("ix_care_touches_day", table_name="care_touches")
    op.drop_index("ix_care_touches_customer", table_name="care_touches")
    op.drop_index("ix_care_touches_pending", table_name="care_touches")
    op.drop_table("care_touches")
    op.drop_table("care_rules")
    op.drop_column("customers", "birthday")
