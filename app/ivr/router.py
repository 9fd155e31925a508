"""HTTP endpoints of the ivr package: flow management for admins and supervisors, the dry
run, metrics, the IVR webhooks of both voice paths, and the demo's order-status lookup."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response, status
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import AdminUser, SupervisorUser
from app.channels.voice.cti_signature import HEADER as CTI_HEADER
from app.channels.voice.cti_signature import SignatureRefused, verify
from app.channels.voice.router import TWIML, twilio_params, validated
from app.channels.voice.schemas import TwilioCallRef
from app.channels.voice.service import e164
from app.config import Settings
from app.dependencies import SessionDep, SettingsDep
from app.errors import Forbidden, InvalidInput, NotFound
from app.ivr import store
from app.ivr.calls import Answer, CallStart, current, resume, start
from app.ivr.dryrun import DryRun, dry_run, parse_input
from app.ivr.engine import CallerInput, CallerValue, Facts
from app.ivr.handoff import ivr_urls
from app.ivr.lookup import Lookups
from app.ivr.metrics import FlowMetrics, flow_metrics
from app.ivr.models import IvrFlow, IvrFlowVersion, IvrNumber
from app.ivr.render import to_json, to_twiml
from app.ivr.runtime import ivr_state
from app.ivr.schemas import (
    CtiIvrIn,
    DryRunIn,
    FlowCheck,
    FlowCreate,
    FlowOut,
    FlowValid,
    NumberIn,
    NumberOut,
    OrderStatus,
    PublishIn,
    RollbackIn,
    VersionCreate,
    VersionDocument,
    VersionOut,
)
from app.validation import VersionPath

router = APIRouter(tags=["ivr"])
PREFIX = "/api/v1/ivr"
MAX_LOOKUPS_PER_REQUEST = 5
FlowId = Annotated[int, Path(ge=1)]


def _version_out(row: IvrFlowVersion, published: int | None) -> VersionOut:
    out = VersionOut.model_validate(row)
    return out.model_copy(update={"published": row.version == published})


# ---------------------------------------------------------------- flows


@router.post(f"{PREFIX}/flows/validate", response_model=FlowValid, summary="Check a flow")
async def validate_flow(body: FlowCheck, session: SessionDep, _: SupervisorUser) -> FlowValid:
    flow = await store.check_flow(session, body.document)
    queues, skills = flow.queues_and_skills()
    return FlowValid(
        valid=True, nodes=len(flow.nodes), queues=sorted(queues), skills=sorted(skills)
    )


@router.post(f"{PREFIX}/flows", status_code=status.HTTP_201_CREATED, response_model=FlowOut)
async def create_flow(body: FlowCreate, session: SessionDep, user: AdminUser) -> IvrFlow:
    flow, version = await store.create_flow(
        session, body.name, body.description, body.document, user
    )
    if body.publish:
        await store.publish(session, flow.id, version.version, user)
    return flow


@router.get(f"{PREFIX}/flows", response_model=list[FlowOut])
async def list_flows(session: SessionDep, _: SupervisorUser) -> list[IvrFlow]:
    return list(await session.scalars(select(IvrFlow).order_by(IvrFlow.name)))


@router.get(f"{PREFIX}/flows/{{flow_id}}", response_model=FlowOut)
async def read_flow(flow_id: FlowId, session: SessionDep, _: SupervisorUser) -> IvrFlow:
    return await store.get_flow(session, flow_id)


@router.post(
    f"{PREFIX}/flows/{{flow_id}}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionOut,
)
async def add_version(
    flow_id: FlowId, body: VersionCreate, session: SessionDep, user: AdminUser
) -> VersionOut:
    version = await store.add_version(session, flow_id, body.document, body.comment, user)
    if body.publish:
        await store.publish(session, flow_id, version.version, user)
    flow = await store.get_flow(session, flow_id)
    return _version_out(version, flow.published_version)


@router.get(f"{PREFIX}/flows/{{flow_id}}/versions", response_model=list[VersionOut])
async def list_versions(
    flow_id: FlowId, session: SessionDep, _: SupervisorUser
) -> list[VersionOut]:
    flow = await store.get_flow(session, flow_id)
    rows = await store.versions(session, flow_id)
    return [_version_out(row, flow.published_version) for row in rows]


@router.get(f"{PREFIX}/flows/{{flow_id}}/versions/{{version}}", response_model=VersionDocument)
async def read_version(
    flow_id: FlowId,
    version: VersionPath,
    session: SessionDep,
    _: SupervisorUser,
) -> VersionDocument:
    flow = await store.get_flow(session, flow_id)
    row = await store.get_version(session, flow_id, version)
    out = _version_out(row, flow.published_version)
    return VersionDocument(**out.model_dump(), document=row.document)


@router.post(f"{PREFIX}/flows/{{flow_id}}/publish", response_model=FlowOut)
async def publish_flow(
    flow_id: FlowId, body: PublishIn, session: SessionDep, user: AdminUser
) -> IvrFlow:
    return await store.publish(session, flow_id, body.version, user)


@router.post(f"{PREFIX}/flows/{{flow_id}}/rollback", response_model=FlowOut)
async def rollback_flow(
    flow_id: FlowId, body: RollbackIn, session: SessionDep, user: AdminUser
) -> IvrFlow:
    return await store.rollback(session, flow_id, body.version, user)


# ---------------------------------------------------------------- numbers


def _number(raw: str, settings: Settings) -> str:
    number = e164(raw, settings.default_region)
    if number is None:
        raise InvalidInput("Not a phone number.", details={"number": raw}, code="invalid_phone")
    return number


@router.put(f"{PREFIX}/numbers/{{number}}", response_model=NumberOut)
async def map_number(
    number: str, body: NumberIn, session: SessionDep, settings: SettingsDep, _: AdminUser
) -> IvrNumber:
    return await store.map_number(session, _number(number, settings), body.flow_id)


@router.get(f"{PREFIX}/numbers", response_model=list[NumberOut])
async def list_numbers(session: SessionDep, _: SupervisorUser) -> list[IvrNumber]:
    return list(await session.scalars(select(IvrNumber).order_by(IvrNumber.number)))


@router.delete(f"{PREFIX}/numbers/{{number}}", status_code=status.HTTP_204_NO_CONTENT)
async def unmap_number(
    number: str, session: SessionDep, settings: SettingsDep, _: AdminUser
) -> Response:
    mapped = await session.get(IvrNumber, _number(number, settings))
    if mapped is None:
        raise NotFound("The number runs no flow.", details={"number": number})
    await session.delete(mapped)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- dry run and metrics


def _lookups(app: FastAPI) -> Lookups:
    return ivr_state(app).lookups


def _now(app: FastAPI) -> datetime:
    return ivr_state(app).clock()


@router.post(f"{PREFIX}/flows/{{flow_id}}/dry-run", response_model=DryRun)
async def dry_run_flow(
    flow_id: FlowId, body: DryRunIn, request: Request, session: SessionDep, _: SupervisorUser
) -> DryRun:
    published = await store.published_flow(session, flow_id, body.version)
    facts = Facts(
        caller_number=body.caller_number,
        customer_known=body.customer_known or body.value is not None,
        value=CallerValue() if body.value is None else body.value.to_facts(),
        customer_language=body.customer_language,
    )
    fetch = _lookups(request.app).fetch if body.lookups else None
    inputs = [parse_input(token) for token in body.digits]
    return await dry_run(published.flow, inputs, facts, body.at or _now(request.app), fetch)


@router.get(f"{PREFIX}/flows/{{flow_id}}/metrics", response_model=FlowMetrics)
async def metrics(
    flow_id: FlowId,
    session: SessionDep,
    _: SupervisorUser,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> FlowMetrics:
    await store.get_flow(session, flow_id)
    return await flow_metrics(session, flow_id, start, end)


# ---------------------------------------------------------------- demo lookup

_ORDER_STATES = (
    ("processing", "处理中", "2 days"),
    ("shipped", "已发货", "1 day"),
    ("out_for_delivery", "派送中", "today"),
    ("delivered", "已签收", "delivered"),
)


@router.get(f"{PREFIX}/demo/order-status/{{order_no}}", response_model=OrderStatus)
async def demo_order_status(
    order_no: Annotated[str, Path(pattern=r"^[0-9]{4,20}$")],
) -> OrderStatus:
    """The demo's order system: a fixed, made-up status per number; numbers ending in 0
    are unknown (404), to show the lookup's fallback."""
    if order_no.endswith("0"):
        raise NotFound("No such order.", details={"order_no": order_no}, code="unknown_order")
    state, state_zh, eta = _ORDER_STATES[int(order_no) % len(_ORDER_STATES)]
    return OrderStatus(order_no=order_no, status=state, status_zh=state_zh, eta=eta)


