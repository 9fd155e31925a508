"""``/api/v1/customers/{id}/export`` and ``/erase``: the data-subject rights (admins only,
a reason required, each use audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from app.audit.service import View, record_view
from app.auth.dependencies import AdminUser
from app.customers import service as customers
from app.database import Database
from app.dependencies import SessionDep, get_database
from app.privacy.erasure import erase_customer
from app.privacy.export import export_document
from app.privacy.schemas import ErasureOut, ErasureRequest, Reason

router = APIRouter(prefix="/api/v1/customers", tags=["privacy"])


@router.get(
    "/{customer_id}/export",
    summary="Everything stored about a customer, as one JSON document",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}}},
)
async def export_customer(
    session: SessionDep,
    db: Annotated[Database, Depends(get_database)],
    user: AdminUser,
    customer_id: int,
    reason: Annotated[Reason, Query(description="Why the export is made; audited.")],
) -> StreamingResponse:
    await customers.get_customer(session, customer_id)
    record_view(
        session,
        View(
            actor_id=user.id,
            action="export",
            customer_id=customer_id,
            via="admin",
            detail={"reason": reason},
        ),
    )
    chunks = export_document(db, customer_id, reason, datetime.now(UTC))
    filename = f"customer-{customer_id}-export.json"
    return StreamingResponse(
        chunks,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/{customer_id}/erase",
    response_model=ErasureOut,
    summary="Erase a customer's personal data, keeping a tombstone",
)
async def erase(
    session: SessionDep, user: AdminUser, customer_id: int, data: ErasureRequest
) -> ErasureOut:
    done = await erase_customer(session, customer_id, datetime.now(UTC))
    record_view(
        session,
        View(
            actor_id=user.id,
            action="erase",
            customer_id=customer_id,
            via="admin",
            detail={"reason": data.reason, "erased": done.erased},
        ),
    )
    return ErasureOut(
        customer_id=done.customer_id,
        erased_at=done.erased_at,
        erased=done.erased,
        retained_events=done.retained_events,
    )
