"""Helpers for the cases tests: customers, queues and contacts through the public API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import UserFactory
from tests.supervisor.test_consult import center  # noqa: F401  (fixture of the console tests)

ALWAYS = {
    "timezone": "Asia/Shanghai",
    "weekly": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "holiday_country": None,
}


@dataclass
class Desk:
    client: httpx.AsyncClient
    admin: dict[str, str]
    make_user: UserFactory

    async def customer(self, name: str = "王小明") -> int:
        response = await self.client.post(
            "/api/v1/customers", json={"name": name}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        customer_id: int = response.json()["id"]
        return customer_id

    async def queue(self, name: str) -> None:
        skill = await self.client.post(
            "/api/v1/skills", json={"name": f"{name}-skill", "kind": "general"}, headers=self.admin
        )
        assert skill.status_code == 201, skill.text
        response = await self.client.post(
            "/api/v1/queues",
            json={
                "name": name,
                "display_name": name.title(),
                "channels": ["voice", "chat", "email"],
                "required_skills": [{"skill": f"{name}-skill", "level": 1}],
            },
            headers=self.admin,
        )
        assert response.status_code == 201, response.text

    async def contact(self, customer_id: int, queue: str = "support", **extra: Any) -> int:
        response = await self.client.post(
            "/api/v1/contacts",
            json={"channel": "email", "queue": queue, "customer_id": customer_id, **extra},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        contact_id: int = response.json()["id"]
        return contact_id

    async def always_open(self) -> None:
        """Business hours around the clock, so due times are creation + target."""
        response = await self.client.put(
            "/api/v1/cases/calendars",
            json={"calendars": {"default": ALWAYS}, "default_calendar": "default"},
            headers=self.admin,
        )
        assert response.status_code == 200, response.text

    async def policies(self, *policies: dict[str, Any]) -> None:
        response = await self.client.put(
            "/api/v1/cases/sla-policies", json={"policies": list(policies)}, headers=self.admin
        )
        assert response.status_code == 200, response.text

    async def case(self, customer_id: int, **fields: Any) -> dict[str, Any]:
        body = {"customer_id": customer_id, "type": "complaint", **fields}
        response = await self.client.post("/api/v1/cases", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def patch(self, case_id: int, **fields: Any) -> httpx.Response:
        return await self.client.patch(f"/api/v1/cases/{case_id}", json=fields, headers=self.admin)

    async def user_id(self, username: str) -> int:
        users = await self.client.get("/api/v1/users?limit=200", headers=self.admin)
        found: int = next(u["id"] for u in users.json()["items"] if u["username"] == username)
        return found


@pytest.fixture
async def desk(client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory) -> Desk:
    found = Desk(client, admin, make_user)
    await found.queue("support")
    return found
