"""consent: history, current state, contact preferences, the touch log

The profile's ``customers.consent`` flags (``call_recording``, ``marketing_email``,
``marketing_sms``) become consent rows of source ``profile``; downgrade drops the tables
and leaves the flags as they are (``set_consent`` keeps them in step).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
CHANNEL_CHECK = "channel IN ('voice', 'sms', 'email')"
PURPOSE_CHECK = (
    "purpose IN ('service', 'marketing') OR (channel = 'voice' AND purpose = 'call_recording')"
)


def _customer_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(
        "customers.id", ondelete="CASCADE", name=op.f(f"fk_{table}_customer_id_customers")
    )


def _history() -> None:
    op.create_table(
        "consent_history",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("customer_id", sa.BigInteger(), _customer_fk("consent_history"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8)),
        sa.Column("purpose", sa.String(16)),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.BigInteger()),
        sa.Column("form", sa.String(200)),
        sa.Column("note", sa.Text()),
        sa.Column(
            "actor_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "users.id", ondelete="SET NULL", name=op.f("fk_consent_history_actor_id_users")
            ),
        ),
        sa.Column("recorded_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_history")),
        sa.CheckConstraint(
            "kind IN ('consent', 'do_not_contact')", name=op.f("ck_consent_history_kind")
        ),
        sa.CheckConstraint(
            "(kind = 'consent' AND channel IS NOT NULL AND purpose IS NOT NULL"
            f" AND ({CHANNEL_CHECK}) AND ({PURPOSE_CHECK})"
            " AND status IN ('granted', 'refused', 'unknown'))"
            " OR (kind = 'do_not_contact' AND channel IS NULL AND purpose IS NULL"
            " AND status IN ('on', 'off'))",
            name=op.f("ck_consent_history_shape"),
        ),
    )
    op.create_index("ix_consent_history_customer", "consent_history", ["customer_id", "id"])


def _current() -> None:
    op.create_table(
        "customer_consents",
        sa.Column(
            "customer_id", sa.BigInteger(), _customer_fk("customer_consents"), nullable=False
        ),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column(
            "history_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "consent_history.id",
                ondelete="CASCADE",
                name=op.f("fk_customer_consents_history_id_consent_history"),
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "customer_id", "channel", "purpose", name=op.f("pk_customer_consents")
        ),
        sa.CheckConstraint(CHANNEL_CHECK, name=op.f("ck_customer_consents_channel")),
        sa.CheckConstraint(PURPOSE_CHECK, name=op.f("ck_customer_consents_purpose")),
        sa.CheckConstraint(
            "status IN ('granted', 'refused')", name=op.f("ck_customer_consents_status")
        ),
    )
    op.create_table(
        "contact_preferences",
        sa.Column(
            "customer_id", sa.BigInteger(), _customer_fk("contact_preferences"), nullable=False
        ),
        sa.Column("do_not_contact", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("time_zone", sa.String(64)),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_contact_preferences")),
    )


def _touch_log() -> None:
    op.create_table(
        "touch_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("customer_id", sa.BigInteger(), _customer_fk("touch_log"), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("next_allowed_at", TZ),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("ref", sa.String(128)),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touch_log")),
        sa.CheckConstraint("outcome IN ('made', 'suppressed')", name=op.f("ck_touch_log_outcome")),
        sa.CheckConstraint(CHANNEL_CHECK, name=op.f("ck_touch_log_channel")),
        sa.CheckConstraint(
            "purpose IN ('service', 'marketing')", name=op.f("ck_touch_log_purpose")
        ),
        sa.CheckConstraint(
            "(outcome = 'made') = (reason IS NULL)", name=op.f("ck_touch_log_reason")
        ),
    )
    op.create_index("ix_touch_log_customer_time", "touch_log", ["customer_id", "occurred_at"])
    op.create_index("ix_touch_log_outcome_time", "touch_log", ["outcome", "occurred_at"])


# The profile's flags as history rows, then the current state from them.
BACKFILL = """
WITH flags(flag, channel, purpose) AS (
    VALUES ('call_recording', 'voice', 'call_recording'),
           ('marketing_email', 'email', 'marketing'),
           ('marketing_sms', 'sms', 'marketing')
),
added AS (
    INSERT INTO consent_history (customer_id, kind, channel, purpose, status, source, recorded_at)
    SELECT c.id, 'consent', f.channel, f.purpose,
           CASE WHEN (c.consent ->> f.flag)::boolean THEN 'granted' ELSE 'refused' END,
           'profile', c.updated_at
    FROM customers c JOIN flags f ON jsonb_typeof(c.consent -> f.flag) = 'boolean'
    RETURNING id, customer_id, channel, purpose, status
)
INSERT INTO customer_consents (customer_id, channel, purpose, status, history_id)
SELECT customer_id, channel, purpose, status, id FROM added
"""


def upgrade() -> None:
    _history()
    _current()
    _touch_log()
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("touch_log")
    op.drop_table("contact_preferences")
    op.drop_table("customer_consents")
    op.drop_table("consent_history")
