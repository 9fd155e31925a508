"""Running Alembic from code: `contactd migrate`, `contactd serve` and the tests use this."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Blocking: call it from a thread when an event loop is running."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


@cache
def head_revision() -> str | None:
    """The newest revision of this release's migrations (read once: they ship with it)."""
    script = ScriptDirectory.from_config(alembic_config(""))
    return script.get_current_head()


async def current_revision(connection: AsyncConnection) -> str | None:
    try:
        result = await connection.execute(text("SELECT version_num FROM alembic_version"))
    except Exception:  # no table yet: nothing migrated
        return None
    return result.scalar_one_or_none()
