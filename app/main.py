"""The FastAPI application: routers, middleware, error handlers and the lifespan."""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from app.agents import runtime as console_runtime
from app.agents.console_router import router as console_router
from app.agents.router import router as agents_router
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.canned.router import router as canned_router
from app.care import scheduler as care_scheduler
from app.care.router import router as care_router
from app.cases import timers as case_timers
from app.cases.reports import router as case_reports_router
from app.cases.router import router as cases_router
from app.channels import ROUTERS as CHANNEL_ROUTERS
from app.channels import running as channels_running
from app.config import Settings, get_settings
from app.consent.router import router as consent_router
from app.contacts.router import router as contacts_router
from app.customers.router import router as customers_router
from app.customers.value import runtime as value_runtime
from app.customers.value.router import router as customer_value_router
from app.database import Database, create_engine
from app.demo.mode import refuse_demo_credentials
from app.entry_points.router import router as entry_points_router
from app.errors import install_error_handlers
from app.events.bus import bus_from_url
from app.health.router import router as health_router
from app.ivr import runtime as ivr_runtime
from app.ivr.router import router as ivr_router
from app.logs import configure_logging
from app.middleware import (
    BodySizeLimitMiddleware,
    NulRejectMiddleware,
    OriginMiddleware,
    RequestIdMiddleware,
    UnauthenticatedSocketMiddleware,
)
from app.migrations import head_revision
from app.openapi_errors import install_error_responses
from app.orders.router import router as orders_router
from app.outbound import runner as outbound_runner
from app.outbound.attempts import OUTBOUND_KEY, context_from_settings
from app.outbound.router import router as outbound_router
from app.privacy.router import router as privacy_router
from app.queues.router import router as queues_router
from app.ratelimit import runtime as ratelimit_runtime
from app.resilience.reconnect import ConnectionHealth
from app.routing.distributor import Distributor
from app.routing.inbox import DOORBELL_KEY
from app.routing.router import router as routing_router
from app.runtime import resolve_database_url
from app.skills.router import router as skills_router
from app.supervisor import runtime as supervisor_runtime
from app.supervisor.router import router as supervisor_router
from app.surveys.router import router as surveys_router
from app.surveys.service import SURVEYS_KEY, SurveyContext, link_secret
from app.telemetry import Telemetry
from app.users.router import router as users_router
from app.web.router import install_web

log = structlog.get_logger(__name__)

DESCRIPTION = """
contactd takes contacts from phone, email and web chat into one queue model and routes
each to the best available agent. Every error is a JSON body
`{"error": {"code", "message", "details"}}`. Sign in at `/api/v1/auth/token` and send the
token as `Authorization: Bearer <token>`.
"""


def _jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    log.warning(
        "jwt_secret_generated", hint="set CONTACTD_JWT_SECRET to keep tokens valid across restarts"
    )
    return secrets.token_urlsafe(32)


class _CurrentRouter:
    """The doorbell sessions ring: whichever distributor this app runs now."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def ring(self) -> None:
        distributor: Distributor | None = self.app.state.distributor
        if distributor is not None:
            await distributor.ring()


def _consoles_here(app: FastAPI) -> list[int]:
    console = getattr(app.state, "console", None)
    return [] if console is None else console.lines.connected_agents()


# Young-generation size and how many young passes make an older one (CPython: 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 20)


@asynccontextmanager
async def _collector_tuned() -> AsyncIterator[None]:
    """Fewer and shorter pauses of the cycle collector while serving.

    What start-up built (modules, classes, the app) lives as long as the process: frozen,
    full passes skip it. And the router's live state grows with the contacts in line, so
    with CPython's defaults a full pass (~100 ms on this machine with 15,000 contacts in
    line) ran every couple of seconds under load: the routing benchmark's half-rate p99
    was 350-520 ms with the defaults and 61-65 ms with these thresholds (2 runs each).
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def create_served_app() -> FastAPI:
    """The app as ``contactd serve`` runs it (uvicorn's factory): a process of its own, so
    the collector is tuned for it (tests build hundreds of apps in one process and don't)."""
    return create_app(tune_gc=True)


def create_app(
    settings: Settings | None = None, database_url: str | None = None, *, tune_gc: bool = False
) -> FastAPI:
    settings = settings or get_settings()
    refuse_demo_credentials(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url or resolve_database_url(settings)
        db = Database(
            create_engine(
                url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
            )
        )
        app.state.db = db
        app.state.instance = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        app.state.bus = bus_from_url(
            settings.bus_url, origin=app.state.instance, prefix=settings.bus_prefix
        )
        await app.state.bus.start()
        app.state.migration_head = head_revision()
        app.state.database_url = url
        app.state.connections = ConnectionHealth()
        distributor = Distributor(
            db,
            app.state.bus,
            url,
            instance=f"{socket.gethostname()}:{os.getpid()}",
            telemetry=app.state.telemetry,
            may_lead=settings.router_enabled,
            consoles_here=lambda: _consoles_here(app),
            health=app.state.connections,
        )
        await distributor.start()
        app.state.distributor = distributor
        surveys = SurveyContext(settings, link_secret(settings, app.state.jwt_secret))
        db.share_with_every_session(
            {
                DOORBELL_KEY: _CurrentRouter(app),
                SURVEYS_KEY: surveys,
                OUTBOUND_KEY: context_from_settings(settings),
            }
        )
        try:
            async with (
                channels_running(app),
                ivr_runtime.running(app),
                console_runtime.running(app),
                supervisor_runtime.running(app),
                value_runtime.running(app),
                ratelimit_runtime.running(app),
                case_timers.running(app),
                outbound_runner.running(app),
                care_scheduler.running(app),
                _collector_tuned() if tune_gc else contextlib.nullcontext(),
            ):
                yield
        finally:
            if app.state.distributor is not None:  # tests may swap it for another
                await app.state.distributor.stop()
            await app.state.bus.close()
            await db.dispose()

    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(title="contactd", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.telemetry = Telemetry()
    app.state.jwt_secret = _jwt_secret(settings)
    install_error_handlers(app)
    for router in (
        health_router,
        auth_router,
        users_router,
        agents_router,
        skills_router,
        queues_router,
        customers_router,
        privacy_router,
        consent_router,
        customer_value_router,
        orders_router,
        routing_router,
        contacts_router,
        cases_router,
        case_reports_router,
        surveys_router,
        outbound_router,
        entry_points_router,
        *CHANNEL_ROUTERS,
        ivr_router,
        console_router,
        canned_router,
        care_router,
        audit_router,
        supervisor_router,
    ):
        app.include_router(router)
    install_web(app)
    install_error_responses(app)
    app.add_middleware(NulRejectMiddleware)
    app.add_middleware(OriginMiddleware, origins=settings.origins)
    app.add_middleware(
        UnauthenticatedSocketMiddleware,
        per_address=settings.ws_unauthenticated_per_address,
        forwarded_for_header=settings.forwarded_for_header,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        upload_bytes=settings.chat_attachment_max_bytes,
    )
    app.add_middleware(RequestIdMiddleware)
    return app
