"""The voice channel under test: an app with Twilio and CTI configured, a fake provider API
served over real HTTP that records every request, and helpers that sign like providers do."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.channels.entry_points import add_entry_point
from app.channels.models import WebhookReceipt
from app.channels.voice.cti_signature import signature_header
from app.channels.voice.twilio_signature import compute_signature
from app.contacts.models import Contact, ContactEvent, ContactEventText
from app.main import create_app
from app.resilience.client import RetryPolicy
from tests.conftest import make_settings
from tests.helpers import live_server
from tests.routing_service.conftest import Center

TOKEN = "twilio-test-auth-token"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
PUBLIC = "https://contactd.example.com"  # what Twilio calls; the test client is "behind" it
CTI_SECRET = "cti-test-secret"
NUMBER = "+864008001234"  # our support line
CALLER = "+8613800138000"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeProvider:
    """A provider's REST API (Twilio's, a PBX's command URL) that records what it is sent.

    ``statuses`` are answered in order (then 200): [500, 500] fails twice, then succeeds.
    """

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Recorded(scope["method"], scope["path"], headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture
async def fake_provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider()
    async with live_server(fake) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def voice_app(clean_db: str, fake_provider: FakeProvider) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        twilio_auth_token=TOKEN,
        twilio_account_sid=ACCOUNT_SID,
        public_base_url=PUBLIC,
        twilio_api_base_url=fake_provider.url,
        cti_secret=CTI_SECRET,
        cti_command_url=f"{fake_provider.url}/cti/commands",
    )
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        fast = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=2.0)
        application.state.voice.twilio.client.policy = fast
        application.state.voice.cti.client.policy = fast
        yield application


@pytest.fixture
async def voice_client(voice_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=voice_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def center(voice_app: FastAPI, voice_client: httpx.AsyncClient) -> Center:
    """The routing test helper, on the voice app: a support queue on our number."""
    from app.users.schemas import UserCreate
    from app.users.service import create_user

    async def make_user(username: str, role: str = "agent") -> dict[str, str]:
        password = "password-123"
        async with voice_app.state.db.unit_of_work() as session:
            await create_user(
                session,
                UserCreate(username=username, display_name=username, role=role, password=password),
            )
        response = await voice_client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    found = Center(voice_client, await make_user("root.admin", "admin"), make_user, {})
    await found.skill("support")
    await found.queue("support", [("support", 1)], channels=["voice"])
    async with voice_app.state.db.unit_of_work() as session:
        await add_entry_point(session, "voice", NUMBER, "support", language="zh-CN")
    return found


class TwilioSide:
    """Twilio, as our webhooks see it: form posts signed for the public URL."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @staticmethod
    def signature(url: str, params: dict[str, str]) -> str:
        return compute_signature(TOKEN, url, params.items())

    async def post(
        self, path: str, params: dict[str, str], *, signature: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        headers["X-Twilio-Signature"] = signature or self.signature(PUBLIC + path, params)
        return await self.client.post(path, content=urlencode(params), headers=headers)

    @staticmethod
    def call_params(call_sid: str, caller: str = CALLER, to: str = NUMBER) -> dict[str, str]:
        return {
            "CallSid": call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": caller,
            "To": to,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

    async def call(self, call_sid: str, **kw: str) -> httpx.Response:
        return await self.post("/webhooks/twilio/voice", self.call_params(call_sid, **kw))

    async def status(self, call_sid: str, status: str, **extra: str) -> httpx.Response:
        params = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "CallStatus": status, **extra}
        return await self.post("/webhooks/twilio/status", params)


@pytest.fixture
def twilio(voice_client: httpx.AsyncClient) -> TwilioSide:
    return TwilioSide(voice_client)


class CtiSide:
    """A PBX posting signed events."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(
        self,
        event: dict[str, Any],
        *,
        at: int | None = None,
        secret: str = CTI_SECRET,
        header: str | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:
        body = raw if raw is not None else json.dumps(event).encode()
        signed = header or signature_header(secret, int(time.time()) if at is None else at, body)
        return await self.client.post(
            "/webhooks/cti/events",
            content=body,
            headers={"Content-Type": "application/json", "X-CTI-Signature": signed},
        )


@pytest.fixture
def pbx(voice_client: httpx.AsyncClient) -> CtiSide:
    return CtiSide(voice_client)


async def count(app: FastAPI, model: type[Any]) -> int:
    async with app.state.db.sessionmaker() as session:
        found: int = await session.scalar(select(func.count()).select_from(model))
        return found


async def stored(app: FastAPI) -> tuple[int, int, int]:
    """How many contacts, contact events and webhook receipts exist."""
    return (
        await count(app, Contact),
        await count(app, ContactEvent),
        await count(app, WebhookReceipt),
    )


async def contact_row(app: FastAPI, contact_id: int) -> Contact:
    async with app.state.db.sessionmaker() as session:
        contact = await session.get(Contact, contact_id)
        assert contact is not None
        return contact


async def event_kinds(app: FastAPI, contact_id: int) -> list[str]:
    return [e.kind for e in await events_of(app, contact_id)]


async def events_of(app: FastAPI, contact_id: int) -> list[ContactEvent]:
    async with app.state.db.sessionmaker() as session:
        rows = await session.scalars(
            select(ContactEvent)
            .where(ContactEvent.contact_id == contact_id)
            .order_by(ContactEvent.id)
        )
        return list(rows)


async def event_texts(app: FastAPI, event_ids: list[int]) -> dict[int, str]:
    """The texts stored beside these events (``contact_event_texts``), by event id."""
    async with app.state.db.sessionmaker() as session:
        rows = await session.scalars(
            select(ContactEventText).where(ContactEventText.event_id.in_(event_ids))
        )
        return {row.event_id: row.body for row in rows}
