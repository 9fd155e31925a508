"""No personal data in the logs at INFO: ids and outcomes, never names, emails or texts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.channels.chat.conftest import Desk
from tests.conftest import make_settings


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(log_level="INFO"), database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


async def test_a_whole_chat_logs_no_personal_data(
    live_desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    await live_desk.agent("li.na")
    started = await live_desk.start(name="王小明", email="wang.xm@example.cn")
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await live_desk.accept("li.na", started["contact_id"])
        await visitor.next_of("agent_joined", skip=("position", "message"))
        await visitor.send({"type": "message", "client_id": "c", "text": "我的订单号是58213"})
        await visitor.ack_and_echo()
        assert (
            await live_desk.say("li.na", started["contact_id"], "收到，马上查")
        ).status_code == 201
        await visitor.send({"type": "end"})
        await visitor.next_of("ended", skip=("position", "message", "agent_joined"))
    logged = capsys.readouterr().err
    assert "chat_started" in logged
    assert "chat_ended" in logged
    for secret in ("王小明", "wang.xm", "58213", "收到", started["token"]):
        assert secret not in logged
