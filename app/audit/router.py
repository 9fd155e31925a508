"""``GET /api/v1/audit``: who looked at which customer's data (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from app.audit import service
from app.auth.dependencies import AdminUser
from app.dependencies import SessionDep
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_id: int | None
    action: str
    customer_id: int | None
    contact_id: int | None
    via: str
    allowed: bool
    detail: dict[str, Any]


@router.get("", response_model=Page[AuditEntryOut], summary="Views of customer data, newest first")
async def list_audit(
    session: SessionDep,
    _: AdminUser,
    page: Annotated[PageParams, Depends(page_params)],
    actor_id: int | None = None,
    customer_id: int | None = None,
    allowed: bool | None = None,
    since: Annotated[datetime | None, Query(description="Only entries from this time on.")] = None,
) -> Page[AuditEntryOut]:
    rows = await service.list_entries(
        session,
        before_id=cursor_id(page),
        limit=page.limit,
        actor_id=actor_id,
        customer_id=customer_id,
        allowed=allowed,
        since=since,
    )
    entries, next_cursor = page_by_id(rows, page.limit, lambda e: e.id)
    return Page(items=[AuditEntryOut.model_validate(e) for e in entries], next_cursor=next_cursor)
