"""HTTP endpoints of cases: ``/api/v1/cases`` (agents work cases; reads are audited) and
their settings (types, calendars, SLA policies: supervisors and admins change them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import View, record_view
from app.auth.dependencies import AgentUser, SupervisorUser
from app.cases import service
from app.cases.access import authorize_case, case_list_owner, manages_cases
from app.cases.core.states import State
from app.cases.models import Case
from app.cases.schemas import (
    CalendarsIn,
    CaseCreate,
    CaseEventOut,
    CaseOut,
    CaseUpdate,
    LinkIn,
    NoteIn,
    NoteOut,
    PoliciesIn,
    SettingsOut,
    TypesIn,
)
from app.cases.settings_schemas import CasesSettings
from app.cases.settings_service import current_settings, publish_settings, settings_in_force
from app.customers.views import authorize_view
from app.dependencies import SessionDep, get_database
from app.errors import InvalidInput
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params
from app.users.models import User

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


async def _authorize(
    request: Request, session: AsyncSession, user: User, case: Case, action: str
) -> None:
    await authorize_case(session, get_database(request), user, case, action)


# ------------------------------------------------------------------ settings


async def _settings_out(session: AsyncSession) -> SettingsOut:
    version, settings = await settings_in_force(session)
    return SettingsOut(version=version, **settings.model_dump())


async def _publish(
    session: AsyncSession, user: User, changed: CasesSettings, *, calendars: bool = False
) -> SettingsOut:
    """Publish; after a change of calendars the open cases' due times follow (types and
    policies do not touch existing cases: each keeps the policy it was opened with)."""
    await publish_settings(session, changed, user.id)
    if calendars:
        await service.refresh_open_cases(session)
    return await _settings_out(session)


def _changed(settings: CasesSettings, **parts: object) -> CasesSettings:
    """The settings with ``parts`` replaced, validated as a whole (422 if inconsistent)."""
    try:
        return CasesSettings.model_validate({**settings.model_dump(), **parts})
    except ValidationError as exc:
        problems = [{"loc": list(e["loc"]), "message": e["msg"]} for e in exc.errors()[:5]]
        raise InvalidInput(
            "The settings are not consistent.", details=problems, code="invalid_settings"
        ) from exc


@router.get("/settings", response_model=SettingsOut, summary="Case types, calendars, policies")
async def get_settings(session: SessionDep, _: AgentUser) -> SettingsOut:
    return await _settings_out(session)


@router.put("/types", response_model=SettingsOut, summary="Replace the case types")
async def put_types(session: SessionDep, user: SupervisorUser, data: TypesIn) -> SettingsOut:
    settings = await current_settings(session)
    reopen = settings.reopen_days if data.reopen_days is None else data.reopen_days
    changed = _changed(settings, types=data.model_dump()["types"], reopen_days=reopen)
    return await _publish(session, user, changed)


@router.get("/calendars", response_model=CalendarsIn, summary="Business calendars")
async def get_calendars(session: SessionDep, _: AgentUser) -> CalendarsIn:
    settings = await current_settings(session)
    return CalendarsIn(
        calendars=settings.calendars,
        default_calendar=settings.default_calendar,
        queue_calendars=settings.queue_calendars,
    )


@router.put(
    "/calendars",
    response_model=SettingsOut,
    summary="Replace the business calendars (open cases' due times follow)",
)
async def put_calendars(
    session: SessionDep, user: SupervisorUser, data: CalendarsIn
) -> SettingsOut:
    settings = await current_settings(session)
    changed = _changed(settings, **data.model_dump())
    return await _publish(session, user, changed, calendars=True)


@router.get("/sla-policies", response_model=PoliciesIn, summary="SLA policies")
async def get_policies(session: SessionDep, _: AgentUser) -> PoliciesIn:
    settings = await current_settings(session)
    return PoliciesIn(policies=settings.policies)


@router.put(
    "/sla-policies",
    response_model=SettingsOut,
    summary="Replace the SLA policies (new cases get them; existing cases keep theirs)",
)
async def put_policies(session: SessionDep, user: SupervisorUser, data: PoliciesIn) -> SettingsOut:
    settings = await current_settings(session)
    return await _publish(session, user, _changed(settings, **data.model_dump()))


# ------------------------------------------------------------------ cases


@router.get("", response_model=Page[CaseOut], summary="Cases, newest first (audited)")
async def list_cases(
    request: Request,
    session: SessionDep,
    user: AgentUser,
    page: Annotated[PageParams, Depends(page_params)],
    customer_id: int | None = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
    state: State | None = None,
    owner: Annotated[int | None, Query(description="The owner's user id.")] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    breached: bool | None = None,
) -> Page[CaseOut]:
    """Agents list a customer's cases (``customer_id``, seen through a contact of theirs)
    or their own (``owner`` = their id, the default without ``customer_id``)."""
    owner = await case_list_owner(session, get_database(request), user, customer_id, owner)
    found = service.CaseFilter(customer_id, type, state, owner, queue, breached)
    rows = await service.list_cases(session, found, cursor_id(page), page.limit)
    cases, next_cursor = page_by_id(rows, page.limit, lambda c: c.id)
    if customer_id is None or manages_cases(user):
        detail = {"results": [c.id for c in cases], "customer_id": customer_id}
        record_view(
            session,
            View(
                actor_id=user.id,
                action="cases",
                customer_id=customer_id,
                via="search",
                detail=detail,
            ),
        )
    return Page(items=await service.cases_out(session, cases), next_cursor=next_cursor)


@router.post("", response_model=CaseOut, status_code=status.HTTP_201_CREATED, summary="Open a case")
async def create_case(
    request: Request, session: SessionDep, user: AgentUser, data: CaseCreate
) -> CaseOut:
    if not manages_cases(user):
        await authorize_view(session, get_database(request), user, data.customer_id, "case_create")
    case = await service.create_case(session, data, user.id)
    return await service.case_out(session, case)


@router.get("/{case_id}", response_model=CaseOut, summary="One case with its SLA (audited)")
async def get_case(request: Request, session: SessionDep, user: AgentUser, case_id: int) -> CaseOut:
    case = await service.get_case(session, case_id)
    await _authorize(request, session, user, case, "case")
    return await service.case_out(session, case)


@router.patch("/{case_id}", response_model=CaseOut, summary="Change state, owner, priority, queue")
async def update_case(
    request: Request, session: SessionDep, user: AgentUser, case_id: int, data: CaseUpdate
) -> CaseOut:
    await _authorize(request, session, user, await service.get_case(session, case_id), "case")
    case = await service.update_case(session, case_id, data, user.id)
    return await service.case_out(session, case)


@router.post(
    "/{case_id}/notes",
    response_model=NoteOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a note (kind `reply`: a response to the customer)",
)
async def add_note(
    request: Request, session: SessionDep, user: AgentUser, case_id: int, data: NoteIn
) -> NoteOut:
    await _authorize(request, session, user, await service.get_case(session, case_id), "case")
    note = await service.add_note(session, case_id, data, user.id)
    return NoteOut.model_validate(note, from_attributes=True)


@router.post("/{case_id}/contacts", response_model=CaseOut, summary="Link a contact to the case")
async def link_contact(
    request: Request, session: SessionDep, user: AgentUser, case_id: int, data: LinkIn
) -> CaseOut:
    await _authorize(request, session, user, await service.get_case(session, case_id), "case")
    case = await service.link_contact(session, case_id, data.contact_id, user.id)
    return await service.case_out(session, case)


@router.get(
    "/{case_id}/timeline", response_model=list[CaseEventOut], summary="The case's events (audited)"
)
async def case_timeline(
    request: Request, session: SessionDep, user: AgentUser, case_id: int
) -> list[CaseEventOut]:
    case = await service.get_case(session, case_id)
    await _authorize(request, session, user, case, "case_timeline")
    return await service.timeline(session, case_id)
