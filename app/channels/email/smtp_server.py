"""The inbound SMTP listener: mail for our entry-point addresses, straight from an MTA.

It runs on the application's event loop (not aiosmtpd's threaded Controller) so it shares
the database engine. Replies follow RFC 5321: an unknown mailbox is refused at RCPT (550),
an oversized message at DATA (552), a message we cannot read permanently (554); anything
else that fails is temporary (451) so the sending MTA keeps the mail and tries again. The
250 after DATA is sent only once the message is committed.

With a certificate configured the listener offers STARTTLS (and may require it before
MAIL); with a submission account configured every sender must AUTH (PLAIN or LOGIN, only
after STARTTLS), and a wrong password is answered 535 without saying which part was wrong.
"""

from __future__ import annotations

import asyncio
import hmac
import ssl
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from fastapi import FastAPI

from app.channels.email.service import (
    AttachmentTooLargeError,
    MalformedEmailError,
    UnknownRecipient,
    find_entry_point,
    receive_email,
)
from app.config import Settings
from app.database import Database
from app.errors import AppError

log = structlog.get_logger(__name__)

TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, please try again later"
NO_SUCH_MAILBOX = "550 5.1.1 No such mailbox here"
TOO_BIG = "552 5.3.4 Message too big"
MALFORMED = "554 5.6.0 Malformed message"
ACCEPTED = "250 2.0.0 Message accepted"


class InboundHandler:
    """aiosmtpd handler hooks; the database is looked up per call so it can be swapped."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    @property
    def _db(self) -> Database:
        db: Database = self.app.state.db
        return db

    @property
    def _settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            async with self._db.unit_of_work() as db_session:
                found = await find_entry_point(db_session, [address])
        except Exception:
            log.exception("smtp_rcpt_lookup_failed")
            return TEMPORARY_FAILURE
        if found is None:
            return NO_SUCH_MAILBOX
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        if len(raw) > self._settings.max_email_bytes:
            return TOO_BIG
        try:
            async with self._db.unit_of_work() as db_session:
                received = await receive_email(
                    db_session,
                    bytes(raw),
                    self._settings,
                    recipients=list(envelope.rcpt_tos),
                    envelope_sender=envelope.mail_from,
                    bus=getattr(self.app.state, "bus", None),
                )
        except AttachmentTooLargeError:
            return TOO_BIG
        except MalformedEmailError:
            return MALFORMED
        except UnknownRecipient:
            return NO_SUCH_MAILBOX
        except AppError as exc:  # e.g. a queue that no longer takes email: fixable, retry
            log.warning("smtp_message_refused", code=exc.code)
            return TEMPORARY_FAILURE
        except Exception:
            log.exception("smtp_message_failed")
            return TEMPORARY_FAILURE
        log.info(
            "email_received", via="smtp", outcome=received.outcome, contact=received.contact_id
        )
        return ACCEPTED


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server side of STARTTLS, from the configured certificate and key (TLS 1.2+)."""
    if settings.smtp_tls_cert_file is None or settings.smtp_tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.smtp_tls_cert_file, settings.smtp_tls_key_file)
    return context


class SubmissionAccount:
    """aiosmtpd authenticator for the one configured submission account (constant-time
    comparison; nothing about the attempt is logged but its outcome)."""

    def __init__(self, username: str, password: str) -> None:
        self._username = username.encode()
        self._password = password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user_ok = hmac.compare_digest(auth_data.login, self._username)
        password_ok = hmac.compare_digest(auth_data.password, self._password)
        if not (user_ok and password_ok):
            log.warning("smtp_auth_failed", mechanism=mechanism)
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True)


def _authenticator(settings: Settings) -> SubmissionAccount | None:
    if settings.smtp_auth_username is None or settings.smtp_auth_password is None:
        return None
    return SubmissionAccount(
        settings.smtp_auth_username, settings.smtp_auth_password.get_secret_value()
    )


@asynccontextmanager
async def listening(app: FastAPI, settings: Settings) -> AsyncIterator[int]:
    """Serve SMTP on ``settings.smtp_hostname``/``smtp_port`` (0: any free port); yields
    the bound port."""
    handler = InboundHandler(app)
    sessions: weakref.WeakSet[Any] = weakref.WeakSet()
    context = tls_context(settings)
    authenticator = _authenticator(settings)

    def protocol() -> Any:
        smtp = SMTP(
            handler,
            hostname=settings.email_domain,
            ident="contactd ESMTP",
            data_size_limit=settings.max_email_bytes,
            enable_SMTPUTF8=True,
            timeout=300,
            tls_context=context,
            require_starttls=settings.smtp_require_tls,
            authenticator=authenticator,
            auth_required=authenticator is not None,
            auth_require_tls=True,
        )
        sessions.add(smtp)
        return smtp

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        protocol, host=settings.smtp_hostname, port=settings.smtp_port or 0
    )
    port: int = server.sockets[0].getsockname()[1]
    log.info("smtp_listening", host=settings.smtp_hostname, port=port)
    try:
        yield port
    finally:
        server.close()
        for smtp in list(sessions):
            transport = getattr(smtp, "transport", None)
            if transport is not None:
                transport.close()
        await server.wait_closed()
