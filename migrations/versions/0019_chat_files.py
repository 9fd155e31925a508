"""chat files: transcripts mailed on the visitor's request (one per chat and address)

Chat attachments themselves live in ``attachments``, like email's.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "chat_transcript_mails"


def _fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_{TABLE}_{column}_{table}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        _fk("contact_id", "contacts"),
        _fk("message_id", "messages"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
        sa.UniqueConstraint("contact_id", "address", name=op.f(f"uq_{TABLE}_contact_id")),
    )
    op.create_index(f"ix_{TABLE}_address", TABLE, ["address", "requested_at"])


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_address", table_name=TABLE)
    op.drop_table(TABLE)
