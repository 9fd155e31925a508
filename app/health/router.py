from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.database import Database
from app.errors import error_response
from app.events.bus import EventBus
from app.migrations import current_revision
from app.resilience.reconnect import ConnectionHealth

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers, its schema is at the migrations' head, and every"
    " long-lived connection is up",
    description=(
        "200 while the database answers at the migrations' head and every long-lived"
        " connection is up. `connections` names each connection the instance keeps open"
        " beside its pool (`router_listen`, `router_doorbell`, `router_lease` when it may"
        " route, `supervisor_tail`) with `up` or `down`; one that ends reopens by itself,"
        " and while it is down the answer is 503 `connection_down`. `bus` is `in_process`"
        " (one instance), `up`, or `down`: with the bus down the instance still serves its"
        " own sockets and the database, so it stays ready and says `down` here."
    ),
    responses={503: {"description": "Not ready: the error says why."}},
)
async def readyz(request: Request) -> Any:
    db: Database = request.app.state.db
    head: str | None = request.app.state.migration_head
    health: ConnectionHealth = request.app.state.connections
    connections = health.states()
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            revision = await current_revision(connection)
    except Exception:
        return error_response(
            503,
            "database_unreachable",
            "The database does not answer.",
            {"connections": connections},
        )
    if revision != head:
        return error_response(
            503,
            "migrations_pending",
            "The database schema is not at the latest migration.",
            {"current": revision, "head": head, "connections": connections},
        )
    down = health.down_names()
    if down:
        return error_response(
            503,
            "connection_down",
            "A long-lived database connection is down; it is being reopened.",
            {"down": down, "connections": connections},
        )
    distributor = getattr(request.app.state, "distributor", None)
    if distributor is None or not distributor.may_lead:
        role = "off"
    else:
        role = "leader" if distributor.is_leader else "standby"
    bus: EventBus = request.app.state.bus
    return JSONResponse(
        {
            "status": "ready",
            "migration": revision,
            "router": role,
            "bus": bus.state,
            "connections": connections,
        }
    )
