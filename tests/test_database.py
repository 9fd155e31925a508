"""The unit of work is one transaction, whichever way its statements reach PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import func, select

from app.database import (
    Database,
    after_commit,
    connect_long_lived,
    create_engine,
    driver_connection,
    libpq_url,
)
from app.skills.models import Skill


class Boom(Exception):
    pass


async def _insert_skill_then_fail(db: Database, name: str) -> None:
    async with db.unit_of_work() as session:
        driver = await driver_connection(session)
        await driver.execute("INSERT INTO skills (name, kind) VALUES ($1, 'general')", name)
        raise Boom


async def test_driver_statements_first_in_a_unit_of_work_roll_back_with_it(
    clean_db: str,
) -> None:
    db = Database(create_engine(clean_db, pool_size=1))
    try:
        with pytest.raises(Boom):
            await _insert_skill_then_fail(db, "ghost")
        async with db.unit_of_work() as session:
            driver = await driver_connection(session)
            await driver.execute("INSERT INTO skills (name, kind) VALUES ('kept', 'general')")
    finally:
        await db.dispose()
    assert await _skill_names(clean_db) == ["kept"]


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


async def _skill_names(url: str) -> list[str]:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        return [r["name"] for r in await conn.fetch("SELECT name FROM skills ORDER BY name")]
    finally:
        await conn.close()


async def test_a_one_statement_unit_writes_its_statement_then_runs_its_effects(
    clean_db: str,
) -> None:
    db = Database(create_engine(clean_db, pool_size=1, max_overflow=0))
    seen_at_effect: list[list[str]] = []

    async def effect() -> None:
        seen_at_effect.append(await _skill_names(clean_db))

    try:
        async with db.one_statement() as session:
            assert await session.scalar(select(func.count()).select_from(Skill)) == 0
            driver = await driver_connection(session)
            await driver.execute("INSERT INTO skills (name, kind) VALUES ('solo', 'general')")
            after_commit(session, effect)
            assert not driver.is_in_transaction()
    finally:
        await db.dispose()
    assert seen_at_effect == [["solo"]]


async def test_a_one_statement_unit_refuses_orm_writes_and_drops_its_effects(
    clean_db: str,
) -> None:
    db = Database(create_engine(clean_db, pool_size=1, max_overflow=0))
    ran: list[str] = []

    async def effect() -> None:
        ran.append("effect")

    async def write_through_the_orm() -> None:
        async with db.one_statement() as session:
            after_commit(session, effect)
            session.add(Skill(name="orm-write", kind="general"))
            await session.flush()

    try:
        with pytest.raises(RuntimeError, match="cannot flush"):
            await write_through_the_orm()
        # The pool's only connection is transactional again for the next unit of work.
        with pytest.raises(Boom):
            await _insert_skill_then_fail(db, "undone")
    finally:
        await db.dispose()
    assert ran == []
    assert await _skill_names(clean_db) == []


async def test_what_is_shared_with_every_session_reaches_one_statement_units_too(
    clean_db: str,
) -> None:
    """The router's doorbell travels in ``session.info``: an enqueue in a one-statement unit
    that lacked it would wait for the router's next poll."""
    db = Database(create_engine(clean_db, pool_size=1))
    db.share_with_every_session({"doorbell": "ring"})
    try:
        async with db.unit_of_work() as session:
            in_transaction = session.info.get("doorbell")
        async with db.one_statement() as session:
            in_one_statement = session.info.get("doorbell")
    finally:
        await db.dispose()
    assert in_transaction == in_one_statement == "ring"
