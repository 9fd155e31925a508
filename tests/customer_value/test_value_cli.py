"""``contactd demo`` grades its customers from a realistic order history, and
``contactd customers score`` evaluates everyone, run as an operator would."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.helpers import invoke_cli


async def _count(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> int:
    response = await client.get(
        "/api/v1/customers", params={**params, "limit": "200"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return len(response.json()["items"])


async def test_the_demo_shows_every_grade_vip_and_class_then_a_score_run_grades_the_new(
    clean_db: str, client: httpx.AsyncClient
) -> None:
    code, output = await asyncio.to_thread(invoke_cli, clean_db, "demo")
    assert code == 0, output
    assert " orders, " in output
    token = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "admin-demo"}
    )
    admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
    for grade in ("P", "G", "S", "B"):
        assert await _count(client, admin, grade=grade) > 0, grade
    for value_class in ("key", "major", "normal"):
        assert await _count(client, admin, value_class=value_class) > 0, value_class
    assert await _count(client, admin, vip="true") > 0
    segments = {
        s["name"]: s["members"]
        for s in (await client.get("/api/v1/segments", headers=admin)).json()
    }
    assert segments["vip"] > 0
    assert segments["new-customers"] > 0  # first bought after the last full evaluation
    statuses = {
        c["value"]["status"]
        for c in (
            await client.get("/api/v1/customers", params={"limit": "200"}, headers=admin)
        ).json()["items"]
    }
    assert statuses == {"graded", "new", "no_sale", "dormant", "prospect", "blocked"}

    until = datetime.now(UTC)
    report = await client.get(
        "/api/v1/reports/value",
        params={
            "by": "grade",
            "from": (until - timedelta(days=31)).isoformat(),
            "to": until.isoformat(),
        },
        headers=admin,
    )
    assert report.status_code == 200, report.text
    totals = {row["grade"]: row for row in report.json()["totals"]}
    assert totals["P"]["offered"] > 0
    assert sum(row["answered"] for row in totals.values()) > 0  # answers recorded as live ones
    assert all(row["asa_seconds"] is not None for row in totals.values() if row["answered"])

    code, output = await asyncio.to_thread(invoke_cli, clean_db, "customers", "score")
    assert code == 0, output
    assert "evaluated 200 customers" in output
    segments = {
        s["name"]: s["members"]
        for s in (await client.get("/api/v1/segments", headers=admin)).json()
    }
    assert segments["new-customers"] == 0  # graded by this evaluation


async def test_score_as_of_a_date_and_a_bad_date(clean_db: str) -> None:
    code, output = await asyncio.to_thread(
        invoke_cli, clean_db, "customers", "score", "--as-of", "2026-06-30"
    )
    assert code == 0, output
    assert "evaluated 0 customers as of 2026-06-30T23:59:59+08:00" in output
    code, output = await asyncio.to_thread(
        invoke_cli, clean_db, "customers", "score", "--as-of", "last tuesday"
    )
    assert code == 2
    assert "--as-of" in output
