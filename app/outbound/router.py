"""Outbound calls over HTTP: supervisors and admins ask for one and read how it went; the
provider reports each call's status to the webhook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from app.auth.dependencies import SupervisorUser
from app.channels.voice.router import twilio_params, validated
from app.channels.voice.schemas import TwilioStatus
from app.dependencies import SessionDep, SettingsDep
from app.errors import error_response
from app.outbound import service
from app.outbound.schemas import OutboundAttemptOut, OutboundCallIn, OutboundCallOut

router = APIRouter(tags=["outbound"])


async def _call_out(session: SessionDep, call_id: int) -> OutboundCallOut:
    call, attempts = await service.outbound_call(session, call_id)
    return OutboundCallOut(
        id=call.id,
        customer_id=call.customer_id,
        queue=call.queue,
        purpose=call.purpose,
        origin=call.origin,
        ref=call.ref,
        state=call.state,
        outcome=call.outcome,
        created_at=call.created_at,
        attempts=[OutboundAttemptOut.model_validate(a) for a in attempts],
    )


@router.post(
    "/api/v1/outbound/calls",
    response_model=OutboundCallOut,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"description": "No such customer."}},
    summary="Place a call to a customer through an agent (preview), consent permitting",
    description=(
        "The call's first try is put in line like an inbound call; the agent it is offered"
        " to sees the script and the number's last digits and, on accepting, the call is"
        " placed. 409 `touch_suppressed` (details: `reason`, `next_allowed_at`) when consent"
        " holds the call back; the suppression is recorded. 422 `no_phone`, `unknown_queue`,"
        " `channel_not_served`."
    ),
)
async def create_call(
    session: SessionDep, user: SupervisorUser, body: OutboundCallIn
) -> OutboundCallOut | JSONResponse:
    result = await service.request_outbound_call(
        session,
        service.OutboundCallRequest(
            customer_id=body.customer_id,
            queue=body.queue,
            purpose=body.purpose,
            origin=body.origin,
            ref=body.ref,
            now=datetime.now(UTC),
            script=body.script,
            priority=body.priority,
            skills=body.skills,
        ),
        actor_id=user.id,
    )
    if result.call_id is None:  # answered, not raised: the suppression record commits
        details: dict[str, Any] = {
            "reason": result.suppressed_reason,
            "next_allowed_at": None
            if result.next_allowed_at is None
            else result.next_allowed_at.isoformat(),
        }
        return error_response(
            status.HTTP_409_CONFLICT,
            "touch_suppressed",
            "Consent does not allow this call now.",
            details,
        )
    return await _call_out(session, result.call_id)


@router.get(
    "/api/v1/outbound/calls/{call_id}",
    response_model=OutboundCallOut,
    summary="An outbound call and its tries",
)
async def get_call(session: SessionDep, _: SupervisorUser, call_id: int) -> OutboundCallOut:
    return await _call_out(session, call_id)


@router.post(
    "/webhooks/twilio/outbound/status",
    summary="Twilio: a status callback of an outbound call",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def twilio_outbound_status(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    contact: Annotated[int, Query(ge=1, description="The outbound contact.")],
) -> Response:
    call_status = validated(TwilioStatus, await twilio_params(request, settings))
    await service.twilio_status(session, contact, call_status, datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
