"""A customer's consent over HTTP: agents (through a contact of the customer, as for the
history), supervisors (their team's customers) and admins read and change it; every read
and change is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from app.auth.dependencies import AgentUser, SupervisorUser
from app.consent import service
from app.consent.schemas import (
    ConsentIn,
    ConsentOut,
    PreferencesIn,
    SuppressionOut,
    SuppressionReport,
)
from app.customers.service import get_customer
from app.customers.views import authorize_view
from app.dependencies import SessionDep, SettingsDep, get_database
from app.errors import InvalidInput
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params
from app.users.models import User

router = APIRouter(tags=["consent"])
ViaContact = Annotated[int | None, Query(description="The contact through which the agent looks.")]


async def _authorize(
    request: Request,
    session: SessionDep,
    user: User,
    customer_id: int,
    action: str,
    via_contact: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    await get_customer(session, customer_id)
    await authorize_view(
        session,
        get_database(request),
        user,
        customer_id,
        action,
        via_contact=via_contact,
        detail=detail,
    )


@router.get(
    "/api/v1/customers/{customer_id}/consent",
    response_model=ConsentOut,
    summary="The customer's consent per channel × purpose, do-not-contact, quiet hours, history",
)
async def get_consent(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    customer_id: int,
    via_contact: ViaContact = None,
) -> ConsentOut:
    await _authorize(request, session, user, customer_id, "consent", via_contact)
    return await service.consent_view(session, customer_id, service.policy_from_settings(settings))


@router.put(
    "/api/v1/customers/{customer_id}/consent",
    response_model=ConsentOut,
    summary="Set one channel × purpose: granted, refused or unknown (audited)",
    description=(
        "Repeating the current status records no new history row. 422 `invalid_input` for"
        " an unknown channel, purpose or status, or `call_recording` outside voice."
    ),
)
async def put_consent(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    customer_id: int,
    data: ConsentIn,
    via_contact: ViaContact = None,
) -> ConsentOut:
    detail = {"channel": data.channel, "purpose": data.purpose, "status": data.status}
    await _authorize(request, session, user, customer_id, "consent_change", via_contact, detail)
    await service.set_consent(session, customer_id, data, user.id)
    return await service.consent_view(session, customer_id, service.policy_from_settings(settings))


@router.put(
    "/api/v1/customers/{customer_id}/contact-preferences",
    response_model=ConsentOut,
    summary="Set do-not-contact and/or the customer's time zone (audited)",
)
async def put_preferences(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    customer_id: int,
    data: PreferencesIn,
    via_contact: ViaContact = None,
) -> ConsentOut:
    detail = {"fields": sorted(data.model_fields_set & {"do_not_contact", "time_zone"})}
    await _authorize(request, session, user, customer_id, "consent_change", via_contact, detail)
    await service.set_preferences(session, customer_id, data, user.id)
    return await service.consent_view(session, customer_id, service.policy_from_settings(settings))


@router.get(
    "/api/v1/customers/{customer_id}/suppressions",
    response_model=Page[SuppressionOut],
    summary="Outbound touches the consent rules held back from the customer, newest first",
)
async def list_suppressions(
    request: Request,
    session: SessionDep,
    user: AgentUser,
    customer_id: int,
    page: Annotated[PageParams, Depends(page_params)],
    via_contact: ViaContact = None,
) -> Page[SuppressionOut]:
    await _authorize(request, session, user, customer_id, "suppressions", via_contact)
    rows = await service.suppressions_page(session, customer_id, cursor_id(page), page.limit)
    items, next_cursor = page_by_id(rows, page.limit, lambda r: r.id)
    return Page(items=[SuppressionOut.model_validate(r) for r in items], next_cursor=next_cursor)


@router.get(
    "/api/v1/reports/suppressions",
    response_model=SuppressionReport,
    summary="Suppressed touches by reason, channel, purpose and origin (default: 7 days)",
)
async def suppression_report(
    session: SessionDep,
    _: SupervisorUser,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SuppressionReport:
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("since and until need a time zone offset.", code="naive_time")
    if start >= end:
        raise InvalidInput("since must be before until.", code="empty_period")
    return await service.suppression_report(session, start, end)
