"""The web apps in a real browser: Debian's Chromium (headless, driven by Playwright) against
a real ``contactd serve --demo`` process on a real PostgreSQL.

The service runs once per test session on a database of its own (the test database's name
plus ``_web``, created afresh), so the demo center it loads is not truncated by the other
tests' clean-up. Each test signs in a different demo agent and sets it offline at the end,
so no chat of one test is offered to another test's agent.

Every page is watched: a console error or an uncaught exception fails the test (a test may
allow a message it provokes, e.g. the connection refused while the service restarts).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect
from websockets.asyncio.client import ClientConnection, connect

from app.demo.loader import AGENT_PASSWORD
from tests.helpers import free_port, fresh_database, wait_until_ready

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 180.0  # the first start migrates and loads the demo's month of history
WAIT_MS = 15_000  # generous: the machine is shared; nothing is asserted on time
expect.set_options(timeout=WAIT_MS)  # assertions wait as long as actions do
JWT_SECRET = "web-tests-secret-that-is-long-enough-for-hs256"


@dataclass
class Service:
    """``contactd serve --demo`` in a process of its own; ``restart`` keeps its ports."""

    database_url: str
    port: int = field(default_factory=free_port)
    smtp_port: int = field(default_factory=free_port)
    closed_port: int = field(default_factory=free_port)  # nothing listens there
    process: asyncio.subprocess.Process | None = None
    log_path: Path = field(default_factory=lambda: ROOT / ".contactd" / "web-tests.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTACTD_")}
        env.update(
            CONTACTD_DATABASE_URL=self.database_url,
            CONTACTD_JWT_SECRET=JWT_SECRET,  # tokens outlive a restart, as in production
            CONTACTD_LOG_LEVEL="WARNING",
            CONTACTD_LOG_JSON="true",
            # answered calls are bridged through the provider's REST API: never the real one
            CONTACTD_TWILIO_API_BASE_URL=f"http://127.0.0.1:{self.closed_port}",
            # every test's chats start from 127.0.0.1: the per-address limit (10 a minute)
            # would refuse the later tests' (tests/channels/chat/test_admission.py tests it)
            CONTACTD_CHAT_SESSIONS_PER_ADDRESS="1000",
            # the demo's day-7 care calls would ring agents from 10:00 Shanghai time on,
            # offers the browser tests do not expect (tests/care covers them)
            CONTACTD_CARE_ENABLED="false",
        )
        return env

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "contactd"),
                "serve", "--demo",
                "--port", str(self.port),
                "--smtp-port", str(self.smtp_port),
                cwd=ROOT,
                env=self._environment(),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )  # fmt: skip
        await wait_until_ready(self.url, self.process, self.log_path, seconds=START_SECONDS)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            await self.process.wait()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def token(self, username: str, password: str = AGENT_PASSWORD) -> str:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            answer = await client.post(
                "/api/v1/auth/token", data={"username": username, "password": password}
            )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    async def client(self, username: str, password: str) -> httpx.AsyncClient:
        """An HTTP client of the service signed in as ``username``."""
        token = await self.token(username, password)
        return httpx.AsyncClient(
            base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )

    async def set_offline(self, username: str) -> None:
        """Take the agent out of routing (a console login of its own takes over)."""
        token = await self.token(username)
        async with connect(self.url.replace("http", "ws") + "/ws/agent") as ws:
            await ws.send(json.dumps({"type": "hello", "token": token, "last_seq": None}))
            await ws.send(json.dumps({"type": "set_state", "state": "offline", "ref": "off"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 30)).get("ref") != "off":
                pass


@asynccontextmanager
async def demo_service(database_url: str, name: str) -> AsyncIterator[Service]:
    """``contactd serve --demo`` on a fresh database of its own (``…_name``), logging to
    ``.contactd/name-tests.log``."""
    service = Service(await fresh_database(database_url, name))
    service.log_path = service.log_path.with_name(f"{name}-tests.log")
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture(scope="session")
async def web_service(database_url: str) -> AsyncIterator[Service]:
    async with demo_service(database_url, "web") as service:
        yield service


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once per session, before any I/O
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `apt-get install -y chromium` "
            "(.ci/run installs it). The browser tests never download a browser."
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--autoplay-policy=no-user-gesture-required"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Watched:
    """A page and what it said on its console: errors fail the test unless allowed."""

    page: Page
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@asynccontextmanager
async def watched_page(browser: Browser, base_url: str, locale: str) -> AsyncIterator[Watched]:
    context = await browser.new_context(
        base_url=base_url, locale=locale, viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error}"))
    try:
        yield watched
    finally:
        await context.close()
    assert watched.unexpected() == [], watched.unexpected()


@dataclass
class Visitor:
    """A web-chat visitor driven from Python over ``/ws/chat`` (as the widget would)."""

    service: Service
    session: dict[str, Any] = field(default_factory=dict)
    ws: ClientConnection | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0
    sent: int = 0

    async def start(self, **body: Any) -> int:
        async with httpx.AsyncClient(base_url=self.service.url, timeout=10) as client:
            answer = await client.post("/api/v1/chat/sessions", json=body)
        assert answer.status_code == 201, answer.text
        self.session = answer.json()
        return int(self.session["contact_id"])

    async def connect(self) -> None:
        self.ws = await connect(self.service.url.replace("http", "ws") + "/ws/chat")
        hello = {
            "type": "hello",
            "session_id": self.session["session_id"],
            "token": self.session["token"],
            "last_seq": self.last_seq,
        }
        await self.ws.send(json.dumps(hello))

    async def say(self, text: str) -> None:
        assert self.ws is not None
        self.sent += 1
        frame = {"type": "message", "client_id": f"v{self.sent}", "text": text}
        await self.ws.send(json.dumps(frame))

    async def typing(self) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "typing", "is_typing": True}))

    async def heard(self, text: str, seconds: float = 30) -> dict[str, Any]:
        """Read frames until a transcript line with this text (kept in ``lines``)."""
        for line in self.lines:
            if line["text"] == text:
                return line
        assert self.ws is not None
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), seconds))
            if frame["type"] == "message":
                self.lines.append(frame)
                self.last_seq = max(self.last_seq, frame["seq"])
                if frame["text"] == text:
                    return frame

    async def end(self) -> None:
        """Leave the chat (while waiting: the contact is abandoned)."""
        assert self.ws is not None
        await self.ws.send(json.dumps({"type": "end"}))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None


async def sign_in(
    page: Page,
    username: str,
    password: str = AGENT_PASSWORD,
    path: str = "/console",
    ready: str = '.conn[data-conn="online"]',
) -> None:
    """Sign in on the page at ``path`` and wait for ``ready`` (by default: its socket is
    connected)."""
    await page.goto(path)
    await page.get_by_label(re.compile("Username|用户名")).fill(username)
    await page.get_by_label(re.compile("Password|密码")).fill(password)
    await page.get_by_role("button", name=re.compile("Sign in|登录")).click()
    await page.locator(ready).wait_for()


async def go_available(page: Page) -> None:
    await page.locator("#agent-state").select_option("available")
    await page.locator('#agent-state[data-state="available"]').wait_for()
