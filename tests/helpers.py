"""Helpers shared by test packages: a real HTTP server, and waiting for asynchronous work."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.database import libpq_url


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 10.0) -> Any:
    """Poll until ``check`` returns something truthy; routing and pushes are asynchronous."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {seconds} s (last value: {value!r})")
        await asyncio.sleep(0.02)


async def fresh_database(test_url: str, suffix: str) -> str:
    """A new, empty database beside the test database (its name plus ``_suffix``)."""
    parsed = make_url(libpq_url(test_url))
    name = f"{parsed.database}_{suffix}"
    admin = await asyncpg.connect(
        libpq_url(parsed.set(database="postgres").render_as_string(False))
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return parsed.set(database=name).render_as_string(False)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_until_ready(
    url: str, process: asyncio.subprocess.Process, log_path: Path, seconds: float
) -> None:
    """Wait until the ``contactd serve`` process at ``url`` answers ``/readyz`` with 200;
    fail at once if it stops."""
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:

        async def ready() -> bool:
            assert process.returncode is None, f"serve stopped; see {log_path}"
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, seconds=seconds)


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    """Serve an app whose lifespan already runs on a free 127.0.0.1 port; yield its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def make_vip(client: Any, admin: dict[str, str], customer_id: int) -> None:
    """Give a customer the orders of a VIP by the seed rule (3 sales, 12 items, ¥12,000 in
    the last months), through the orders API: they are graded at once."""
    now = datetime.now(UTC)
    for n in range(3):
        response = await client.post(
            f"/api/v1/customers/{customer_id}/orders",
            json={
                "source": "shop",
                "order_id": f"VIP-{customer_id}-{n}",
                "placed_at": (now - timedelta(days=10 + 30 * n)).isoformat(),
                "status": "completed",
                "items": 4,
                "amount": "4000.00",
                "currency": "CNY",
            },
            headers=admin,
        )
        assert response.status_code in (200, 201), response.text


def invoke_cli(database_url: str, *args: str) -> tuple[int, str]:
    """Run ``contactd ARGS`` against the database, as an operator would: exit code, output."""
    from typer.testing import CliRunner

    from app.cli import cli

    result = CliRunner().invoke(
        cli,
        list(args),
        env={"CONTACTD_DATABASE_URL": database_url, "CONTACTD_LOG_LEVEL": "WARNING"},
    )
    return result.exit_code, result.output
