"""HTTP and websocket endpoints of the supervisor package."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request, Response, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import SupervisorUser
from app.auth.security import InvalidToken, read_token
from app.contacts.events import record
from app.contacts.models import Contact
from app.dependencies import SessionDep
from app.errors import AppError, Conflict, InvalidInput, NotFound, Unauthorized
from app.events.frames import ref_of
from app.middleware import authenticated
from app.routing import inbox
from app.routing.models import RoutingInbox
from app.routing.router import run_command
from app.routing.schemas import CommandResult
from app.staffing import agents_needed
from app.supervisor import consult, reports
from app.supervisor import protocol as sp
from app.supervisor.live import Connection, Hub
from app.supervisor.metrics import Buckets
from app.users.models import Role, User

log = structlog.get_logger(__name__)
router = APIRouter(tags=["supervisor"])

AUTH_TIMEOUT_SECONDS = 5.0


# ------------------------------------------------------------------ live view


def hub_of(app: Any) -> Hub | None:
    found: Hub | None = getattr(app.state, "supervisor_hub", None)
    return found


async def _authenticate(websocket: WebSocket) -> User | None:
    """The first message must be {"type": "auth", "token": "<JWT>"} of a supervisor.
    Raises WebSocketDisconnect when the client leaves first."""
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS)
        message = json.loads(raw)
        claims = read_token(str(message["token"]), websocket.app.state.jwt_secret)
    except (TimeoutError, ValueError, KeyError, TypeError, InvalidToken):
        return None
    async with websocket.app.state.db.sessionmaker() as session:
        user: User | None = await session.get(User, claims.user_id)
    if user is None or not user.is_active or not Role(user.role).at_least(Role.SUPERVISOR):
        return None
    return user


@router.websocket("/ws/supervisor")
async def supervisor_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    hub = hub_of(websocket.app)
    try:
        user = await _authenticate(websocket)
    except WebSocketDisconnect:  # gone before authenticating: nothing to say or log
        log.info("supervisor_socket_left_before_auth")
        return
    if user is None or hub is None:
        await websocket.send_json({"type": "error", "code": "unauthorized"})
        await websocket.close(code=4401)
        return
    authenticated(websocket)
    connection = Connection(send=websocket.send_text)
    async with contextlib.AsyncExitStack() as stack:
        # Consult requests are followed before the snapshot goes out: a request made once
        # the supervisor has the snapshot is never missed.
        bus = websocket.app.state.bus
        requests = await stack.enter_async_context(bus.subscribe(consult.topic_for(user)))
        connection.push(hub.snapshot(connection, time.time()), "")
        connection.pending_text = None
        hub.connections.add(connection)
        tasks = [
            asyncio.create_task(_send_loop(websocket, connection)),
            asyncio.create_task(_forward_consults(requests, connection)),
        ]
        try:
            await _receive_loop(websocket, hub, connection, user.id)
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("supervisor_socket_failed")
            raise
        finally:
            hub.connections.discard(connection)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


async def _send_loop(websocket: WebSocket, connection: Connection) -> None:
    while True:
        await connection.wake.wait()
        for text in connection.take_all():
            await websocket.send_text(text)
            connection.sent += 1


def _push(connection: Connection, frame: BaseModel) -> None:
    connection.push_event(frame.model_dump_json())


async def _forward_consults(requests: asyncio.Queue[Any], connection: Connection) -> None:
    """What the bus says about consults, case SLAs and low CSAT scores, as frames of this
    socket."""
    kinds: dict[str, type[BaseModel]] = {
        "consult": sp.ConsultRequest,
        "consult_answered": sp.ConsultAnswered,
        "case_sla": sp.CaseSlaAlarm,
        "csat_low": sp.CsatLow,
    }
    while True:
        message = await requests.get()
        model = kinds.get(str(message.get("type"))) if isinstance(message, dict) else None
        if model is None:
            continue
        try:
            _push(connection, model.model_validate(message))
        except ValidationError:
            log.warning("supervisor_consult_malformed", kind=message.get("type"))


async def _receive_loop(
    websocket: WebSocket, hub: Hub, connection: Connection, user_id: int
) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        raw = message.get("text")
        if raw is None:
            _push(connection, sp.Error(code="bad_message", message="Send JSON text frames."))
            continue
        try:
            frame = sp.CLIENT_FRAME.validate_json(raw)
        except ValidationError as exc:
            problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:5]]
            error = sp.Error(
                ref=ref_of(raw), code="bad_message", message="Malformed frame.", details=problems
            )
            _push(connection, error)
            continue
        if isinstance(frame, sp.ConsultReply):
            await _consult_reply(websocket.app, user_id, frame, connection)
            continue
        connection.queues = None if frame.queues is None else frozenset(frame.queues)
        connection.push(hub.snapshot(connection, time.time()), "")
        connection.pending_text = None


async def _consult_reply(
    app: Any, user_id: int, frame: sp.ConsultReply, connection: Connection
) -> None:
    """One short unit of work: record the answer; the pushes follow its commit."""
    try:
        async with app.state.db.unit_of_work() as session:
            event = await consult.answer(session, app.state.bus, user_id, frame)
    except AppError as exc:
        _push(
            connection,
            sp.Error(ref=frame.ref, code=exc.code, message=exc.message, details=exc.details),
        )
        return
    except Exception:
        log.exception("supervisor_consult_reply_failed")
        _push(
            connection,
            sp.Error(ref=frame.ref, code="internal_error", message="The request failed."),
        )
        return
    data = {"contact_id": frame.contact_id, "agent_id": frame.agent_id, "event_id": event.id}
    _push(connection, sp.Result(ref=frame.ref, request=frame.type, data=data))


# ------------------------------------------------------------------ actions


class AssignRequest(BaseModel):
    agent_id: int


async def _assign(
    session: AsyncSession, contact_id: int, agent_id: int, supervisor: User
) -> RoutingInbox:
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    if contact.state not in ("queued", "offered"):
        raise Conflict(
            f"Contact {contact_id} is {contact.state}: only a waiting contact can be assigned.",
            details={"state": contact.state},
            code="contact_not_waiting",
        )
    agent = await session.get(User, agent_id)
    if agent is None or agent.role != Role.AGENT.value or not agent.is_active:
        raise InvalidInput(
            f"No active agent {agent_id}.", details={"agent_id": agent_id}, code="unknown_agent"
        )
    record(
        session,
        "contact.assign_requested",
        contact_id=contact_id,
        agent_id=agent_id,
        actor_id=supervisor.id,
        payload={"to_agent_id": agent_id},
    )
    payload = {"contact_id": contact_id, "to_agent_id": agent_id}
    return await inbox.submit(session, "contact.update", payload, actor_id=supervisor.id)


@router.post(
    "/api/v1/contacts/{contact_id}/assign",
    response_model=CommandResult,
    summary="Offer a waiting contact to this agent only (until the agent rejects it).",
)
async def assign(
    request: Request,
    response: Response,
    supervisor: SupervisorUser,
    contact_id: int,
    body: AssignRequest,
) -> CommandResult:
    return await run_command(
        request, response, lambda s: _assign(s, contact_id, body.agent_id, supervisor)
    )


# ------------------------------------------------------------------ reports


def _wants_csv(request: Request, format: str | None) -> bool:
    return format == "csv" or "text/csv" in request.headers.get("accept", "")


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


Period = Annotated[datetime, Query(alias="from")]


@router.get("/api/v1/reports/intervals", response_model=None)
async def interval_report(
    request: Request,
    session: SessionDep,
    _: SupervisorUser,
    start: Period,
    to: datetime,
    interval: str = "30m",
    queue: str | None = None,
    channel: str | None = None,
    format: str | None = None,
) -> dict[str, Any] | Response:
    buckets = reports.period(_aware(start), _aware(to), interval)
    agg = await reports.replay_period(session, buckets)
    rows, totals = reports.queue_rows(agg, queue, channel)
    if _wants_csv(request, format):
        return _csv(reports.to_csv(rows), "intervals")
    return {"from": start, "to": to, "interval": interval, "rows": rows, "totals": totals}


@router.get("/api/v1/reports/agents", response_model=None)
async def agent_report(
    request: Request,
    session: SessionDep,
    _: SupervisorUser,
    start: Period,
    to: datetime,
    interval: str = "60m",
    agent_id: int | None = None,
    format: str | None = None,
) -> dict[str, Any] | Response:
    buckets = reports.period(_aware(start), _aware(to), interval)
    agg = await reports.replay_period(session, buckets)
    rows = reports.agent_rows(agg, agent_id)
    if _wants_csv(request, format):
        return _csv(reports.to_csv(rows), "agents")
    return {"from": start, "to": to, "interval": interval, "rows": rows}


@router.get("/api/v1/reports/value", response_model=None)
async def value_report(
    request: Request,
    session: SessionDep,
    _: SupervisorUser,
    start: Period,
    to: datetime,
    by: str = "grade",
    queue: str | None = None,
    channel: str | None = None,
    format: str | None = None,
) -> dict[str, Any] | Response:
    """Offered, handled, service level, ASA and abandons per customer grade or value class
    (the value each contact arrived with), per queue and in total over [from, to)."""
    reports.breakdown_groups(by)
    buckets = reports.whole_period(_aware(start), _aware(to))
    groups = await reports.replay_by_value(session, buckets, by)
    rows, totals = reports.value_rows(groups, by, queue, channel)
    if _wants_csv(request, format):
        return _csv(reports.to_csv(rows), f"value-by-{by}")
    return {"from": start, "to": to, "by": by, "rows": rows, "totals": totals}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ staffing


MAX_TRAFFIC_ERLANGS = 20_000.0
"""Offered load the staffing calculator takes (20,000 agents busy at once): its work grows
with the load, and a request must never hold the event loop for long."""


class ErlangQuery(BaseModel):
    arrivals_per_hour: float = Field(ge=0, le=1_000_000)
    aht_seconds: float = Field(ge=1, le=86_400)
    target_service_level: float = Field(80, ge=1, le=99.9, description="percent")
    target_seconds: float = Field(20, ge=0, le=86_400)
    shrinkage: float = Field(0, ge=0, le=95, description="percent")
    max_occupancy: float = Field(100, ge=1, le=100, description="percent")
    patience_seconds: float | None = Field(None, ge=1, le=86_400, description="Erlang A when given")

    @model_validator(mode="after")
    def _bounded_load(self) -> ErlangQuery:
        traffic = self.arrivals_per_hour * self.aht_seconds / 3600.0
        if traffic > MAX_TRAFFIC_ERLANGS:
            raise ValueError(
                f"arrivals_per_hour x aht_seconds / 3600 is {traffic:.0f} erlangs;"
                f" at most {MAX_TRAFFIC_ERLANGS:.0f}"
            )
        return self


@router.get("/api/v1/staffing/erlang-c")
async def erlang_c_staffing(
    _: SupervisorUser, query: Annotated[ErlangQuery, Query()]
) -> dict[str, Any]:
    try:  # pure work, off the event loop
        result = await asyncio.to_thread(
            agents_needed,
            query.arrivals_per_hour,
            query.aht_seconds,
            query.target_service_level / 100.0,
            query.target_seconds,
            query.shrinkage / 100.0,
            query.max_occupancy / 100.0,
            query.patience_seconds,
        )
    except ValueError as exc:  # a target no staffing meets (e.g. Erlang A's limits)
        raise InvalidInput(str(exc), code="unsatisfiable_target") from None
    return {
        "model": "erlang_c" if query.patience_seconds is None else "erlang_a",
        "traffic_erlangs": result.traffic_erlangs,
        "agents_needed": result.agents,
        "agents_with_shrinkage": result.agents_with_shrinkage,
        "service_level": 100 * result.service_level,
        "asa_seconds": result.asa_seconds,
        "occupancy": 100 * result.occupancy,
        "p_wait": result.p_wait,
        "p_abandon": result.p_abandon,
    }


@router.get("/api/v1/staffing/table", response_model=None)
async def staffing_table(
    request: Request,
    session: SessionDep,
    _: SupervisorUser,
    weeks: Annotated[int, Query(ge=1, le=12)] = 4,
    interval: str = "30m",
    queue: str | None = None,
    shrinkage: Annotated[float, Query(ge=0, lt=100)] = 0,
    format: str | None = None,
) -> dict[str, Any] | Response:
    width = reports.INTERVALS.get(interval)
    if width is None:
        raise InvalidInput("interval must be 15m, 30m or 60m.", code="bad_interval")
    end = (time.time() // width) * width
    start = end - weeks * reports.WEEK
    buckets = Buckets(origin=start, width=width, start=start, end=end)
    agg = await reports.replay_period(session, buckets)
    rows = reports.staffing_table(agg, weeks, shrinkage / 100.0, queue)
    if _wants_csv(request, format):
        return _csv(reports.to_csv(rows), "staffing")
    return {"weeks": weeks, "interval": interval, "rows": rows}


# ------------------------------------------------------------------ prometheus


@router.get("/metrics", include_in_schema=False)
async def prometheus(request: Request) -> Response:
    """Prometheus exposition; with ``CONTACTD_METRICS_TOKEN`` set, only for its bearer."""
    token = request.app.state.settings.metrics_token
    if token is not None and not secrets.compare_digest(
        request.headers.get("authorization", "").encode(),
        f"Bearer {token.get_secret_value()}".encode(),
    ):
        raise Unauthorized("The metrics need CONTACTD_METRICS_TOKEN as a bearer token.")
    hub = hub_of(request.app)
    if hub is None:
        return Response("", media_type="text/plain; version=0.0.4; charset=utf-8")
    pool = request.app.state.db.engine.pool
    hub.metrics.pool(pool.checkedout(), pool.size())
    body = hub.metrics.exposition() + request.app.state.telemetry.exposition()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
