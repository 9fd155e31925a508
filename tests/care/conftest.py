"""Care over the running service. The app's own scheduler sleeps an hour between rounds
(its first round, at start, finds every rule off), so each test runs its days by hand; the
quiet hours are off so a call made at any time of the day is not held back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from tests.conftest import make_settings
from tests.routing_service.conftest import Center, center  # noqa: F401  (fixture)

__all__ = ["Center", "care_settings"]


def care_settings() -> Settings:
    return make_settings(
        care_poll_seconds=3600, quiet_hours_start=time(0, 0), quiet_hours_end=time(0, 0)
    )


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    application = create_app(care_settings(), database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


def today(app: FastAPI) -> date:
    zone = app.state.settings.zone
    return datetime.now(UTC).astimezone(zone).date()


def days_ago(app: FastAPI, days: int) -> str:
    """Noon local, ``days`` local days ago, as an ISO instant."""
    zone = app.state.settings.zone
    return datetime.combine(today(app) - timedelta(days=days), time(12), tzinfo=zone).isoformat()


async def customer(client: httpx.AsyncClient, admin: dict[str, str], **fields: Any) -> int:
    body = {"name": "王小明", "phones": ["13800138000"], "language": "zh-CN", **fields}
    response = await client.post("/api/v1/customers", json=body, headers=admin)
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id


async def order(
    client: httpx.AsyncClient, admin: dict[str, str], customer_id: int, placed_at: str, no: str
) -> None:
    response = await client.post(
        f"/api/v1/customers/{customer_id}/orders",
        json={"order_id": no, "placed_at": placed_at, "status": "paid", "amount": "199.00"},
        headers=admin,
    )
    assert response.status_code in (200, 201), response.text


async def rule(
    client: httpx.AsyncClient, admin: dict[str, str], key: str, **change: Any
) -> dict[str, Any]:
    response = await client.put(f"/api/v1/care/rules/{key}", json=change, headers=admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def run(
    client: httpx.AsyncClient, admin: dict[str, str], day: date, *, dry_run: bool = False
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/care/run?date={day.isoformat()}&dry_run={str(dry_run).lower()}", headers=admin
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def day7_call(
    app: FastAPI, at: Center, *, queue: str = "care", channels: tuple[str, ...] = ("voice",)
) -> int:
    """A queue, a customer with a sale seven days ago and the day-7 call rule into the
    queue; the customer's id."""
    await at.queue(queue, [("support", 1)], channels=list(channels))
    customer_id = await customer(at.client, at.admin)
    await order(at.client, at.admin, customer_id, days_ago(app, 7), "SO-7")
    await rule(at.client, at.admin, "day7", enabled=True, queue=queue)
    return customer_id
