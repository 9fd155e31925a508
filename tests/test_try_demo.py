"""``make run``'s demo as a newcomer meets it: ``contactd serve --demo`` in its own process,
its printed guide, and every channel tried with ``contactd try`` and no provider."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from app.cli import cli
from app.demo.loader import AGENTS, DEMO_HOTLINE, QUEUES
from app.demo.mode import DEMO_CTI_SECRET, DEMO_TWILIO_AUTH_TOKEN, DemoCredentialsRefused
from app.ivr.demo import demo_document
from app.ivr.flow import Flow
from app.main import create_app
from app.routing.hours import is_open
from tests.conftest import make_settings
from tests.helpers import eventually, free_port, live_server


@dataclass
class DemoService:
    url: str
    smtp_port: int
    guide: str
    client: httpx.AsyncClient
    admin: dict[str, str]

    def env(self) -> dict[str, str]:
        return {
            "CONTACTD_PUBLIC_BASE_URL": self.url,
            "CONTACTD_SMTP_PORT": str(self.smtp_port),
            "CONTACTD_TWILIO_AUTH_TOKEN": "",
            "CONTACTD_CTI_SECRET": "",
            "CONTACTD_LOG_LEVEL": "WARNING",
        }

    def try_(self, *args: str, stdin: str | None = None) -> tuple[int, str]:
        env = {k: v for k, v in self.env().items() if v}
        result = CliRunner().invoke(cli, ["try", *args], env=env, input=stdin)
        return result.exit_code, result.output

    async def newest(self, channel: str) -> dict:
        response = await self.client.get(
            f"/api/v1/contacts?channel={channel}&limit=1", headers=self.admin
        )
        return response.json()["items"][0]


ROOT = Path(__file__).resolve().parent.parent


def _service_environment(database_url: str, port: int, smtp_port: int) -> dict[str, str]:
    # a newcomer's shell: no CONTACTD_ settings, and not inside another make (`make test`
    # runs this suite; its MAKELEVEL would make the inner make print "Entering directory")
    outer_make = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CONTACTD_") and k not in outer_make
    }
    env.update(
        CONTACTD_DATABASE_URL=database_url,
        CONTACTD_PORT=str(port),
        CONTACTD_SMTP_PORT=str(smtp_port),
    )
    return env


@pytest.fixture
async def demo_service(clean_db: str) -> AsyncIterator[DemoService]:
    """``make run``, as a newcomer types it (on free ports and the test database)."""
    port, smtp_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        "make", "run",
        cwd=ROOT,
        env=_service_environment(clean_db, port, smtp_port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("  .venv/bin/contactd try chat"):
        line = (await process.stdout.readline()).decode()
        assert line, f"the service stopped: {''.join(lines)}"
        lines.append(line.rstrip("\n"))
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:

            async def up() -> bool:
                try:
                    return (await client.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(up, seconds=60)
            token = await client.post(
                "/api/v1/auth/token", data={"username": "admin", "password": "admin-demo"}
            )
            admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
            yield DemoService(url, smtp_port, "\n".join(lines), client, admin)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        await process.wait()


async def test_make_run_guides_then_every_channel_is_tried(demo_service: DemoService) -> None:
    """One service for the four (each start loads the demo): the guide, then each try."""
    _check_guide(demo_service)
    await _try_call(demo_service)
    await _try_email(demo_service)
    await _try_chat(demo_service)


def _check_guide(demo_service: DemoService) -> None:
    guide = demo_service.guide
    assert guide.startswith("demo loaded: 4 queues, 12 agents")  # nothing printed before it
    assert f"contactd serves {demo_service.url}" in guide
    for page in ("/console", "/wallboard", "/admin", "/demo/shop"):
        assert f"{demo_service.url}{page}" in guide
    for login in ("admin / admin-demo", "zhou.min / supervisor-demo", "password agent-demo"):
        assert login in guide
    for agent in AGENTS:
        assert agent.username in guide
    for spec in QUEUES:
        if "voice" in spec.channels:
            assert spec.phone in guide
        if "email" in spec.channels:
            assert spec.email in guide
        if "chat" in spec.channels:
            assert f"  {spec.name} " in guide
    assert DEMO_HOTLINE in guide
    assert f"SMTP on 127.0.0.1:{demo_service.smtp_port}" in guide
    assert f"CONTACTD_TWILIO_AUTH_TOKEN={DEMO_TWILIO_AUTH_TOKEN}" in guide
    for channel in ("call", "email", "chat"):
        assert f".venv/bin/contactd try {channel} " in guide
    assert "Warning" not in guide
    assert len(guide.splitlines()) < 40


async def _try_call(demo_service: DemoService) -> None:
    """A signed call through the bilingual IVR into the hold loop, then the caller hangs up."""
    code, output = await asyncio.to_thread(
        demo_service.try_, "call", "--from", "+8613800138000", "--to", DEMO_HOTLINE,
        "--digits", "2,2", "--url", demo_service.url,
    )  # fmt: skip
    assert code == 0, output
    assert "hears [zh-CN] 您好，欢迎致电。普通话服务请按2。" in output
    assert "presses 2" in output
    contact = await demo_service.newest("voice")
    assert contact["attributes"]["ivr"]["inputs"]
    if _office_open(datetime.now(UTC)):  # the second 2 picks a service, then the caller waits
        assert "on hold (turn 1)" in output
        assert "the caller hangs up" in output
        assert contact["state"] == "abandoned"
    else:  # the closed menu: the second 2 asks for a callback
        assert "我们现在不在服务时间。留言请按1，预约回电请按2。" in output
        assert "我们已记录您的号码，将在服务时间内给您回电。再见。" in output


def _office_open(at: datetime) -> bool:
    """Whether the demo hotline's office hours are open at ``at``, by the IVR's own rule."""
    hours = Flow.model_validate(demo_document()).hours["office"]
    return is_open(hours.to_core(), at)


async def _try_email(demo_service: DemoService) -> None:
    """GBK mail over the demo's SMTP listener becomes an email contact."""
    code, output = await asyncio.to_thread(
        demo_service.try_, "email", "--from", "li.lei@example.cn", "--to", "Billing@Example.com",
        "--subject", "发票抬头", "--body", "请帮我改一下发票抬头。", "--charset", "gbk",
    )  # fmt: skip
    assert code == 0, output
    assert "Message accepted" in output
    contact = await demo_service.newest("email")
    assert contact["subject"] == "发票抬头"
    messages = await demo_service.client.get(
        f"/api/v1/contacts/{contact['id']}/messages", headers=demo_service.admin
    )
    assert "请帮我改一下发票抬头。" in messages.json()[0]["text"]


