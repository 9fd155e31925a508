"""Inbound email on the agent console: a real server with its email channel, a real console
websocket, real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.agents import protocol as p
from app.agents.protocol_doc import MORE_EXAMPLES
from tests.agent_console.conftest import Console, open_console, token_of
from tests.channels.email.conftest import (  # noqa: F401  (fixtures)
    app,
    build_raw,
    center,
    post_email,
    relay,
    text_part,
)
from tests.helpers import live_server
from tests.routing_service.conftest import Center

FIRST_ID = "<first.1@mail.example.cn>"


@pytest.fixture
async def console_url(app: FastAPI) -> AsyncIterator[str]:  # noqa: F811
    async with live_server(app) as url:
        yield url.replace("http://", "ws://") + "/ws/agent"


async def _email(client: httpx.AsyncClient, **raw: Any) -> dict[str, Any]:
    response = await post_email(client, build_raw(**raw))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _answer(client: httpx.AsyncClient, number: int, text: str, **raw: Any) -> dict[str, Any]:
    """The customer's answer on the first email's thread."""
    return await _email(
        client,
        subject="Re: Order question",
        message_id=f"<answer.{number}@mail.example.cn>",
        body=text_part(text),
        extra={"In-Reply-To": FIRST_ID, "References": FIRST_ID, **raw.pop("extra", {})},
        **raw,
    )


async def _logged_in(console: Console, center: Center) -> None:  # noqa: F811
    await console.hello(token_of(center.headers("li.na")))
    await console.next_of("snapshot")
    ready = await console.ask({"type": "set_state", "state": "available"})
    assert ready["type"] == "result", ready


async def test_an_email_on_a_held_thread_reaches_the_console_and_resumes(
    app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    client: httpx.AsyncClient,
    console_url: str,
) -> None:
    await center.agent("li.na", {"support": 3})
    token = token_of(center.headers("li.na"))
    async with open_console(console_url) as console:
        await _logged_in(console, center)
        first = await _email(client, message_id=FIRST_ID)
        contact_id = first["contact_id"]
        offer = await console.next_of("offer")
        assert offer["contact_id"] == contact_id

        # Offered, not yet held: the answer is stored but not pushed.
        early = await _answer(client, 1, "还在吗？")
        assert early["outcome"] == "threaded"
        accepted = await console.ask({"type": "accept", "contact_id": contact_id})
        assert (accepted["type"], accepted["status"]) == ("result", "applied"), accepted

        # Assigned: the next answer is pushed, with the console's numbering.
        answer = await _answer(client, 2, "请尽快发货，谢谢。")
        assert answer["outcome"] == "threaded"
        frame = await console.next_of("chat_message")
        assert frame["message_id"] == answer["message_id"]  # the early one never came
        assert frame["channel"] == "email"
        assert frame["contact_id"] == contact_id
        assert frame["text"] == "请尽快发货，谢谢。"
        assert frame["subject"] == "Re: Order question"
        assert frame["from_address"] == "zhang.san@example.cn"
        assert frame["from_name"] == "张三"
        assert frame["message_seq"] == 3  # the first email, the early answer, this one
        assert (frame["truncated"], frame["automatic"], frame["reopened"]) == (
            False,
            None,
            False,
        )
        assert frame["seq"] == console.last_seq

        # An out-of-office answer on the thread is shown too, flagged as automatic.
        automatic = await _answer(
            client, 3, "I am out of the office.", extra={"Auto-Submitted": "auto-replied"}
        )
        assert automatic["outcome"] == "automatic"
        robot = await console.next_of("chat_message")
        assert robot["message_id"] == automatic["message_id"]
        assert robot["automatic"] == "auto_submitted"
        last_seen = console.last_seq

    # While the console is away: a long email is numbered and kept.
    long_body = "很长的邮件。" * 1000
    missed = await _answer(client, 4, long_body)
    async with open_console(console_url) as console:
        console.last_seq = last_seen
        welcome = await console.hello(token, last_seq=last_seen)
        assert welcome["resumed"] is True
        replayed = await console.recv()
        assert replayed["type"] == "chat_message", replayed
        assert replayed["seq"] == last_seen + 1
        assert replayed["message_id"] == missed["message_id"]
        assert replayed["truncated"] is True
        assert replayed["text"] == long_body[:4000]
        assert (await console.ask({"type": "ping"}))["seq"] == replayed["seq"]


async def test_an_email_in_wrap_up_reaches_the_agent_and_reopens_the_contact(
    app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    client: httpx.AsyncClient,
    console_url: str,
) -> None:
    await center.agent("li.na", {"support": 3})
    async with open_console(console_url) as console:
        await _logged_in(console, center)
        contact_id = (await _email(client, message_id=FIRST_ID))["contact_id"]
        await console.next_of("offer")
        await console.ask({"type": "accept", "contact_id": contact_id})
        ended = await console.ask({"type": "end_contact", "contact_id": contact_id})
        assert (ended["type"], ended["status"]) == ("result", "applied"), ended
        await center.wait_state(contact_id, "wrap_up", "li.na")

        answer = await _answer(client, 1, "还有一个问题。")
        assert answer["outcome"] == "reopened"
        frame = await console.next_of("chat_message")
        assert (frame["channel"], frame["contact_id"]) == ("email", contact_id)
        assert frame["message_id"] == answer["message_id"]
        assert frame["reopened"] is True
        assert frame["text"] == "还有一个问题。"


def test_the_email_example_is_a_valid_frame() -> None:
    for example in MORE_EXAMPLES[p.ChatMessage]:
        assert p.ChatMessage.model_validate(example).channel == "email"