# ---------------------------------------------------------------- the IVR webhooks


async def _resume_lookups(
    app: FastAPI, run_id: uuid.UUID, answer: Answer, call_ref: str | None
) -> Answer:
    """Perform the HTTP lookups the run waits for, each outside any transaction."""
    for _ in range(MAX_LOOKUPS_PER_REQUEST):
        order = answer.fetch
        if order is None or answer.done:
            return answer
        result = await _lookups(app).fetch(order)
        async with app.state.db.unit_of_work() as session:
            answer = await resume(
                session, run_id, answer.turn, result, _now(app), call_ref=call_ref
            )
    return answer


def _twilio_input(params: dict[str, str], event: str) -> CallerInput:
    if event == "recording":
        return CallerInput(kind="recording", value=params.get("RecordingUrl") or None)
    digits = params.get("Digits", "").strip()
    if digits:
        return CallerInput(kind="digits", value=digits[:64])
    speech = params.get("SpeechResult", "").strip()
    if speech:
        return CallerInput(kind="speech", value=speech[:500])
    return CallerInput(kind="no_input")


@router.post(
    "/webhooks/twilio/ivr",
    summary="Twilio: the caller answered an IVR prompt (the <Gather>/<Record> action)",
    response_class=Response,
    responses=TWIML,
)
async def twilio_ivr(
    request: Request,
    settings: SettingsDep,
    run: Annotated[uuid.UUID, Query(description="The call's IVR run.")],
    turn: Annotated[int, Query(ge=0, description="The turn this answers.")],
    event: Literal["input", "lookup", "recording"] = "input",
) -> Response:
    params = await twilio_params(request, settings)
    ref = validated(TwilioCallRef, params)
    db = request.app.state.db
    if event == "lookup":
        async with db.unit_of_work() as session:
            answer = await current(session, run, ref.call_sid)
        if answer.turn == turn:
            answer = await _resume_lookups(request.app, run, answer, ref.call_sid)
    else:
        async with db.unit_of_work() as session:
            answer = await resume(
                session,
                run,
                turn,
                _twilio_input(params, event),
                _now(request.app),
                call_ref=ref.call_sid,
            )
    return Response(content=to_twiml(answer, ivr_urls(settings)), media_type="text/xml")