async def _try_chat(demo_service: DemoService) -> None:
    """Each line of input is a stored message; the end of input leaves the chat."""
    code, output = await asyncio.to_thread(
        demo_service.try_,
        "chat",
        "--widget",
        "vip",
        "--name",
        "王小明",
        stdin="你好\n我的订单还没到\n",
    )
    assert code == 0, output
    assert "(stored, seq 1)" in output
    assert "(stored, seq 2)" in output
    assert "chat ended by the visitor" in output
    contact = await demo_service.newest("chat")
    messages = await demo_service.client.get(
        f"/api/v1/contacts/{contact['id']}/messages", headers=demo_service.admin
    )
    texts = [m["text"] for m in messages.json()]
    assert texts[:2] == ["你好", "我的订单还没到"]


def test_demo_credentials_are_refused_outside_demo_mode(clean_db: str) -> None:
    for name, value in (
        ("CONTACTD_TWILIO_AUTH_TOKEN", DEMO_TWILIO_AUTH_TOKEN),
        ("CONTACTD_CTI_SECRET", DEMO_CTI_SECRET),
    ):
        result = CliRunner().invoke(
            cli, ["serve"], env={"CONTACTD_DATABASE_URL": clean_db, name: value}
        )
        assert result.exit_code == 2
        assert f"{name} hold(s) the published demo value" in result.output
    with pytest.raises(DemoCredentialsRefused):
        create_app(make_settings(twilio_auth_token=DEMO_TWILIO_AUTH_TOKEN))
    create_app(make_settings(twilio_auth_token=DEMO_TWILIO_AUTH_TOKEN, demo=True))


async def test_try_against_a_service_without_twilio_says_why(app: FastAPI) -> None:
    async with live_server(app) as url:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["try", "call", "--to", "+86 400 820 6611", "--url", url]
        )
    assert result.exit_code == 1
    assert "403" in result.output
    assert "twilio_not_configured" in result.output
