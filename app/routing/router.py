"""HTTP surface of routing: contacts into line, agents' answers, config, explanations."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import AdminUser, AgentUser, SupervisorUser
from app.contacts.schemas import ContactOut
from app.contacts.service import get_contact
from app.customers.identity import InvalidPhone, normalize_phone
from app.dependencies import OneStatementSessionDep, SessionDep, SettingsDep, get_database
from app.errors import AppError, Conflict, InvalidInput, NotFound
from app.routing import config_service, replay, service
from app.routing.config_schemas import RoutingDocument
from app.routing.core.engine import RoutingError
from app.routing.core.model import rounded_wait
from app.routing.distributor import Distributor
from app.routing.models import RoutingInbox
from app.routing.schemas import (
    REPLAY_MAX_DAYS,
    AgentPresenceOut,
    AgentStateRequest,
    CallbackRequest,
    CommandResult,
    ConfigPublish,
    ConfigVersionDetail,
    ConfigVersionOut,
    ContactCreate,
    EndRequest,
    PositionOut,
    ReplayReportOut,
    ReplayRequest,
    RoutingEventOut,
    RoutingUpdate,
    TransferRequest,
    WaitingOut,
)
from app.surveys import service as surveys
from app.validation import VersionPath

router = APIRouter(prefix="/api/v1", tags=["routing"])

Command = Callable[[AsyncSession], Awaitable[RoutingInbox | None]]
PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": CommandResult, "description": "Stored; no router has applied it yet."}
}


class RouterUnavailable(AppError):
    status_code = 503
    code = "router_unavailable"


def distributor(request: Request) -> Distributor:
    found: Distributor | None = getattr(request.app.state, "distributor", None)
    if found is None:
        raise RouterUnavailable("Routing is not running in this instance.")
    return found


def leader_engine(request: Request) -> Distributor:
    found = distributor(request)
    if found.engine is None:
        raise RouterUnavailable("This instance is not the active router; ask again shortly.")
    return found


async def run_command(request: Request, response: Response, command: Command) -> CommandResult:
    """Commit the request, then wait for the router to apply it (a few ms when it is up)."""
    async with get_database(request).unit_of_work() as session:
        row = await command(session)
    if row is None:  # nothing for the router to do
        return CommandResult(status="applied", request_id=None)
    request_id = row.id
    result = await distributor(request).wait_processed(request_id)
    if result is None:
        response.status_code = status.HTTP_202_ACCEPTED
        return CommandResult(status="pending", request_id=request_id)
    if not result.get("ok"):
        raise Conflict(
            result.get("message", "The router refused the request."),
            code=result.get("error", "refused"),
            details={"request_id": request_id},
        )
    return CommandResult(status="applied", request_id=request_id)


# ---------------------------------------------------------------- contacts


@router.post(
    "/contacts",
    response_model=ContactOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a contact and put it in line",
    tags=["contacts"],
)
async def create_contact(
    session: OneStatementSessionDep, user: SupervisorUser, data: ContactCreate
) -> ContactOut:
    # Enqueueing writes one statement, so no transaction is opened around it.
    new = service.NewContact(
        channel=data.channel,
        queue=data.queue,
        customer_id=data.customer_id,
        customer_match="provided" if data.customer_id else "unknown",
        priority=data.priority,
        skills=data.skills,
        attributes=data.attributes,
        subject=data.subject,
        preferred_agent_id=data.preferred_agent_id,
        provider="api",
    )
    enqueued = await service.enqueue(session, new, actor_id=user.id)
    return ContactOut.model_validate(await get_contact(session, enqueued.contact_id))


@router.patch(
    "/contacts/{contact_id}/routing",
    response_model=CommandResult,
    responses=PENDING,
    summary="Change a waiting contact's priority, skills or queue",
    tags=["contacts"],
)
async def update_routing(
    request: Request, response: Response, user: SupervisorUser, contact_id: int, data: RoutingUpdate
) -> CommandResult:
    return await run_command(
        request,
        response,
        lambda s: service.update_routing(
            s,
            contact_id,
            priority=data.priority,
            skills=data.skills,
            queue=data.queue,
            actor_id=user.id,
        ),
    )


@router.post(
    "/contacts/{contact_id}/abandon",
    response_model=CommandResult,
    responses=PENDING,
    summary="The customer left",
    tags=["contacts"],
)
async def abandon(
    request: Request, response: Response, user: SupervisorUser, contact_id: int
) -> CommandResult:
    return await run_command(
        request, response, lambda s: service.abandon(s, contact_id, actor_id=user.id)
    )


@router.post(
    "/contacts/{contact_id}/callback",
    response_model=ContactOut,
    summary="The caller takes a callback and keeps their place in line",
    tags=["contacts"],
)
async def callback(
    session: SessionDep,
    settings: SettingsDep,
    user: SupervisorUser,
    contact_id: int,
    data: CallbackRequest,
) -> ContactOut:
    try:
        number = normalize_phone(data.number, settings.default_region).e164
    except InvalidPhone as exc:
        raise InvalidInput("Not a valid phone number.", details={"number": data.number}) from exc
    contact = await service.request_callback(session, contact_id, number, actor_id=user.id)
    return ContactOut.model_validate(contact)


@router.post(
    "/contacts/{contact_id}/accept",
    response_model=CommandResult,
    responses=PENDING,
    summary="Accept the offer of this contact",
    tags=["agent actions"],
)
async def accept(
    request: Request, response: Response, agent: AgentUser, contact_id: int
) -> CommandResult:
    return await run_command(
        request, response, lambda s: service.answer_offer(s, contact_id, agent, accept=True)
    )


@router.post(
    "/contacts/{contact_id}/reject",
    response_model=CommandResult,
    responses=PENDING,
    summary="Reject the offer of this contact",
    tags=["agent actions"],
)
async def reject(
    request: Request, response: Response, agent: AgentUser, contact_id: int
) -> CommandResult:
    return await run_command(
        request, response, lambda s: service.answer_offer(s, contact_id, agent, accept=False)
    )


@router.post(
    "/contacts/{contact_id}/end",
    response_model=CommandResult,
    responses=PENDING,
    summary="End the work on an assigned contact (wrap-up starts)",
    tags=["agent actions"],
)
async def end(
    request: Request,
    response: Response,
    user: AgentUser,
    contact_id: int,
    data: EndRequest | None = None,
) -> CommandResult:
    disposition = data.disposition if data else None
    return await run_command(
        request, response, lambda s: surveys.end_contact(s, contact_id, user, disposition)
    )


@router.post(
    "/contacts/{contact_id}/transfer",
    response_model=CommandResult,
    responses=PENDING,
    summary="Transfer to a queue or an agent, keeping the original arrival time",
    tags=["agent actions"],
)
async def transfer(
    request: Request, response: Response, user: AgentUser, contact_id: int, data: TransferRequest
) -> CommandResult:
    return await run_command(
        request,
        response,
        lambda s: service.transfer(
            s, contact_id, user, to_queue=data.to_queue, to_agent_id=data.to_agent_id
        ),
    )


@router.get(
    "/contacts/{contact_id}/routing",
    response_model=list[RoutingEventOut],
    summary="Why the contact went where it went: every routing step with its trace",
    tags=["contacts"],
)
async def routing_history(
    session: SessionDep, _: SupervisorUser, contact_id: int
) -> list[RoutingEventOut]:
    events = await service.routing_history(session, contact_id)
    return [RoutingEventOut.model_validate(e) for e in events]


@router.get(
    "/contacts/{contact_id}/position",
    response_model=PositionOut,
    summary="Place in line and expected wait",
    tags=["contacts"],
)
async def position(
    request: Request, session: SessionDep, user: AgentUser, contact_id: int
) -> PositionOut:
    engine = leader_engine(request).engine
    assert engine is not None
    found = await service.contact_position(session, engine, contact_id, user, time.time())
    return PositionOut(
        contact_id=contact_id,
        queue=found.queue,
        status=found.status.value,
        position=found.position,
        expected_wait_seconds=rounded_wait(found.expected_wait_seconds),
    )


@router.get(
    "/routing/queues/{queue}/waiting",
    response_model=list[WaitingOut],
    summary="Contacts waiting in a queue, in the order they will be served",
)
async def waiting(request: Request, _: SupervisorUser, queue: str) -> list[WaitingOut]:
    engine = leader_engine(request).engine
    assert engine is not None
    now = time.time()
    result = []
    try:
        waiting_views = engine.waiting_contacts(queue, now=now)
    except RoutingError as exc:
        raise NotFound(f"No queue {queue!r} is routed.", details={"queue": queue}) from exc
    for index, view in enumerate(waiting_views, start=1):
        expected = engine.position(view.contact_id, now).expected_wait_seconds
        result.append(
            WaitingOut(
                contact_id=int(view.contact_id),
                queue=view.queue,
                channel=view.channel,
                position=index,
                waited_seconds=round(now - view.arrived_at, 1),
                expected_wait_seconds=rounded_wait(expected),
                effective_priority=round(view.effective_priority, 2),
                step=view.step,
            )
        )
    return result


# ---------------------------------------------------------------- agents


@router.put(
    "/agents/me/state",
    response_model=CommandResult,
    responses=PENDING,
    summary="Available, not ready (with a reason) or offline",
    tags=["agent actions"],
)
async def set_my_state(
    request: Request, response: Response, agent: AgentUser, data: AgentStateRequest
) -> CommandResult:
    return await run_command(
        request,
        response,
        lambda s: service.set_agent_state(s, agent, data.state, data.reason, actor_id=agent.id),
    )


@router.put(
    "/agents/{agent_id}/state",
    response_model=CommandResult,
    responses=PENDING,
    summary="Force an agent's state (supervisors)",
    tags=["agents"],
)
async def force_state(
    request: Request,
    response: Response,
    user: SupervisorUser,
    agent_id: int,
    data: AgentStateRequest,
) -> CommandResult:
    from app.agents.service import get_agent_user

    async with get_database(request).sessionmaker() as session:
        agent = await get_agent_user(session, agent_id)
    return await run_command(
        request,
        response,
        lambda s: service.set_agent_state(s, agent, data.state, data.reason, actor_id=user.id),
    )


@router.post(
    "/agents/me/wrap-up/end",
    response_model=CommandResult,
    responses=PENDING,
    summary="Done with after-contact work",
    tags=["agent actions"],
)
async def end_wrap_up(request: Request, response: Response, agent: AgentUser) -> CommandResult:
    return await run_command(request, response, lambda s: service.end_wrap_up(s, agent))


@router.get(
    "/agents/me/presence",
    response_model=AgentPresenceOut,
    summary="My routing state",
    tags=["agent actions"],
)
async def my_presence(request: Request, agent: AgentUser) -> AgentPresenceOut:
    engine = leader_engine(request).engine
    assert engine is not None
    try:
        view = engine.agent_view(str(agent.id))
    except RoutingError:
        return AgentPresenceOut(
            agent_id=agent.id,
            state="offline",
            reason=None,
            free_capacity={},
            offered=[],
            assigned=[],
        )
    return AgentPresenceOut(
        agent_id=agent.id,
        state=view.state.value,
        reason=view.reason,
        free_capacity=view.free_capacity,
        offered=sorted(int(c) for ids in view.offered.values() for c in ids),
        assigned=sorted(int(c) for ids in view.assigned.values() for c in ids),
    )


# ---------------------------------------------------------------- configuration


@router.get(
    "/routing/config",
    response_model=ConfigVersionDetail,
    summary="The routing configuration in force",
)
async def get_config(session: SessionDep, _: SupervisorUser) -> ConfigVersionDetail:
    version, document = await config_service.active_version(session)
    if version == 0:
        return ConfigVersionDetail(
            version=0,
            author_id=None,
            comment="defaults",
            rolled_back_from=None,
            created_at=datetime.fromtimestamp(0, UTC),
            document=document,
        )
    row = await config_service.get_version(session, version)
    return ConfigVersionDetail(
        **ConfigVersionOut.model_validate(row).model_dump(), document=document
    )


@router.put(
    "/routing/config",
    response_model=ConfigVersionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Publish a new version (validated; applies to contacts already waiting)",
)
async def publish_config(
    session: SessionDep, admin: AdminUser, data: ConfigPublish
) -> ConfigVersionOut:
    row = await config_service.publish(
        session, data.document, author_id=admin.id, comment=data.comment, based_on=data.based_on
    )
    return ConfigVersionOut.model_validate(row)


@router.post(
    "/routing/config/replay",
    response_model=ReplayReportOut,
    response_model_exclude_unset=True,
    summary="Replay a recorded period: the configuration in force, then a candidate",
    description="What `contactd simulate --replay --json` prints, for a period of at most"
    f" {REPLAY_MAX_DAYS} days (default: the last seven): fidelity first (recorded vs the"
    " faithful replay), then the candidate document and/or agents delta as a difference"
    " from the faithful replay. One replay at a time per instance (429 `replay_busy`).",
)
async def replay_candidate(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: SupervisorUser,
    data: ReplayRequest,
) -> dict[str, Any]:
    start, end = replay.replay_period_bounds(
        data.start, data.end, datetime.now(UTC), max_days=REPLAY_MAX_DAYS
    )
    what_if = replay.WhatIf(data.document, dict(data.agents_delta))
    with _replay_gate(request):
        return await replay.replay_before_publishing(
            session, start, end, what_if, seeds=data.seeds, zone=settings.zone
        )


def _replay_gate(request: Request) -> replay.ReplayGate:
    gate: replay.ReplayGate | None = getattr(request.app.state, "replay_gate", None)
    if gate is None:
        gate = request.app.state.replay_gate = replay.ReplayGate()
    return gate


@router.get(
    "/routing/config/versions",
    response_model=list[ConfigVersionOut],
    summary="Every version, newest first",
)
async def list_versions(session: SessionDep, _: SupervisorUser) -> list[ConfigVersionOut]:
    return [ConfigVersionOut.model_validate(v) for v in await config_service.list_versions(session)]


@router.get(
    "/routing/config/versions/{version}", response_model=ConfigVersionDetail, summary="One version"
)
async def get_version(
    session: SessionDep, _: SupervisorUser, version: VersionPath
) -> ConfigVersionDetail:
    row = await config_service.get_version(session, version)
    return ConfigVersionDetail(
        **ConfigVersionOut.model_validate(row).model_dump(),
        document=RoutingDocument.model_validate(row.document),
    )


@router.post(
    "/routing/config/versions/{version}/rollback",
    response_model=ConfigVersionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Put an earlier version back in force",
)
async def roll_back(
    session: SessionDep, admin: AdminUser, version: VersionPath
) -> ConfigVersionOut:
    return ConfigVersionOut.model_validate(
        await config_service.roll_back(session, version, author_id=admin.id)
    )
