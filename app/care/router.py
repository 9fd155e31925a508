"""Proactive care over HTTP: the rules (supervisors read, admins change), the touches
(supervisors), and a day run by hand (admins)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.audit.service import View, record_view
from app.auth.dependencies import AdminUser, SupervisorUser
from app.care import service
from app.care.models import CareTouch
from app.care.schemas import CareRuleOut, CareRuleUpdate, CareRunOut, CareTouchOut, Outcome
from app.care.service import to_out
from app.dependencies import SessionDep, SettingsDep
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params

router = APIRouter(tags=["care"])
PageDep = Annotated[PageParams, Depends(page_params)]


@router.get("/api/v1/care/rules", response_model=list[CareRuleOut], summary="The care rules")
async def list_rules(session: SessionDep, _: SupervisorUser) -> list[CareRuleOut]:
    return [to_out(rule) for rule in await service.rules(session)]


@router.put(
    "/api/v1/care/rules/{key}",
    response_model=CareRuleOut,
    summary="Switch a care rule on or off, or change it (422 template_invalid: a template"
    " that does not render)",
)
async def update_rule(
    session: SessionDep, user: AdminUser, key: str, change: CareRuleUpdate
) -> CareRuleOut:
    return to_out(await service.update_rule(session, key, change, user.id))


def _page(rows: list[CareTouch], limit: int) -> Page[CareTouchOut]:
    items, next_cursor = page_by_id(rows, limit, lambda r: r.id)
    return Page(items=[CareTouchOut.model_validate(r) for r in items], next_cursor=next_cursor)


@router.get(
    "/api/v1/customers/{customer_id}/care-touches",
    response_model=Page[CareTouchOut],
    summary="The care touches of one customer, newest first (audited)",
)
async def customer_touches(
    session: SessionDep, user: SupervisorUser, customer_id: int, page: PageDep
) -> Page[CareTouchOut]:
    await service.require_customer(session, customer_id)
    record_view(
        session,
        View(actor_id=user.id, action="care_touches", customer_id=customer_id, via="search"),
    )
    rows = await service.touches_page(
        session, customer_id=customer_id, before_id=cursor_id(page), limit=page.limit
    )
    return _page(rows, page.limit)


@router.get(
    "/api/v1/care/touches",
    response_model=Page[CareTouchOut],
    summary="Care touches by day, rule and outcome, newest first",
)
async def list_touches(
    session: SessionDep,
    _: SupervisorUser,
    page: PageDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    rule: Annotated[str | None, Query(max_length=32)] = None,
    outcome: Outcome | None = None,
) -> Page[CareTouchOut]:
    rows = await service.touches_page(
        session,
        day=day,
        rule=rule,
        outcome=outcome,
        before_id=cursor_id(page),
        limit=page.limit,
    )
    return _page(rows, page.limit)


@router.post(
    "/api/v1/care/run",
    response_model=CareRunOut,
    summary="Run a care day by hand: what it plans (dry run) or its touches created and"
    " acted on now",
)
async def run_day(
    session: SessionDep,
    settings: SettingsDep,
    _: AdminUser,
    day: Annotated[date, Query(alias="date")],
    dry_run: bool = True,
) -> CareRunOut:
    return await service.run_day(session, day, settings, datetime.now(UTC), dry_run=dry_run)
