"""privacy: the erasure tombstone on customers, and event texts kept out of the event log

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("erased_at", sa.DateTime(timezone=True)))
    op.create_table(
        "contact_event_texts",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["contact_events.id"],
            name=op.f("fk_contact_event_texts_event_id_contact_events"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_event_texts_contact_id_contacts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_contact_event_texts")),
    )
    op.create_index("ix_contact_event_texts_contact", "contact_event_texts", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_event_texts_contact", table_name="contact_event_texts")
    op.drop_table("contact_event_texts")
    op.drop_column("customers", "erased_at")
