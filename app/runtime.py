"""Where the process finds its database (the configured URL or the embedded server), and
how it runs a background job for as long as it serves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from app.config import Settings
from app.embedded_pg import start_embedded_postgres


def resolve_database_url(settings: Settings, *, keep_running: bool = False) -> str:
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.embedded_pg_dir, keep_running=keep_running)


@asynccontextmanager
async def background(job: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Run ``job`` as a task while the block runs; at its end cancel the task and wait for
    it to stop."""
    task = asyncio.create_task(job, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
