"""The reconnect policy and the connection states ``/readyz`` reports, without a database:
attempts are driven by a fake connect and a recording sleep."""

from __future__ import annotations

import random
from typing import Any

import asyncpg

from app.resilience.reconnect import ConnectionHealth, ReconnectPolicy, reopen


class _Connection:
    """Stands in for an asyncpg connection: ``reopen`` only terminates a failed one."""

    def __init__(self) -> None:
        self.terminated = False

    def terminate(self) -> None:
        self.terminated = True


async def _no_wait(_: float) -> None:
    return None


def test_health_lists_each_connection_in_order_and_forgets_one_closed_on_purpose() -> None:
    health = ConnectionHealth()
    health.up("router_listen")
    health.down("supervisor_tail")
    health.up("router_doorbell")
    assert health.states() == {
        "router_doorbell": "up",
        "router_listen": "up",
        "supervisor_tail": "down",
    }
    assert health.down_names() == ["supervisor_tail"]
    health.forget("supervisor_tail")
    assert health.down_names() == []


async def test_reopen_retries_until_connected_with_capped_jittered_backoff() -> None:
    random.seed(7)
    health, waits, connection = ConnectionHealth(), [], _Connection()
    attempts = 0

    async def connect() -> Any:
        nonlocal attempts
        attempts += 1
        if attempts < 12:
            raise ConnectionRefusedError(111, "Connection refused")
        return connection

    async def sleep(seconds: float) -> None:
        assert health.states() == {"router_listen": "down"}
        waits.append(seconds)

    policy = ReconnectPolicy(first_seconds=0.05, max_seconds=1.0)
    opened = await reopen("router_listen", connect, health, policy=policy, sleep=sleep)

    assert opened is connection
    assert health.states() == {"router_listen": "up"}
    assert len(waits) == 11
    assert all(0 <= wait <= min(1.0, 0.05 * 2**n) for n, wait in enumerate(waits))
    assert len(set(waits)) == len(waits)  # jittered: instances do not retry in step


async def test_a_connection_whose_preparation_fails_is_terminated_and_retried() -> None:
    made: list[_Connection] = []

    async def connect() -> Any:
        made.append(_Connection())
        return made[-1]

    async def prepare(_: Any) -> None:
        if len(made) == 1:
            raise asyncpg.AdminShutdownError("terminating connection due to administrator command")

    health = ConnectionHealth()
    opened = await reopen("router_listen", connect, health, prepare=prepare, sleep=_no_wait)
    assert opened is made[1]
    assert made[0].terminated
    assert not made[1].terminated
    assert health.states() == {"router_listen": "up"}
