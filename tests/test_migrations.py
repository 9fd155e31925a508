"""The migration chain upgrades and downgrades on a real PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from app.database import libpq_url
from app.migrations import downgrade, head_revision, upgrade


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await conn.close()


async def test_upgrade_head_then_downgrade_base(database_url: str) -> None:
    name = f"{make_url(database_url).database}_migrations"
    admin = await asyncpg.connect(
        libpq_url(make_url(database_url).set(database="postgres").render_as_string(False))
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(database_url).set(database=name).render_as_string(False)

    await asyncio.to_thread(upgrade, url)
    assert {"contacts", "contact_events", "customers", "queues", "users"} <= await _tables(url)
    conn = await asyncpg.connect(libpq_url(url))
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == head_revision()
    finally:
        await conn.close()

    await asyncio.to_thread(downgrade, url, "base")
    assert await _tables(url) == {"alembic_version"}
    await asyncio.to_thread(upgrade, url)  # and back up again: downgrade left nothing behind
    assert "contact_events" in await _tables(url)
