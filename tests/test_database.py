"""The unit of work is one transaction, whichever way its statements reach PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest

from app.database import (
    Database,
    connect_long_lived,
    create_engine,
    driver_connection,
    libpq_url,
)


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


async def _plan_after_the_table_grew(conn: asyncpg.Connection) -> str:
    """The plan of a statement prepared and run while its table was empty, once it is not."""
    await conn.execute("CREATE TEMP TABLE grows (id bigint PRIMARY KEY, note text)")
    await conn.execute("ANALYZE grows")
    await conn.execute("PREPARE lookup(bigint[]) AS SELECT note FROM grows WHERE id = ANY($1)")
    for _ in range(6):  # past the five runs after which a generic plan may be kept
        await conn.execute("EXECUTE lookup('{1,2}')")
    await conn.execute("INSERT INTO grows SELECT n, 'x' FROM generate_series(1, 50000) AS n")
    rows = await conn.fetch("EXPLAIN EXECUTE lookup('{1,2}')")
    return "\n".join(r[0] for r in rows)


async def test_a_long_lived_connection_keeps_no_plan_made_for_an_empty_table(
    clean_db: str,
) -> None:
    plain = await asyncpg.connect(libpq_url(clean_db))
    long_lived = await connect_long_lived(libpq_url(clean_db))
    try:
        assert "Seq Scan" in await _plan_after_the_table_grew(plain)  # the trap it avoids
        assert "Seq Scan" not in await _plan_after_the_table_grew(long_lived)
    finally:
        await plain.close()
        await long_lived.close()
