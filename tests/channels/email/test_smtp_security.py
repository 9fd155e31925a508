"""STARTTLS and AUTH on the inbound SMTP listener, with a throwaway CA (trustme)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import trustme
from fastapi import FastAPI
from pydantic import ValidationError

from app.channels.entry_points import add_entry_point
from app.main import create_app
from app.queues.schemas import QueueCreate
from app.queues.service import create_queue
from tests.channels.email.conftest import SUPPORT, RecordingRelay, build_raw, counts, email_settings

USERNAME = "shop-relay"
PASSWORD = "a-long-submission-secret"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def certificate(authority: trustme.CA, tmp_path: Path) -> dict[str, Path]:
    issued = authority.issue_cert("127.0.0.1", "mail.shop.example.cn")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    return {"smtp_tls_cert_file": cert, "smtp_tls_key_file": key}


def _client_context(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


async def _secured_app(
    clean_db: str, relay: RecordingRelay, **overrides: Any
) -> AsyncIterator[FastAPI]:
    application = create_app(email_settings(relay.port, **overrides), database_url=clean_db)
    async with application.router.lifespan_context(application):
        async with application.state.db.unit_of_work() as session:
            data = QueueCreate(name="support", display_name="Support", channels=["email"])
            await create_queue(session, data, None)
            await add_entry_point(session, "email", SUPPORT, "support")
        yield application


@pytest.fixture
async def submission(
    clean_db: str, relay: RecordingRelay, certificate: dict[str, Path]
) -> AsyncIterator[FastAPI]:
    async for application in _secured_app(
        clean_db,
        relay,
        **certificate,
        smtp_auth_username=USERNAME,
        smtp_auth_password=PASSWORD,
    ):
        yield application


async def _send(app: FastAPI, authority: trustme.CA | None, **login: Any) -> tuple[Any, str]:
    """Mail for SUPPORT: over STARTTLS trusting ``authority``, or in the clear (None)."""
    tls = {"tls_context": _client_context(authority)} if authority else {}
    return await aiosmtplib.send(
        build_raw(),
        sender="zhang.san@example.cn",
        recipients=[SUPPORT],
        hostname="127.0.0.1",
        port=app.state.smtp_port,
        start_tls=authority is not None,
        **tls,
        **login,
    )


async def test_a_signed_in_sender_over_starttls_is_accepted(
    submission: FastAPI, authority: trustme.CA
) -> None:
    _, reply = await _send(submission, authority, username=USERNAME, password=PASSWORD)

    assert reply.startswith("2.0.0")
    assert (await counts(submission))["contacts"] == 1


async def test_a_wrong_password_is_refused_and_nothing_is_stored(
    submission: FastAPI, authority: trustme.CA
) -> None:
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
        await _send(submission, authority, username=USERNAME, password="wrong")

    assert refused.value.code == 535
    assert (await counts(submission))["contacts"] == 0


async def test_mail_without_auth_is_refused(submission: FastAPI, authority: trustme.CA) -> None:
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
        await _send(submission, authority)

    assert refused.value.code == 530
    assert (await counts(submission))["contacts"] == 0


async def test_auth_is_never_offered_in_the_clear(submission: FastAPI) -> None:
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=submission.state.smtp_port, start_tls=False
    ) as client:
        await client.ehlo()
        assert client.supports_extension("starttls")
        assert not client.supports_extension("auth")
        with pytest.raises(aiosmtplib.SMTPException):
            await client.login(USERNAME, PASSWORD)


async def test_required_tls_refuses_plain_mail(
    clean_db: str, relay: RecordingRelay, certificate: dict[str, Path], authority: trustme.CA
) -> None:
    async for application in _secured_app(clean_db, relay, **certificate, smtp_require_tls=True):
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await _send(application, None)
        assert refused.value.code == 530
        _, reply = await _send(application, authority)  # an MTA that starts TLS gets through
        assert reply.startswith("2.0.0")


def test_incomplete_smtp_security_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        email_settings(0, smtp_tls_cert_file=tmp_path / "cert.pem")
    with pytest.raises(ValidationError, match="in the clear"):
        email_settings(0, smtp_auth_username=USERNAME, smtp_auth_password=PASSWORD)
