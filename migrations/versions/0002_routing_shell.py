"""routing shell

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:36:58.385481+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "router_lease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_router_lease_singleton")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_router_lease")),
    )
    op.execute("INSERT INTO router_lease (id, epoch) VALUES (1, 0)")
    op.create_table(
        "routing_inbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_inbox")),
    )
    op.create_index(
        "ix_routing_inbox_unprocessed",
        "routing_inbox",
        ["id"],
        unique=False,
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.create_table(
        "agent_presence",
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="offline", nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column(
            "since", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("wrap_up_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('offline', 'available', 'not_ready', 'on_contact', 'wrap_up')",
            name=op.f("ck_agent_presence_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_agent_presence_agent_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_presence")),
    )
    op.create_table(
        "routing_config_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("rolled_back_from", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_routing_config_versions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_routing_config_versions")),
    )
    op.add_column(
        "contacts", sa.Column("offer_deadline", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "contacts", sa.Column("routing_step", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("contacts", "routing_step")
    op.drop_column("contacts", "offer_deadline")
    op.drop_table("routing_config_versions")
    op.drop_table("agent_presence")
    op.drop_index(
        "ix_routing_inbox_unprocessed",
        table_name="routing_inbox",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_table("routing_inbox")
    op.drop_table("router_lease")
