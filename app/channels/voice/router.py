"""HTTP endpoints of the voice channel: Twilio's webhooks, the generic CTI API, and the
call controls agents and supervisors use during a call (``app.channels.voice.controls``).

Every webhook is authenticated by its provider's signature before anything is read from
the database (the call controls by the user's token); a refused request stores nothing.
Errors are JSON like everywhere else (also for Twilio: it only needs the status code).
"""

from __future__ import annotations

import time
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel, ValidationError

from app.auth.dependencies import require_role
from app.channels.voice import cti, twilio
from app.channels.voice.controls import CONTROLS, ControlSpec, control_call
from app.channels.voice.cti_signature import HEADER as CTI_HEADER
from app.channels.voice.cti_signature import SignatureRefused, verify
from app.channels.voice.schemas import (
    CtiAck,
    CtiEvent,
    TwilioCall,
    TwilioCallRef,
    TwilioDialEnded,
    TwilioHoldChoice,
    TwilioRecording,
    TwilioStatus,
)
from app.channels.voice.twilio_signature import signature_matches
from app.config import Settings
from app.dependencies import SessionDep, SettingsDep, get_database
from app.errors import AppError, Forbidden, InvalidInput
from app.ivr.handoff import answer_twilio_call, twilio_status_in_ivr
from app.openapi_errors import ErrorBody
from app.routing.core.engine import RoutingError
from app.users.models import Role, User
from app.validation import IdPath

router = APIRouter(tags=["voice"])

TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 200
TWIML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {}}, "description": "TwiML for the call."}
}
Model = TypeVar("Model", bound=BaseModel)


