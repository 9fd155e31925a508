"""Mailing the replies: due ``outbound_emails`` rows go out through the SMTP relay.

Each instance runs a sender. A batch is claimed with ``FOR UPDATE SKIP LOCKED`` and leased
(its next attempt pushed past the lease) in one short transaction, so several instances
never take the same row; the mail is sent outside any transaction, and the outcome is
written in another. A failure is retried with exponential backoff until ``max_attempts``,
then the row is ``failed`` — visible on the row and as contact events, never dropped. A
permanent refusal (SMTP 5xx) fails at once: retrying cannot help.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib
import structlog
from sqlalchemy import select

from app.channels.email import mime
from app.channels.models import Message, OutboundEmail
from app.config import Settings
from app.contacts.events import record
from app.database import Database
from app.resilience.reconnect import report_failure

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Failure:
    error: str
    permanent: bool


class Transport(Protocol):
    async def deliver(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
        """Hand the message to the relay; raise on failure."""


class RelayTransport:
    """The configured SMTP relay (implicit TLS on port 465, STARTTLS when offered)."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    async def deliver(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
        settings = self.settings
        password = settings.smtp_relay_password
        await aiosmtplib.send(
            message,
            sender=sender,
            recipients=recipients,
            hostname=settings.smtp_relay_host,
            port=settings.smtp_relay_port,
            username=settings.smtp_relay_username,
            password=None if password is None else password.get_secret_value(),
            use_tls=settings.smtp_relay_port == 465,
            timeout=self.timeout,
        )


def describe_failure(exc: Exception) -> Failure:
    """What went wrong, and whether trying again later can help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return Failure(f"recipients refused: {text}", all(c >= 500 for c in codes))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return Failure(f"{exc.code} {exc.message}", exc.code >= 500)
    return Failure(f"{type(exc).__name__}: {exc}", False)


@dataclass(frozen=True, slots=True)
class _Job:
    outbound_id: int
    message_id: int
    contact_id: int
    email: EmailMessage | None
    sender: str
    recipients: list[str]
    broken: str | None = None  # why the stored message cannot be mailed at all


@dataclass
class EmailSender:
    db: Database
    settings: Settings
    transport: Transport
    poll_seconds: float = 1.0
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    max_attempts: int = 8
    lease_seconds: float = 300.0
    batch_size: int = 20
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def wake(self) -> None:
        """Look now rather than at the next poll (a reply was just committed)."""
        self._wake.set()

    def retry_delay(self, attempts: int) -> float:
        return float(min(self.retry_base_seconds * 2 ** (attempts - 1), self.retry_max_seconds))

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                handled = await self.send_due()
            except Exception as exc:  # the database may be away for a while: keep trying
                report_failure("email_sender_failed", exc)
                handled = 0
            if handled < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def send_due(self) -> int:
        """Send what is due now; returns how many rows were handled."""
        jobs = await self._claim()
        for job in jobs:
            await self._finish(job, await self._attempt(job))
        return len(jobs)

    async def _claim(self) -> list[_Job]:
        now = datetime.now(UTC)
        async with self.db.unit_of_work() as session:
            rows = (
                await session.execute(
                    select(OutboundEmail, Message)
                    .join(Message, Message.id == OutboundEmail.message_id)
                    .where(OutboundEmail.status == "pending", OutboundEmail.next_attempt_at <= now)
                    .order_by(OutboundEmail.next_attempt_at, OutboundEmail.id)
                    .limit(self.batch_size)
                    .with_for_update(of=OutboundEmail, skip_locked=True)
                )
            ).all()
            for outbound, _ in rows:
                outbound.next_attempt_at = now + timedelta(seconds=self.lease_seconds)
            return [self._job(outbound, message) for outbound, message in rows]

    def _job(self, outbound: OutboundEmail, message: Message) -> _Job:
        meta: dict[str, Any] = message.meta
        try:
            outgoing = mime.OutgoingEmail(
                sender=str(meta["from"]),
                to=[str(a) for a in meta["to"]],
                cc=[str(a) for a in meta.get("cc") or []],
                subject=str(meta.get("subject") or ""),
                message_id=str(message.external_id),
                in_reply_to=meta.get("in_reply_to"),
                references=[str(r) for r in meta.get("references") or []],
                text=message.body,
                html=message.body_html,
                loop_domain=self.settings.email_domain,
                date=message.created_at,
                automatic=bool(meta.get("automatic")),
            )
            email = mime.build_email(outgoing)
        except (KeyError, TypeError, ValueError) as exc:
            return _Job(outbound.id, message.id, message.contact_id, None, "", [], str(exc))
        recipients = [*outgoing.to, *outgoing.cc]
        return _Job(outbound.id, message.id, message.contact_id, email, outgoing.sender, recipients)

    async def _attempt(self, job: _Job) -> Failure | None:
        if job.email is None:
            return Failure(f"cannot build the message: {job.broken}", permanent=True)
        try:
            await self.transport.deliver(job.email, job.sender, job.recipients)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return describe_failure(exc)
        return None

    async def _finish(self, job: _Job, failure: Failure | None) -> None:
        now = datetime.now(UTC)
        async with self.db.unit_of_work() as session:
            row = await session.get(OutboundEmail, job.outbound_id, with_for_update=True)
            if row is None or row.status != "pending":
                return
            row.attempts += 1
            if failure is None:
                row.status = "sent"
                row.sent_at = now
                record(
                    session,
                    "email.sent",
                    contact_id=job.contact_id,
                    payload={"outbound_id": row.id, "message_id": job.message_id},
                )
                return
            final = failure.permanent or row.attempts >= self.max_attempts
            row.last_error = failure.error[:2000]
            retry_at = None
            if final:
                row.status = "failed"
            else:
                row.next_attempt_at = now + timedelta(seconds=self.retry_delay(row.attempts))
                retry_at = row.next_attempt_at.isoformat()
            record(
                session,
                "email.send_failed",
                contact_id=job.contact_id,
                payload={
                    "outbound_id": row.id,
                    "message_id": job.message_id,
                    "attempt": row.attempts,
                    "final": final,
                    "retry_at": retry_at,
                },
                text=row.last_error,  # the relay's answer may quote the address
            )
            log.warning("email_send_failed", outbound_id=row.id, attempt=row.attempts, final=final)
