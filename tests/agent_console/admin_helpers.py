"""What an admin does around agent-console tests: find users, put them in teams, read the
audit log — all through the HTTP API."""

from __future__ import annotations

from typing import Any

from tests.channels.chat.conftest import Desk


async def user_id(desk: Desk, username: str) -> int:
    users = await desk.client.get("/api/v1/users", params={"limit": 200}, headers=desk.admin)
    assert users.status_code == 200, users.text
    found: int = next(u["id"] for u in users.json()["items"] if u["username"] == username)
    return found


async def set_team(desk: Desk, user_id: int, team: str) -> None:
    changed = await desk.client.patch(
        f"/api/v1/users/{user_id}", json={"team": team}, headers=desk.admin
    )
    assert changed.status_code == 200, changed.text


async def audit(desk: Desk, **params: object) -> list[dict[str, Any]]:
    found = await desk.client.get("/api/v1/audit", params=params, headers=desk.admin)
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items
