"""What the email channel runs beside the API while the service is up: the inbound SMTP
listener (when ``smtp_port`` is set) and the sender of replies (when a relay is set)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
from fastapi import FastAPI

from app.channels.email.sender import EmailSender, RelayTransport
from app.channels.email.smtp_server import listening
from app.config import Settings
from app.runtime import background

log = structlog.get_logger(__name__)


@asynccontextmanager
async def _sending(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    sender = EmailSender(app.state.db, settings, RelayTransport(settings))
    app.state.email_sender = sender
    try:
        async with background(sender.run(), "email-sender"):
            yield
    finally:
        app.state.email_sender = None


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.smtp_port = None
    app.state.email_sender = None
    async with AsyncExitStack() as stack:
        if settings.smtp_port is not None:
            app.state.smtp_port = await stack.enter_async_context(listening(app, settings))
        if settings.smtp_relay_host:
            await stack.enter_async_context(_sending(app, settings))
        else:
            log.info("email_relay_not_configured", hint="replies wait until it is set")
        yield
        app.state.smtp_port = None