class UnsupportedMediaType(AppError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


def _xml(document: str) -> Response:
    return Response(content=document, media_type="text/xml")


def public_url(settings: Settings, request: Request) -> str:
    """The URL the provider called, as it sees us (behind a proxy: ``public_base_url``)."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = settings.public_base_url.rstrip("/") + request.url.path
    return f"{url}?{query}" if query else url


def _parse_form(request: Request, body: bytes) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != FORM:
        raise UnsupportedMediaType(f"Send the parameters as {FORM}.")
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("The form body is malformed.", code="malformed_form") from exc


async def twilio_params(request: Request, settings: Settings) -> dict[str, str]:
    """The request's POST parameters, once its Twilio signature is proven right."""
    token = settings.twilio_auth_token
    if token is None:
        raise Forbidden(
            "Twilio webhooks are refused: CONTACTD_TWILIO_AUTH_TOKEN is not set, so no "
            "signature can be checked.",
            code="twilio_not_configured",
        )
    pairs = _parse_form(request, await request.body())
    signature = request.headers.get(TWILIO_SIGNATURE_HEADER)
    if not signature_matches(
        token.get_secret_value(), public_url(settings, request), pairs, signature
    ):
        raise Forbidden(f"Missing or wrong {TWILIO_SIGNATURE_HEADER}.", code="invalid_signature")
    params = dict(pairs)
    account = settings.twilio_account_sid
    if account is not None and params.get("AccountSid") != account:
        raise Forbidden("The call belongs to another Twilio account.", code="wrong_account")
    return params


def _invalid(exc: ValidationError) -> InvalidInput:
    details = [
        {"loc": list(err["loc"]), "message": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    return InvalidInput("The request is not valid.", details=details)


def validated(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def _urls(settings: Settings) -> twilio.Urls:
    music = settings.voice_hold_music_url
    return twilio.Urls(base=settings.public_base_url, hold_music=str(music))


def _position(request: Request, contact_id: int) -> twilio.Position | None:
    """Place in line from the routing engine; None when this instance does not route."""
    distributor = getattr(request.app.state, "distributor", None)
    engine = None if distributor is None else distributor.engine
    if engine is None:
        return None
    try:
        found = engine.position(str(contact_id), time.time())
    except RoutingError:
        return None
    if found.position < 1:
        return None
    return twilio.Position(found.position, found.expected_wait_seconds)


# ---------------------------------------------------------------- Twilio


@router.post(
    "/webhooks/twilio/voice",
    summary="Twilio: a call arrives (answers TwiML)",
    response_class=Response,
    responses=TWIML,
)
async def twilio_voice(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    call = validated(TwilioCall, await twilio_params(request, settings))
    in_ivr = await answer_twilio_call(request.app, session, call, settings)
    if in_ivr is not None:  # the dialled number runs a published IVR flow
        return _xml(in_ivr)
    document = await twilio.incoming_call(session, call, _urls(settings), settings.default_region)
    return _xml(document)


HeldContact = Annotated[int, Query(ge=1, description="The contact on hold.")]


@router.post(
    "/webhooks/twilio/hold",
    summary="Twilio: one turn of the hold loop (position, expected wait, music)",
    response_class=Response,
    responses=TWIML,
)
async def twilio_hold(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    contact: HeldContact,
) -> Response:
    ref = validated(TwilioCallRef, await twilio_params(request, settings))
    document = await twilio.hold_turn(
        session, contact, ref.call_sid, _urls(settings), _position(request, contact)
    )
    return _xml(document)


@router.post(
    "/webhooks/twilio/hold/choice",
    summary="Twilio: the caller's key on the hold loop's offer (1 takes the callback or voicemail)",
    response_class=Response,
    responses=TWIML,
)
async def twilio_hold_choice(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    contact: HeldContact,
) -> Response:
    choice = validated(TwilioHoldChoice, await twilio_params(request, settings))
    return _xml(await twilio.hold_choice(session, contact, choice, _urls(settings)))


@router.post(
    "/webhooks/twilio/status",
    summary="Twilio: a call status callback",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
async def twilio_status(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    call_status = validated(TwilioStatus, await twilio_params(request, settings))
    if not await twilio_status_in_ivr(session, call_status):
        await twilio.call_status(session, call_status)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/webhooks/twilio/voicemail",
    summary="Twilio: a voicemail was recorded (the <Record> action)",
    response_class=Response,
    responses=TWIML,
)
async def twilio_voicemail(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    contact: int = Query(ge=1, description="The contact the message is for."),
) -> Response:
    recording = validated(TwilioRecording, await twilio_params(request, settings))
    return _xml(await twilio.voicemail(session, contact, recording))


@router.post(
    "/webhooks/twilio/survey",
    summary="Twilio: the agent's leg ended (the <Dial> action): the post-call survey",
    response_class=Response,
    responses=TWIML,
)
async def twilio_survey(
    request: Request, session: SessionDep, settings: SettingsDep, contact: HeldContact
) -> Response:
    dial = validated(TwilioDialEnded, await twilio_params(request, settings))
    return _xml(await twilio.survey_offer(session, contact, dial, _urls(settings)))


@router.post(
    "/webhooks/twilio/survey/answer",
    summary="Twilio: the key pressed on the post-call survey (1-5, the rating)",
    response_class=Response,
    responses=TWIML,
)
async def twilio_survey_answer(
    request: Request, session: SessionDep, settings: SettingsDep, contact: HeldContact
) -> Response:
    choice = validated(TwilioHoldChoice, await twilio_params(request, settings))
    bus = getattr(request.app.state, "bus", None)
    return _xml(await twilio.survey_answer(session, bus, contact, choice, _urls(settings)))


# ---------------------------------------------------------------- generic CTI


def _cti_secret(settings: Settings) -> str:
    if settings.cti_secret is None:
        raise Forbidden(
            "CTI events are refused: CONTACTD_CTI_SECRET is not set, so no signature can be "
            "checked.",
            code="cti_not_configured",
        )
    return settings.cti_secret.get_secret_value()


@router.post(
    "/webhooks/cti/events",
    summary="CTI: a call event from a PBX (signed, see docs/voice.md)",
    response_model=CtiAck,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CtiEvent.model_json_schema()}},
        }
    },
)
async def cti_event(request: Request, session: SessionDep, settings: SettingsDep) -> CtiAck:
    secret = _cti_secret(settings)
    body = await request.body()
    try:
        verify(secret, request.headers.get(CTI_HEADER), body, time.time())
    except SignatureRefused as exc:
        raise Forbidden(str(exc), code=exc.code) from exc
    try:
        event = CtiEvent.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    return await cti.handle(session, event, settings.default_region)


class CallControlOut(BaseModel):
    """A call control the provider took (what it then does is on the contact's events)."""

    contact_id: int
    control: str
    provider: str
    attempts: int


CONTROL_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: {"model": ErrorBody, "description": "The telephony provider did not take it."}
}


def _add_call_control(spec: ControlSpec) -> None:
    """``POST /api/v1/contacts/{contact_id}/call/<control>`` for one row of ``CONTROLS``."""
    least = Role.SUPERVISOR if spec.supervisors_only else Role.AGENT

    async def call_control(
        request: Request, contact_id: IdPath, user: User = Depends(require_role(least))
    ) -> CallControlOut:
        done = await control_call(
            get_database(request), request.app.state.voice, user, contact_id, spec
        )
        return CallControlOut(
            contact_id=done.contact_id,
            control=done.control,
            provider=done.provider,
            attempts=done.attempts,
        )

    router.add_api_route(
        f"/api/v1/contacts/{{contact_id}}/call/{spec.name}",
        call_control,
        methods=["POST"],
        summary=spec.summary,
        name=f"call_{spec.name}",
        response_model=CallControlOut,
        responses=CONTROL_RESPONSES,
        tags=["call controls"],
    )


for _spec in CONTROLS:
    _add_call_control(_spec)
