"""Chat messages are acknowledged only once stored: while the database does not answer, the
visitor and the agent get an ``error`` frame ``database_unavailable`` for what they sent
(never an ack), keep their sockets, and the same message sent again afterwards is stored
once."""

from __future__ import annotations

import httpx

from tests.agent_console.conftest import open_console, token_of
from tests.channels.chat.conftest import Desk
from tests.helpers import TcpRelay, eventually


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_no_ack_before_the_message_is_stored_and_a_typed_error_meanwhile(
    live_desk: Desk, client: httpx.AsyncClient, relay: TcpRelay
) -> None:
    await live_desk.agent("ann")
    started = await live_desk.start(name="王小明")
    contact_id = started["contact_id"]
    await live_desk.accept("ann", contact_id)
    console_url = live_desk.ws_url.replace("/ws/chat", "/ws/agent")
    async with live_desk.visitor() as visitor, open_console(console_url) as console:
        await visitor.hello(started)
        await visitor.next_of("agent_joined", skip=("position", "typing", "message"))
        await console.hello(token_of(live_desk.headers("ann")))
        await visitor.send({"type": "message", "client_id": "v1", "text": "订单没到"})
        ack, _ = await visitor.ack_and_echo()
        assert ack["client_id"] == "v1"

        await relay.cut()
        await visitor.send({"type": "message", "client_id": "v2", "text": "还在吗"})
        refused = await visitor.next_of("error", skip=("position", "typing", "message"))
        assert (refused["code"], refused["client_id"]) == ("database_unavailable", "v2")
        reply = {"type": "send_chat", "contact_id": contact_id, "text": "在的", "client_id": "a1"}
        failed = await console.ask(reply)
        assert (failed["type"], failed["code"]) == ("error", "database_unavailable"), failed
        assert failed["details"]["retry_after"] > 0

        await relay.restore()
        await eventually(lambda: _ready(client))
        await visitor.send({"type": "message", "client_id": "v2", "text": "还在吗"})
        stored = await visitor.next_of("ack", skip=("position", "typing", "message"))
        assert (stored["client_id"], stored["duplicate"]) == ("v2", False)
        said = await console.ask(reply)
        assert said["type"] == "result", said

    texts = [m["text"] for m in await live_desk.transcript(contact_id)]
    assert texts.count("还在吗") == texts.count("在的") == 1
