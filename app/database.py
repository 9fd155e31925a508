"""Engine, sessions and the unit of work.

A unit of work is one session and one transaction. Services flush, never commit: the unit
of work commits once at the end, then runs the side effects queued with ``after_commit``.
A rollback drops them, so no agent ever sees an offer that was never stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import structlog
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

Effect = Callable[[], Awaitable[None]]

_EFFECTS_KEY = "contactd.after_commit"
log = structlog.get_logger(__name__)


def asyncpg_url(url: str) -> str:
    """Any PostgreSQL URL (libpq style or SQLAlchemy style) as a SQLAlchemy asyncpg URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("contactd runs on PostgreSQL only")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same database as a plain ``postgresql://`` URL, as asyncpg.connect() takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def connect_long_lived(
    url: str, settings: Mapping[str, str] | None = None, *, name: str | None = None
) -> asyncpg.Connection:
    """A connection of its own for a loop that runs the same statements for hours (the
    router's batches, the supervisor's tail).

    Each execution is planned for its own arguments. A prepared statement otherwise falls
    back to one generic plan after five runs, made with the table sizes of that moment: on a
    database that starts empty it chose sequential scans, and kept them while the tables
    grew (measured: the router's batch statement at 3-6 ms instead of 0.3 ms within seconds;
    the supervisor's poll at 29 ms over 200,000 events). Planning these statements costs
    about 0.1 ms, once per batch or poll.

    ``settings`` adds or overrides server settings. The router's connection overrides the
    planning: its statements all find rows by key, so it keeps one generic plan made with
    sequential and bitmap scans off (``ROUTER_CONNECTION_SETTINGS`` in the distributor).

    ``name`` (``router_listen``, ``supervisor_tail``, ...) is its ``application_name``,
    ``contactd:<name>``, as ``pg_stat_activity`` shows it.
    """
    server_settings = {"plan_cache_mode": "force_custom_plan", **(settings or {})}
    if name is not None:
        server_settings["application_name"] = f"contactd:{name}"
    return await asyncpg.connect(url, server_settings=server_settings)


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        hide_parameters=True,  # errors and logs never show bound values: personal data
    )


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, inside its transaction.

    For the few hot statements where SQLAlchemy's per-statement cost is most of the
    work (enqueueing a contact); everything else goes through the ORM or Core.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if not driver.is_in_transaction() and not session.info.get(_ONE_STATEMENT_KEY):
        # SQLAlchemy's asyncpg adapter sends BEGIN with the first statement it runs itself;
        # a statement sent to the driver before that would commit on its own, outside the
        # unit of work. So begin here, through the adapter, which then commits as usual.
        adapter: Any = raw.dbapi_connection
        await adapter._start_transaction()
    return driver


_ONE_STATEMENT_KEY = "contactd.one_statement"


def _refuse_flush(session: Session, *_: object) -> None:
    raise RuntimeError("a one-statement unit of work cannot flush ORM changes")


class _OneStatementSession(Session):
    """The sessions of ``Database.one_statement``: they refuse to flush (the listener is
    the class's, so opening one costs no registration)."""


event.listen(_OneStatementSession, "before_flush", _refuse_flush)


def after_commit(session: AsyncSession, effect: Effect) -> None:
    """Queue ``effect`` to run once this session's transaction has committed."""
    session.info.setdefault(_EFFECTS_KEY, []).append(effect)


async def run_effects(session: AsyncSession) -> None:
    effects: list[Effect] = session.info.pop(_EFFECTS_KEY, [])
    for effect in effects:
        try:
            await effect()
        except Exception:  # one failing push must not stop the others
            log.exception("after_commit_effect_failed")


def drop_effects(session: AsyncSession) -> None:
    session.info.pop(_EFFECTS_KEY, None)


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        # Same pool; a connection is in autocommit only while such a session holds it.
        self._one_statement_sessions = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            sync_session_class=_OneStatementSession,
        )

    def share_with_every_session(self, info: dict[str, Any]) -> None:
        """What every session of this database carries in ``session.info`` (the doorbell)."""
        for maker in (self.sessionmaker, self._one_statement_sessions):
            maker.configure(info=info)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success then run effects; roll back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                drop_effects(session)
                await session.rollback()
                raise
            await run_effects(session)

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that writes with one statement, atomic on its own: no BEGIN or
        COMMIT around it (two round trips of the three a lone statement costs).

        Reads may come before and after the statement; each runs on its own. A flush of
        ORM changes is refused, since it would commit apart from the statement. Effects
        run once the block ends, as after a commit; on an error they are dropped.
        """
        async with self._one_statement_sessions() as session:
            session.info[_ONE_STATEMENT_KEY] = True
            try:
                yield session
            except BaseException:
                drop_effects(session)
                raise
            await run_effects(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
