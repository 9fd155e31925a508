"""CSAT endpoints: the email link's page and answer (public, the signed token is the
credential), a contact's survey for agents and supervisors, and the report. docs/csat.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app.auth.dependencies import AgentUser, SupervisorUser
from app.dependencies import SessionDep
from app.errors import AppError, InvalidInput
from app.surveys import page, service
from app.surveys.schemas import (
    CsatAnswerIn,
    CsatFiguresOut,
    CsatOut,
    CsatRecorded,
    CsatReport,
    GroupBy,
)

router = APIRouter(tags=["csat"])

FORM = "application/x-www-form-urlencoded"
Token = Annotated[str, Path(min_length=1, max_length=200)]


def _html(document: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(document, status_code=status_code, headers=page.HEADERS)


@router.get(
    "/csat/{token}",
    response_class=HTMLResponse,
    summary="The survey page of an email link (public, bilingual)",
)
async def survey_page(request: Request, session: SessionDep, token: Token) -> HTMLResponse:
    try:
        contact_id = service.link_contact(session, token)
        await service.check_open(session, contact_id)
    except AppError as exc:
        return _html(page.notice_page(exc.code), exc.status_code)
    return _html(page.survey_form(request.url.path))


def _form_answer(body: bytes) -> CsatAnswerIn:
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), max_num_fields=10))
        comment = fields.get("comment") or None
        return CsatAnswerIn(score=int(fields.get("score", "")), comment=comment)
    except (UnicodeDecodeError, ValueError, ValidationError) as exc:
        raise InvalidInput("Choose a score from 1 to 5.", code="invalid_input") from exc


async def _json_answer(request: Request) -> CsatAnswerIn:
    try:
        return CsatAnswerIn.model_validate_json(await request.body())
    except ValidationError as exc:
        details = [
            {"loc": list(e["loc"]), "message": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        raise InvalidInput("The request is not valid.", details=details) from exc


@router.post(
    "/csat/{token}",
    response_model=CsatRecorded,
    summary="Answer an email link's survey (JSON, or the page's form: an HTML answer)",
    responses={
        404: {"description": "`invalid_token` or `no_survey`."},
        409: {"description": "`already_rated`: the contact has its one rating."},
        410: {"description": "`token_expired` or `survey_expired`."},
    },
)
async def answer_link(request: Request, session: SessionDep, token: Token) -> Response:
    is_form = request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM
    try:
        contact_id = service.link_contact(session, token)
        data = _form_answer(await request.body()) if is_form else await _json_answer(request)
        survey = await service.answer(
            session, request.app.state.bus, contact_id, data.score, data.comment
        )
    except AppError as exc:
        if not is_form:
            raise
        return _html(page.notice_page(exc.code), exc.status_code)
    if is_form:
        return _html(page.notice_page("recorded"))
    assert survey.score is not None
    assert survey.answered_at is not None
    recorded = CsatRecorded(
        contact_id=contact_id, score=survey.score, answered_at=survey.answered_at
    )
    return Response(recorded.model_dump_json(), media_type="application/json")


@router.get(
    "/api/v1/contacts/{contact_id}/csat",
    response_model=CsatOut,
    summary="The contact's CSAT survey and answer (its agent or a supervisor)",
    tags=["contacts"],
)
async def contact_csat(session: SessionDep, user: AgentUser, contact_id: int) -> CsatOut:
    return await service.contact_csat(session, contact_id, user)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get(
    "/api/v1/reports/csat",
    response_model=CsatReport,
    summary="CSAT per agent, queue, grade or channel (supervisors)",
    tags=["reports"],
)
async def csat_report(
    session: SessionDep,
    _: SupervisorUser,
    group_by: GroupBy = "agent",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
) -> CsatReport:
    """Surveys offered in ``[from, to)``: average score, % satisfied (4-5) and responses
    per offered survey, per group."""
    since, until = _aware(start), _aware(to)
    if since is not None and until is not None and until <= since:
        raise InvalidInput("'to' must be after 'from'.", code="invalid_period")
    rows = await service.report(session, group_by, since, until)
    return CsatReport(
        group_by=group_by,
        from_=since,
        to=until,
        rows=[CsatFiguresOut.model_validate(row, from_attributes=True) for row in rows],
    )
