"""Helpers for driving routing through the running service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import UserFactory
from tests.helpers import eventually

__all__ = ["Center", "eventually"]


@dataclass
class Center:
    client: httpx.AsyncClient
    admin: dict[str, str]
    make_user: UserFactory
    agents: dict[str, tuple[int, dict[str, str]]]

    async def skill(self, name: str, kind: str = "general") -> None:
        response = await self.client.post(
            "/api/v1/skills", json={"name": name, "kind": kind}, headers=self.admin
        )
        assert response.status_code == 201, response.text

    async def queue(
        self,
        name: str,
        skills: list[tuple[str, int]],
        channels: list[str] | None = None,
        strategy: str = "longest_idle",
    ) -> None:
        response = await self.client.post(
            "/api/v1/queues",
            json={
                "name": name,
                "display_name": name.title(),
                "channels": channels or ["voice", "chat", "email"],
                "required_skills": [{"skill": s, "level": lvl} for s, lvl in skills],
                "strategy": strategy,
            },
            headers=self.admin,
        )
        assert response.status_code == 201, response.text

    async def agent(
        self, name: str, skills: dict[str, int], capacity: dict[str, int] | None = None
    ) -> int:
        headers = await self.make_user(name)
        me = await self.client.get("/api/v1/users?role=agent&limit=200", headers=self.admin)
        agent_id = next(u["id"] for u in me.json()["items"] if u["username"] == name)
        response = await self.client.put(
            f"/api/v1/agents/{agent_id}/skills",
            json=[{"skill": s, "level": lvl} for s, lvl in skills.items()],
            headers=self.admin,
        )
        assert response.status_code == 200, response.text
        if capacity is not None:
            patched = await self.client.patch(
                f"/api/v1/users/{agent_id}", json={"capacity": capacity}, headers=self.admin
            )
            assert patched.status_code == 200, patched.text
        self.agents[name] = (agent_id, headers)
        return agent_id

    def headers(self, name: str) -> dict[str, str]:
        return self.agents[name][1]

    def id(self, name: str) -> int:
        return self.agents[name][0]

    async def set_state(self, name: str, state: str, reason: str | None = None) -> httpx.Response:
        body = {"state": state} | ({"reason": reason} if reason else {})
        return await self.client.put(
            "/api/v1/agents/me/state", json=body, headers=self.headers(name)
        )

    async def available(self, name: str) -> None:
        response = await self.set_state(name, "available")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "applied"

    async def contact(self, queue: str, channel: str = "voice", **extra: Any) -> int:
        response = await self.client.post(
            "/api/v1/contacts",
            json={"channel": channel, "queue": queue, **extra},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        contact_id: int = response.json()["id"]
        return contact_id

    async def get(self, contact_id: int) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/contacts/{contact_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def state_of(self, contact_id: int) -> tuple[str, int | None]:
        contact = await self.get(contact_id)
        return contact["state"], contact["agent_id"]

    async def wait_state(
        self, contact_id: int, state: str, agent: str | None = None
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            contact = await self.get(contact_id)
            if contact["state"] != state:
                return None
            if agent is not None and contact["agent_id"] != self.id(agent):
                return None
            return contact

        result: dict[str, Any] = await eventually(check)
        return result

    async def act(
        self, name: str, contact_id: int, action: str, json: Any = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/contacts/{contact_id}/{action}", json=json, headers=self.headers(name)
        )

    async def publish(self, document: dict[str, Any]) -> httpx.Response:
        return await self.client.put(
            "/api/v1/routing/config", json={"document": document}, headers=self.admin
        )


@pytest.fixture
async def center(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> Center:
    found = Center(client, admin, make_user, {})
    for name, kind in (
        ("support", "general"),
        ("billing", "general"),
        ("mandarin", "language"),
        ("english", "language"),
    ):
        await found.skill(name, kind)
    return found
