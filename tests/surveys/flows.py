"""Steps the CSAT tests share: a chat with an agent, ended by the agent."""

from __future__ import annotations

from typing import Any

from tests.channels.chat.conftest import Desk, Visitor


async def assigned_chat(desk: Desk, visitor: Visitor, agent: str, **body: Any) -> int:
    """A chat the agent has accepted, with the visitor's socket attached; its contact id."""
    started = await desk.start(**body)
    await visitor.hello(started)
    await desk.accept(agent, started["contact_id"])
    await visitor.next_of("agent_joined", skip=("position", "message"))
    contact_id: int = started["contact_id"]
    return contact_id


async def end_by_agent(desk: Desk, visitor: Visitor, agent: str, contact_id: int) -> dict[str, Any]:
    """The agent ends the chat; the visitor hears ``ended`` then ``csat_request``."""
    ended = await desk.client.post(
        f"/api/v1/contacts/{contact_id}/chat/end", headers=desk.headers(agent)
    )
    assert ended.status_code == 200, ended.text
    assert await visitor.next_of("ended", skip=("position", "message")) == {
        "type": "ended",
        "by": "agent",
    }
    request: dict[str, Any] = await visitor.next_of("csat_request")
    return request
