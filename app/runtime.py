"""Where the process finds its database: the configured URL or the embedded server."""

from __future__ import annotations

from app.config import Settings
from app.embedded_pg import start_embedded_postgres


def resolve_database_url(settings: Settings, *, keep_running: bool = False) -> str:
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.embedded_pg_dir, keep_running=keep_running)
