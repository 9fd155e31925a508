"""drop ix_contacts_customer_created: ix_contacts_customer_history starts with its columns

Every contact insert and routing update paid for both; every query the first served, the
second serves as well.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_contacts_customer_created", table_name="contacts")


def downgrade() -> None:
    op.create_index(
        "ix_contacts_customer_created",
        "contacts",
        ["customer_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
