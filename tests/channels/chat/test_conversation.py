"""A chat through the running service: visitor and agent talk, reconnect, resend, end."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from fastapi import FastAPI

from app.database import libpq_url
from tests.channels.chat.conftest import Desk, Visitor, eventually


async def _assigned_chat(desk: Desk, visitor: Visitor, **body: Any) -> dict[str, Any]:
    """A started, greeted chat that li.na has accepted."""
    started = await desk.start(**body)
    await visitor.hello(started)
    greeting = await visitor.next_of("message")
    assert (greeting["seq"], greeting["author"], greeting["event"]) == (1, "system", "greeting")
    await desk.accept("li.na", started["contact_id"])
    joined = await visitor.next_of("agent_joined")
    assert joined["agent_name"] == "li.na"
    return started


async def test_chat_runs_both_ways(live_desk: Desk, app: FastAPI) -> None:
    agent_id = await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor, name="王小明")
        contact_id = started["contact_id"]

        async with app.state.bus.subscribe(f"agent:{agent_id}") as agent_feed:
            await visitor.send({"type": "message", "client_id": "c-1", "text": "我的订单还没到"})
            ack, echo = await visitor.ack_and_echo()
            # The ack means committed: the transcript has it at once.
            transcript = await live_desk.transcript(contact_id, live_desk.headers("li.na"))
            assert [m["seq"] for m in transcript] == [1, ack["seq"]]
            assert transcript[-1]["author"] == "customer"
            assert transcript[-1]["text"] == "我的订单还没到"
            assert echo == echo | {"seq": ack["seq"], "author": "customer", "client_id": "c-1"}
            pushed = await asyncio.wait_for(agent_feed.get(), 5)
            assert pushed == {
                "type": "chat_message",
                "contact_id": contact_id,
                "seq": ack["seq"],
                "text": "我的订单还没到",
            }

        said = await live_desk.say("li.na", contact_id, "您好，我来查一下。")
        assert said.status_code == 201, said.text
        heard = await visitor.next_of("message")
        assert heard["seq"] == said.json()["seq"] == 3
        assert (heard["author"], heard["agent_name"], heard["text"]) == (
            "agent",
            "li.na",
            "您好，我来查一下。",
        )

        typing = await live_desk.client.post(
            f"/api/v1/contacts/{contact_id}/typing",
            json={"is_typing": True},
            headers=live_desk.headers("li.na"),
        )
        assert typing.status_code == 204
        assert await visitor.next_of("typing", skip=("position",)) == {
            "type": "typing",
            "author": "agent",
            "is_typing": True,
        }


async def test_reconnect_gets_exactly_what_was_missed(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        contact_id = started["contact_id"]
        assert (await live_desk.say("li.na", contact_id, "one")).status_code == 201
        assert (await visitor.next_of("message"))["seq"] == 2

    for text in ("two", "three"):  # while the visitor is away
        assert (await live_desk.say("li.na", contact_id, text)).status_code == 201

    async with live_desk.visitor() as visitor:
        await visitor.hello(started, last_seq=2)
        missed = [await visitor.next_of("message") for _ in range(2)]
        assert [(m["seq"], m["text"]) for m in missed] == [(3, "two"), (4, "three")]
        await visitor.next_of("agent_joined")  # who is on the other side
        assert (await live_desk.say("li.na", contact_id, "four")).status_code == 201
        assert (await live_desk.say("li.na", contact_id, "five")).status_code == 201
        # a duplicate of 4 would come before 5: the stream is in order
        live = [await visitor.next_of("message") for _ in range(2)]
        assert [(m["seq"], m["text"]) for m in live] == [(5, "four"), (6, "five")]


async def test_reconnect_while_the_agent_keeps_writing(live_desk: Desk) -> None:
    """Messages written during the catch-up arrive once each, in order, none lost."""
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
    contact_id = started["contact_id"]

    async def agent_writes(count: int) -> None:
        for n in range(count):
            response = await live_desk.say("li.na", contact_id, f"m{n}")
            assert response.status_code == 201, response.text

    writer = asyncio.create_task(agent_writes(30))
    await asyncio.sleep(0.05)  # let some land before the reconnect, the rest during it
    async with live_desk.visitor() as visitor:
        await visitor.hello(started, last_seq=1)
        seqs: list[int] = []
        while len(seqs) < 30:
            frame = await visitor.next_of("message", skip=("position", "agent_joined"))
            seqs.append(frame["seq"])
        await writer
    assert seqs == list(range(2, 32))


async def test_a_resent_client_id_is_stored_once(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        message = {"type": "message", "client_id": "c-7", "text": "还在吗？"}
        await visitor.send(message)
        first, _ = await visitor.ack_and_echo()
        await visitor.send(message)  # the widget did not see the ack in time
        again = await visitor.next_of("ack")
        assert again == first | {"duplicate": True}

    async with live_desk.visitor() as visitor:  # and after a reconnect
        await visitor.hello(started, last_seq=first["seq"])
        await visitor.send(message)
        assert (await visitor.next_of("ack", skip=("position", "agent_joined")))["seq"] == first[
            "seq"
        ]

    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["author"] == "customer"] == ["还在吗？"]


async def test_two_tabs_sending_the_same_message_at_once_store_it_once(live_desk: Desk) -> None:
    started = await live_desk.start()
    async with live_desk.visitor() as one, live_desk.visitor() as two:
        await one.hello(started)
        await two.hello(started)
        message = {"type": "message", "client_id": "same", "text": "hello"}
        await asyncio.gather(one.send(message), two.send(message))
        acks = [await one.next_of("ack", skip=("position", "message"))]
        acks.append(await two.next_of("ack", skip=("position", "message")))
    assert acks[0]["seq"] == acks[1]["seq"]
    assert sorted(a.get("duplicate", False) for a in acks) == [False, True]
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["author"] == "customer"] == ["hello"]


async def test_concurrent_writers_get_distinct_consecutive_seqs(
    live_desk: Desk, clean_db: str
) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        contact_id = started["contact_id"]
        for n in range(10):
            await visitor.send({"type": "message", "client_id": f"v{n}", "text": f"v{n}"})
        said = await asyncio.gather(
            *(live_desk.say("li.na", contact_id, f"a{n}") for n in range(10))
        )
        assert all(r.status_code == 201 for r in said)
        acks = [await visitor.next_of("ack", skip=("position", "message")) for _ in range(10)]
        assert not any(a["duplicate"] for a in acks)
    conn = await asyncpg.connect(libpq_url(clean_db))
    try:
        seqs = [r["seq"] for r in await conn.fetch("SELECT seq FROM messages ORDER BY seq")]
    finally:
        await conn.close()
    assert seqs == list(range(1, 22))


async def test_the_visitor_ends_an_assigned_chat(live_desk: Desk, app: FastAPI) -> None:
    agent_id = await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        contact_id = started["contact_id"]
        await visitor.send({"type": "message", "client_id": "c-1", "text": "谢谢，再见"})
        await visitor.ack_and_echo()
        async with app.state.bus.subscribe(f"agent:{agent_id}") as agent_feed:
            await visitor.send({"type": "end"})
            notice = await visitor.next_of("message")
            assert (notice["author"], notice["event"]) == ("system", "ended")
            assert await visitor.next_of("ended") == {"type": "ended", "by": "visitor"}
            assert await visitor.closed_with() == 1000
            told = await asyncio.wait_for(agent_feed.get(), 5)
            assert told == {"type": "chat_ended", "contact_id": contact_id, "by": "visitor"}

    await live_desk.wait_state(contact_id, "wrap_up")  # the router ended the contact
    transcript = await live_desk.transcript(contact_id, live_desk.headers("li.na"))
    assert [m["author"] for m in transcript] == ["system", "customer", "system"]
    said = await live_desk.say("li.na", contact_id, "too late")
    assert said.status_code == 409
    assert said.json()["error"]["code"] == "chat_ended"

    async with live_desk.visitor() as visitor:  # coming back shows the transcript, then ended
        await visitor.hello(started)
        assert [(await visitor.next_of("message"))["seq"] for _ in range(3)] == [1, 2, 3]
        assert await visitor.next_of("ended") == {"type": "ended", "by": "visitor"}
        assert await visitor.closed_with() == 1000


async def test_the_visitor_leaves_the_queue(live_desk: Desk) -> None:
    started = await live_desk.start()  # no agent is available
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.send({"type": "end"})
        assert await visitor.next_of("ended", skip=("position", "message")) == {
            "type": "ended",
            "by": "visitor",
        }
    contact = await live_desk.wait_state(started["contact_id"], "abandoned")
    assert contact["abandoned_at"] is not None


async def test_the_agent_ends_the_chat(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        contact_id = started["contact_id"]
        path = f"/api/v1/contacts/{contact_id}/chat/end"
        ended = await live_desk.client.post(path, headers=live_desk.headers("li.na"))
        assert ended.status_code == 200, ended.text
        assert ended.json() | {"ended_at": None} == {
            "contact_id": contact_id,
            "ended_at": None,
            "ended_by": "agent",
            "routing": "end",
        }
        notice = await visitor.next_of("message")
        assert (notice["event"], notice["author"]) == ("ended", "system")
        assert await visitor.next_of("ended") == {"type": "ended", "by": "agent"}
        await visitor.next_of("csat_request")  # the socket stays open for the survey
        await visitor.send({"type": "end"})  # the visitor leaves without rating
        assert await visitor.closed_with() == 1000

    await live_desk.wait_state(contact_id, "wrap_up")
    again = await live_desk.client.post(path, headers=live_desk.headers("li.na"))
    assert again.status_code == 200
    assert again.json()["routing"] == "none"
    transcript = await live_desk.transcript(contact_id, live_desk.headers("li.na"))
    assert [m["event"] for m in transcript] == ["greeting", "ended"]


async def test_the_generic_end_closes_the_chat_too(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        contact_id = started["contact_id"]
        response = await live_desk.client.post(
            f"/api/v1/contacts/{contact_id}/end", headers=live_desk.headers("li.na")
        )
        assert response.status_code == 200, response.text
        assert await visitor.next_of("ended", skip=("position", "message")) == {
            "type": "ended",
            "by": "agent",
        }
        await visitor.next_of("csat_request")
        await visitor.send({"type": "end"})
        assert await visitor.closed_with() == 1000


async def test_only_the_contacts_agent_or_a_supervisor_sees_the_chat(
    live_desk: Desk, supervisor: dict[str, str]
) -> None:
    await live_desk.agent("li.na")
    await live_desk.agent("tom", available=False)
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
    contact_id = started["contact_id"]
    path = f"/api/v1/contacts/{contact_id}/messages"
    other = live_desk.headers("tom")
    assert (await live_desk.client.get(path, headers=other)).status_code == 403
    assert (await live_desk.say("tom", contact_id, "hi")).status_code == 403
    ended = await live_desk.client.post(f"/api/v1/contacts/{contact_id}/chat/end", headers=other)
    assert ended.status_code == 403
    assert (await live_desk.client.get(path)).status_code == 401
    assert len(await live_desk.transcript(contact_id, supervisor)) == 1
    page = await live_desk.transcript(contact_id, live_desk.headers("li.na"), after_seq=1)
    assert page == []


async def test_a_waiting_visitor_hears_the_line_move(live_desk: Desk) -> None:
    first = await live_desk.start()
    second = await live_desk.start()
    assert (first["position"], second["position"]) == (1, 2)
    assert second["expected_wait_seconds"] is None  # nobody on shift: unknown, not a figure
    async with live_desk.visitor() as one, live_desk.visitor() as two:
        await one.hello(first)
        await two.hello(second)
        assert (await two.next_of("position", skip=("message",)))["position"] == 2
        await one.send({"type": "end"})
        moved = await two.next_of("position", skip=("message",))
        assert moved["position"] == 1


async def test_the_agent_hears_visitor_typing(live_desk: Desk, app: FastAPI) -> None:
    agent_id = await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        async with app.state.bus.subscribe(f"agent:{agent_id}") as agent_feed:
            await visitor.send({"type": "typing", "is_typing": True})
            typed = await asyncio.wait_for(agent_feed.get(), 5)
    assert typed == {
        "type": "chat_typing",
        "contact_id": started["contact_id"],
        "is_typing": True,
    }


async def test_the_transcript_outlives_the_chat(live_desk: Desk) -> None:
    await live_desk.agent("li.na")
    async with live_desk.visitor() as visitor:
        started = await _assigned_chat(live_desk, visitor)
        await visitor.send({"type": "message", "client_id": "x", "text": "bye"})
        await visitor.ack_and_echo()
        await visitor.send({"type": "end"})
        await visitor.next_of("ended", skip=("position", "message"))
    contact_id = started["contact_id"]
    await live_desk.wait_state(contact_id, "wrap_up")
    await live_desk.client.post("/api/v1/agents/me/wrap-up/end", headers=live_desk.headers("li.na"))
    await live_desk.wait_state(contact_id, "ended")

    async def kept() -> list[dict[str, Any]]:
        return await live_desk.transcript(contact_id)

    transcript = await eventually(kept)
    assert [m["text"] for m in transcript if m["author"] == "customer"] == ["bye"]


async def test_no_ack_when_the_commit_fails(live_desk: Desk, clean_db: str) -> None:
    """A deferred constraint fails at COMMIT, after the row was written: an ack sent any
    earlier than after the commit would reach the visitor here."""
    conn = await asyncpg.connect(libpq_url(clean_db))
    await conn.execute(
        """
        CREATE FUNCTION chat_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.body = 'fail at commit' THEN RAISE EXCEPTION 'refused at commit'; END IF;
            RETURN NEW;
        END $$;
        CREATE CONSTRAINT TRIGGER chat_test_refuse AFTER INSERT ON messages
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION chat_test_refuse();
        """
    )
    try:
        started = await live_desk.start()
        async with live_desk.visitor() as visitor:
            await visitor.hello(started)
            await visitor.next_of("message")
            await visitor.send({"type": "message", "client_id": "f", "text": "fail at commit"})
            error = await visitor.next_of("error")
            assert (error["code"], error["client_id"]) == ("internal_error", "f")
            await visitor.send({"type": "message", "client_id": "ok", "text": "fine"})
            ack, echo = await visitor.ack_and_echo()
            assert (ack["client_id"], ack["seq"], echo["seq"]) == ("ok", 2, 2)
    finally:
        await conn.execute(
            "DROP TRIGGER chat_test_refuse ON messages; DROP FUNCTION chat_test_refuse();"
        )
        await conn.close()
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["author"] == "customer"] == ["fine"]
