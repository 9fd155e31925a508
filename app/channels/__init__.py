"""Channels: voice (Twilio-compatible webhooks and a generic CTI API), email and web chat.

Each channel turns what arrives into contacts in the one queue model
(``app.routing.service.enqueue``) and acts on the router's decisions for its contacts
(bus topic ``channel:{name}``). ``ROUTERS`` and ``running`` are what the app mounts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI

from app.channels.chat import files_router as chat_files_router
from app.channels.chat import router as chat_router
from app.channels.chat import runtime as chat_runtime
from app.channels.email import router as email_router
from app.channels.email import runtime as email_runtime
from app.channels.voice import router as voice_router
from app.channels.voice import runtime as voice_runtime

ROUTERS: tuple[APIRouter, ...] = (
    voice_router.router,
    email_router.router,
    chat_router.router,
    chat_files_router.router,
)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for runtime in (voice_runtime, email_runtime, chat_runtime):
            await stack.enter_async_context(runtime.running(app))
        yield