def _cti_body(settings: Settings, signature: str | None, body: bytes) -> CtiIvrIn:
    if settings.cti_secret is None:
        raise Forbidden("CTI is not configured (CONTACTD_CTI_SECRET).", code="cti_not_configured")
    try:
        verify(settings.cti_secret.get_secret_value(), signature, body, time.time())
    except SignatureRefused as exc:
        raise Forbidden(str(exc), code=exc.code) from exc
    try:
        return CtiIvrIn.model_validate_json(body)
    except ValidationError as exc:
        details = [{"loc": list(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise InvalidInput("The request is not valid.", details=details) from exc


@router.post(
    "/webhooks/cti/ivr",
    summary="CTI: start a call's IVR flow or answer its last turn (JSON instructions)",
)
async def cti_ivr(request: Request, settings: SettingsDep) -> dict[str, object]:
    """Signed like ``/webhooks/cti/events``. Without ``run``: the call (``call_id``, ``from``,
    ``to``) enters the flow of the dialled number. With ``run`` and ``turn``: ``input`` answers
    that turn (``digits``, ``speech``, ``no_input``, ``recording``)."""
    body = _cti_body(settings, request.headers.get(CTI_HEADER), await request.body())
    db = request.app.state.db
    async with db.unit_of_work() as session:
        if body.run is None:
            answer = await _cti_start(session, body, settings, _now(request.app))
        else:
            given = body.input or CallerInput(kind="no_input")
            answer = await resume(
                session, body.run, body.turn or 0, given, _now(request.app), call_ref=body.call_id
            )
    answer = await _resume_lookups(request.app, answer.run_id, answer, body.call_id)
    return to_json(answer)


async def _cti_start(
    session: AsyncSession, body: CtiIvrIn, settings: Settings, now: datetime
) -> Answer:
    dialled = e164(body.to, settings.default_region)
    published = None if dialled is None else await store.published_for_number(session, dialled)
    if dialled is None or published is None:
        raise NotFound(
            "The dialled number runs no IVR flow.", details={"to": body.to}, code="unknown_number"
        )
    call = CallStart("cti", body.call_id, body.from_, dialled, {"status": "offered"})
    return await start(session, call, published, settings.default_region, now)
