"""The unit of work is one transaction, whichever way its statements reach PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from app.database import Database, create_engine, driver_connection, libpq_url


class Boom(Exception):
    pass


async def test_driver_statements_first_in_a_unit_of_work_roll_back_with_it(
    clean_db: str,
) -> None:
    db = Database(create_engine(clean_db, pool_size=1))

    async def insert_then_fail() -> None:
        async with db.unit_of_work() as session:
            driver = await driver_connection(session)
            await driver.execute("INSERT INTO skills (name, kind) VALUES ('ghost', 'general')")
            raise Boom

    try:
        with pytest.raises(Boom):
            await insert_then_fail()
        async with db.unit_of_work() as session:
            driver = await driver_connection(session)
            await driver.execute("INSERT INTO skills (name, kind) VALUES ('kept', 'general')")
    finally:
        await db.dispose()
    conn = await asyncpg.connect(libpq_url(clean_db))
    try:
        names = [r["name"] for r in await conn.fetch("SELECT name FROM skills ORDER BY name")]
    finally:
        await conn.close()
    assert names == ["kept"]
