"""Long-lived PostgreSQL connections that reopen themselves, and which of them are up.

The service holds a few connections of its own for hours, outside the pool: the router's
LISTEN connection and doorbell, the routing lease's lock, the supervisor's tail. A backend
terminated (``pg_terminate_backend``), a server restarted or a network cut ends them; each
reopens by itself with ``RECONNECT`` (one policy for all: capped exponential backoff with
full jitter, never giving up) and then catches up on what it missed while down.

``ConnectionHealth`` holds each one's state by name; ``/readyz`` reports it, and answers
503 while one is down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import asyncpg
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from app.resilience.faults import database_unavailable

log = structlog.get_logger(__name__)

ConnectionState = Literal["up", "down"]
Sleep = Callable[[float], Awaitable[None]]
Connect = Callable[[], Awaitable[asyncpg.Connection]]
Prepare = Callable[[asyncpg.Connection], Awaitable[None]]
CatchUp = Callable[[], Awaitable[None]]


def report_failure(event: str, error: BaseException, **fields: object) -> None:
    """Log a failed round of a background loop (it goes on): a warning with the error's
    type while the database is unavailable (it passes by itself), an error with its
    traceback otherwise (a bug)."""
    if database_unavailable(error):
        log.warning(event, error_type=type(error).__name__, **fields)
    else:
        log.error(event, error_type=type(error).__name__, exc_info=error, **fields)


class ConnectionHealth:
    """The long-lived connections by name, each up or down. A name is known from its first
    report on; ``forget`` drops it (a connection closed on purpose is not down)."""

    def __init__(self) -> None:
        self._states: dict[str, ConnectionState] = {}

    def up(self, name: str) -> None:
        self._states[name] = "up"

    def down(self, name: str) -> None:
        if self._states.get(name) != "down":
            log.warning("long_lived_connection_down", connection=name)
        self._states[name] = "down"

    def forget(self, name: str) -> None:
        self._states.pop(name, None)

    def states(self) -> dict[str, ConnectionState]:
        """Every known connection's state, by name in alphabetical order."""
        return dict(sorted(self._states.items()))

    def down_names(self) -> list[str]:
        return [name for name, state in self.states().items() if state == "down"]


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Attempt n waits a random time in [0, min(max_seconds, first_seconds * 2**n)]: quick
    after a single terminated backend, spread out (instances do not reconnect in step) and
    at most ``max_seconds`` apart during an outage."""

    first_seconds: float = 0.05
    max_seconds: float = 5.0

    def retrying(self, name: str, sleep: Sleep = asyncio.sleep) -> AsyncRetrying:
        """Attempts until one succeeds, whatever they raise (a long-lived connection never
        gives up); each failure is logged, as a warning while the database is unavailable
        and as an error otherwise (a wrong password, a database dropped)."""

        def failed(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            if error is not None:
                report_failure(
                    "long_lived_connection_retry",
                    error,
                    connection=name,
                    attempt=state.attempt_number,
                )

        return AsyncRetrying(
            wait=wait_random_exponential(multiplier=self.first_seconds, max=self.max_seconds),
            retry=retry_if_exception_type(Exception),
            before_sleep=failed,
            sleep=sleep,
        )


RECONNECT = ReconnectPolicy()


async def reopen(
    name: str,
    connect: Connect,
    health: ConnectionHealth,
    *,
    prepare: Prepare | None = None,
    policy: ReconnectPolicy = RECONNECT,
    sleep: Sleep = asyncio.sleep,
) -> asyncpg.Connection:
    """A connection from ``connect``, prepared by ``prepare`` (e.g. its LISTENs), retried by
    ``policy`` until both succeed; ``name`` is down in ``health`` meanwhile, up after."""
    async for attempt in policy.retrying(name, sleep):
        with attempt:
            try:
                connection = await connect()
            except BaseException:
                health.down(name)
                raise
            try:
                if prepare is not None:
                    await prepare(connection)
            except BaseException:
                health.down(name)
                connection.terminate()
                raise
            health.up(name)
            return connection
    raise AssertionError("unreachable: the policy retries until an attempt succeeds")


class KeptConnection:
    """One long-lived connection that reopens itself whenever it ends.

    ``open`` makes the first one (its failure is the caller's: a service that cannot reach
    its database at start does not start). From then on, when the connection ends without
    ``close``, it is down in ``health`` and reopened in the background (``reopen``); once
    prepared again, ``caught_up`` runs: the owner reads what it may have missed meanwhile
    (a NOTIFY is lost while nobody listens). ``connection`` is None while it is down.

    asyncpg does not always tell a connection's termination listeners: a statement sent
    while the server's FATAL message is being read aborts the connection without them. So
    ``connection`` also looks: one it finds closed has ended, and is reopened the same way.
    """

    def __init__(
        self,
        name: str,
        connect: Connect,
        health: ConnectionHealth,
        *,
        prepare: Prepare | None = None,
        caught_up: CatchUp | None = None,
        policy: ReconnectPolicy = RECONNECT,
    ) -> None:
        self.name = name
        self.health = health
        self._connect = connect
        self._prepare = prepare
        self._caught_up = caught_up
        self._policy = policy
        self._connection: asyncpg.Connection | None = None
        self._reopening: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def connection(self) -> asyncpg.Connection | None:
        """The connection while it is up; None while it is down (being reopened)."""
        connection = self._connection
        if connection is not None and connection.is_closed():
            self._ended(connection)
            return None
        return connection

    async def open(self) -> asyncpg.Connection:
        connection = await self._connect()
        try:
            if self._prepare is not None:
                await self._prepare(connection)
        except BaseException:
            connection.terminate()
            raise
        self._adopt(connection)
        return connection

    async def close(self) -> None:
        self._closed = True
        if self._reopening is not None:
            self._reopening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reopening
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.remove_termination_listener(self._ended)
            with contextlib.suppress(Exception):
                await connection.close()
        self.health.forget(self.name)

    def _adopt(self, connection: asyncpg.Connection) -> None:
        self._connection = connection
        connection.add_termination_listener(self._ended)
        self.health.up(self.name)
        if connection.is_closed():  # ended before it had a listener
            self._ended(connection)

    def _ended(self, connection: object) -> None:
        if self._closed or connection is not self._connection:
            return
        self._connection = None
        self.health.down(self.name)
        self._reopening = asyncio.create_task(self._reopen(), name=f"reconnect:{self.name}")

    async def _reopen(self) -> None:
        connection = await reopen(
            self.name, self._connect, self.health, prepare=self._prepare, policy=self._policy
        )
        if self._closed:
            await connection.close()
            return
        self._adopt(connection)
        log.info("long_lived_connection_reopened", connection=self.name)
        if self._caught_up is not None:
            await self._caught_up()
