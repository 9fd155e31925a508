"""Helpers shared by test packages: a real HTTP server, waiting for asynchronous work, and a
TCP relay a test can cut to take a server (PostgreSQL, Redis) away without touching it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from sqlalchemy.engine import make_url

from app.database import libpq_url

ASGIApp = Callable[..., Awaitable[None]]
SHUTDOWN_GRACE_SECONDS = 5


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


async def query(database_url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    """The rows of one statement, run on a connection of its own."""
    conn = await asyncpg.connect(libpq_url(database_url))
    try:
        rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
    finally:
        await conn.close()
    return rows


async def count_rows(database_url: str, table: str) -> int:
    """How many rows ``table`` holds, read on a connection of its own."""
    rows = await query(database_url, f'SELECT count(*) FROM "{table}"')  # noqa: S608
    count: int = rows[0][0]
    return count


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
async def live_server(app: ASGIApp) -> AsyncIterator[str]:
    """Serve an ASGI app (whose lifespan, if any, already runs) on a free 127.0.0.1 port;
    yield its base URL. Leaving stops it within ``SHUTDOWN_GRACE_SECONDS``: connections a
    test left open (a socket whose handler still waits) are cancelled, never waited for."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_config=None,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
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


class TcpRelay:
    """A TCP relay from a port of its own on 127.0.0.1 to ``host:port``.

    ``cut`` closes it and every connection through it, as a server going away would (each
    side sees its connection end); ``restore`` listens again on the same port. Connections
    opened while it is cut are refused.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def database_url(self, url: str) -> str:
        """``url`` (a PostgreSQL URL of the target) through the relay."""
        parsed = make_url(url)
        return parsed.set(host="127.0.0.1", port=self.port).render_as_string(False)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        if self._server is not None:
            await self.cut()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._writers.difference_update((writer, up_writer))

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()
