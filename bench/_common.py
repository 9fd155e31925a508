"""What every benchmark needs first: an empty, migrated database of its own."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from app.database import libpq_url
from app.migrations import upgrade


async def fresh_database(url: str) -> None:
    """Create the database if missing, empty it, and migrate it to the latest schema."""
    parsed = make_url(libpq_url(url))
    admin = await asyncpg.connect(
        libpq_url(parsed.set(database="postgres").render_as_string(False))
    )
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", parsed.database):
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, url)
