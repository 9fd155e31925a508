"""customer value: orders, evaluations, their change log and rules; tier gives way to value

``customers.tier`` is replaced by the customer's evaluation: ``vip`` becomes an active VIP
status for a year, ``gold`` a Gold grade (both until the next evaluation says otherwise),
``standard`` no evaluation (a prospect). Routing documents trade ``tier_priority`` for
``value_priority`` and IVR flows their ``tier`` conditions for ``value`` conditions.
Downgrade maps them back (an active VIP → vip, a P or G grade → gold, the rest standard).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _create_tables() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column(
            "customer_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "customers.id", ondelete="CASCADE", name=op.f("fk_orders_customer_id_customers")
            ),
            nullable=False,
        ),
        sa.Column("placed_at", TZ, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("items", sa.Integer(), server_default="1", nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), server_default="CNY", nullable=False),
        sa.Column("amount_cny", sa.Numeric(14, 2), nullable=False),
        sa.Column("shop", sa.String(64)),
        sa.Column("lines", postgresql.JSONB()),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("source", "external_id", name=op.f("uq_orders_source_external_id")),
        sa.CheckConstraint(
            "status IN ('paid', 'completed', 'cancelled', 'refunded')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint("amount >= 0 AND amount_cny >= 0", name=op.f("ck_orders_amount")),
        sa.CheckConstraint("items >= 0", name=op.f("ck_orders_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index(
        "ix_orders_customer_placed",
        "orders",
        ["customer_id", "placed_at"],
        postgresql_include=["status", "items", "amount_cny"],
    )
    op.create_table(
        "customer_values",
        sa.Column(
            "customer_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "customers.id",
                ondelete="CASCADE",
                name=op.f("fk_customer_values_customer_id_customers"),
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(1)),
        sa.Column("r", sa.SmallInteger()),
        sa.Column("f", sa.SmallInteger()),
        sa.Column("m", sa.SmallInteger()),
        sa.Column("score", sa.SmallInteger()),
        sa.Column("sales", sa.Integer(), server_default="0", nullable=False),
        sa.Column("items", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sales_amount", sa.Numeric(16, 2), server_default="0", nullable=False),
        sa.Column("last_sale_at", TZ),
        sa.Column("lifetime_sales", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lifetime_amount", sa.Numeric(16, 2), server_default="0", nullable=False),
        sa.Column("vip_since", TZ),
        sa.Column("vip_until", TZ),
        sa.Column("value_class", sa.String(8), server_default="normal", nullable=False),
        sa.Column("segments", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("routing_tags", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("blocked_reason", sa.Text()),
        sa.Column("rules_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("evaluated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_values")),
        sa.CheckConstraint(
            "status IN ('graded', 'new', 'no_sale', 'dormant', 'prospect', 'blocked')",
            name=op.f("ck_customer_values_status"),
        ),
        sa.CheckConstraint(
            "grade IS NULL OR grade IN ('P', 'G', 'S', 'B')", name=op.f("ck_customer_values_grade")
        ),
        sa.CheckConstraint(
            "value_class IN ('key', 'major', 'normal')", name=op.f("ck_customer_values_value_class")
        ),
    )
    op.create_index(
        "ix_customer_values_segments", "customer_values", ["segments"], postgresql_using="gin"
    )
    op.create_table(
        "customer_value_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column(
            "customer_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "customers.id",
                ondelete="CASCADE",
                name=op.f("fk_customer_value_changes_customer_id_customers"),
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("old", sa.String(32)),
        sa.Column("new", sa.String(32)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("figures", postgresql.JSONB(), nullable=False),
        sa.Column("changed_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_value_changes")),
    )
    op.create_index(
        "ix_customer_value_changes_customer", "customer_value_changes", ["customer_id", "id"]
    )
    op.create_table(
        "value_rules_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.Column(
            "author_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "users.id",
                ondelete="SET NULL",
                name=op.f("fk_value_rules_versions_author_id_users"),
            ),
        ),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_value_rules_versions")),
    )
    op.create_table(
        "value_evaluations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("as_of", TZ, nullable=False),
        sa.Column("as_of_day", sa.Date(), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("changes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("started_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", TZ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_evaluations")),
        sa.UniqueConstraint("as_of_day", name=op.f("uq_value_evaluations_as_of_day")),
    )


def _rewrite_documents(table: str, key: str, change: Any) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT {key}, document FROM {table}")).all()  # noqa: S608
    for row_key, document in rows:
        changed = change(document)
        if changed is not None:
            bind.execute(
                sa.text(f"UPDATE {table} SET document = CAST(:doc AS jsonb) WHERE {key} = :k"),  # noqa: S608
                {"doc": json.dumps(changed, ensure_ascii=False), "k": row_key},
            )


def _routing_up(document: dict[str, Any]) -> dict[str, Any] | None:
    if "tier_priority" not in document:
        return None
    tiers = document.pop("tier_priority") or {}
    value: dict[str, Any] = {}
    if "vip" in tiers:
        value["vip"] = tiers["vip"]
    if "gold" in tiers:
        value["grades"] = {"P": tiers["gold"], "G": tiers["gold"]}
    document["value_priority"] = value
    return document


def _routing_down(document: dict[str, Any]) -> dict[str, Any] | None:
    if "value_priority" not in document:
        return None
    value = document.pop("value_priority") or {}
    tiers: dict[str, int] = {}
    if "vip" in value:
        tiers["vip"] = value["vip"]
    grades = value.get("grades") or {}
    if "G" in grades:
        tiers["gold"] = grades["G"]
    for queue in (document.get("queues") or {}).values():
        queue.pop("value_skills", None)
    document["tier_priority"] = tiers
    return document


def _walk_conditions(node: Any, change: Any) -> bool:
    """Rewrite every condition object of an IVR flow document in place."""
    changed = False
    if isinstance(node, dict):
        if node.get("type") in ("tier", "value") and change(node):
            changed = True
        for child in node.values():
            changed = _walk_conditions(child, change) or changed
    elif isinstance(node, list):
        for child in node:
            changed = _walk_conditions(child, change) or changed
    return changed


def _tier_to_value(node: dict[str, Any]) -> bool:
    if node.get("type") != "tier":
        return False
    tiers = node.pop("tiers", [])
    node["type"] = "value"
    if "vip" in tiers:
        node["vip"] = True
    if "gold" in tiers:
        node["grades"] = ["P", "G"]
    if "standard" in tiers:
        node["statuses"] = ["graded", "new", "no_sale", "dormant", "prospect"]
    return True


def _value_to_tier(node: dict[str, Any]) -> bool:
    if node.get("type") != "value":
        return False
    tiers = []
    if node.get("vip"):
        tiers.append("vip")
    if node.get("grades"):
        tiers.append("gold")
    for key in ("vip", "grades", "statuses", "value_classes", "segments"):
        node.pop(key, None)
    node["type"] = "tier"
    node["tiers"] = tiers or ["vip"]
    return True


def _flow_change(change: Any) -> Any:
    def apply(document: dict[str, Any]) -> dict[str, Any] | None:
        return document if _walk_conditions(document, change) else None

    return apply


def upgrade() -> None:
    _create_tables()
    op.add_column("contacts", sa.Column("value_tags", postgresql.ARRAY(sa.Text())))
    op.execute(
        """
        INSERT INTO customer_values (customer_id, status, grade, vip_since, vip_until,
                                     routing_tags, reason, evaluated_at)
        SELECT id,
               CASE WHEN tier = 'gold' THEN 'graded' ELSE 'prospect' END,
               CASE WHEN tier = 'gold' THEN 'G' END,
               CASE WHEN tier = 'vip' THEN now() END,
               CASE WHEN tier = 'vip' THEN now() + interval '1 year' END,
               CASE WHEN tier = 'vip' THEN ARRAY['status:prospect', 'vip', 'class:normal']
                    ELSE ARRAY['grade:G', 'status:graded', 'class:normal'] END,
               'carried over from tier ' || tier,
               now()
        FROM customers WHERE tier IN ('gold', 'vip')
        """
    )
    op.execute(
        """
        INSERT INTO customer_value_changes (customer_id, kind, old, new, reason, figures,
                                            changed_at)
        SELECT id, CASE WHEN tier = 'vip' THEN 'vip' ELSE 'grade' END, NULL,
               CASE WHEN tier = 'vip' THEN 'granted' ELSE 'G' END,
               'carried over from tier ' || tier, '{}'::jsonb, now()
        FROM customers WHERE tier IN ('gold', 'vip')
        """
    )
    op.drop_constraint(op.f("ck_customers_tier"), "customers", type_="check")
    op.drop_column("customers", "tier")
    _rewrite_documents("routing_config_versions", "version", _routing_up)
    _rewrite_documents("ivr_flow_versions", "id", _flow_change(_tier_to_value))


def downgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("tier", sa.String(16), server_default="standard", nullable=False),
    )
    op.create_check_constraint(
        "ck_customers_tier", "customers", "tier IN ('standard', 'gold', 'vip')"
    )
    op.execute(
        """
        UPDATE customers c SET tier = CASE
            WHEN v.vip_until > now() THEN 'vip'
            WHEN v.grade IN ('P', 'G') THEN 'gold'
            ELSE 'standard' END
        FROM customer_values v WHERE v.customer_id = c.id
        """
    )
    _rewrite_documents("routing_config_versions", "version", _routing_down)
    _rewrite_documents("ivr_flow_versions", "id", _flow_change(_value_to_tier))
    op.drop_column("contacts", "value_tags")
    op.drop_table("value_evaluations")
    op.drop_table("value_rules_versions")
    op.drop_table("customer_value_changes")
    op.drop_table("customer_values")
    op.drop_table("orders")
