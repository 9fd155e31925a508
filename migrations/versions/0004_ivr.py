"""IVR flows, versions, runs and phone number mapping

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "ivr_flows",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ivr_flows"),
        sa.UniqueConstraint("name", name="uq_ivr_flows_name"),
    )
    op.create_table(
        "ivr_flow_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("flow_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("published_by", sa.BigInteger(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ivr_flow_versions"),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["ivr_flows.id"],
            name="fk_ivr_flow_versions_flow_id_ivr_flows",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_ivr_flow_versions_created_by_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["users.id"],
            name="fk_ivr_flow_versions_published_by_users",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("flow_id", "version", name="uq_ivr_flow_versions_flow_id"),
    )
    op.create_table(
        "ivr_numbers",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("flow_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_ivr_numbers"),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["ivr_flows.id"],
            name="fk_ivr_numbers_flow_id_ivr_flows",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "ivr_runs",
        sa.Column(
            "id",
            postgresql.UUID(as_uuid=True),
            server_default=sa.text("gen_random_uuid()"),
            nullable=False,
        ),
        sa.Column("flow_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("call_ref", sa.String(255), nullable=False),
        sa.Column("caller", sa.String(320), nullable=True),
        sa.Column("dialled", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("customer_match", sa.String(16), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.Column("state", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ivr_runs"),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["ivr_flows.id"], name="fk_ivr_runs_flow_id_ivr_flows", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_ivr_runs_customer_id_customers",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name="fk_ivr_runs_contact_id_contacts",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("provider", "call_ref", name="uq_ivr_runs_provider"),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'hung_up')", name="ck_ivr_runs_status"
        ),
    )
    op.create_index("ix_ivr_runs_flow_created", "ivr_runs", ["flow_id", "created_at"])
    op.create_index(
        "ix_contact_events_ivr_flow",
        "contact_events",
        [sa.text("((payload->>'flow_id'))"), "occurred_at"],
        postgresql_where=sa.text("kind LIKE 'ivr.%'"),
    )


def downgrade() -> None:
    op.drop_index("ix_contact_events_ivr_flow", table_name="contact_events")
    op.drop_index("ix_ivr_runs_flow_created", table_name="ivr_runs")
    op.drop_table("ivr_runs")
    op.drop_table("ivr_numbers")
    op.drop_table("ivr_flow_versions")
    op.drop_table("ivr_flows")
