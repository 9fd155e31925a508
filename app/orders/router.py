"""A customer's orders over HTTP: stored idempotently by supervisors, admins and
integrations (a service user with one of those roles); read by anyone who may see the
customer's history, audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.auth.dependencies import AgentUser, SupervisorUser
from app.customers.service import get_customer
from app.customers.views import authorize_view
from app.dependencies import SessionDep, get_database
from app.orders import service
from app.orders.schemas import OrderIn, OrderOut
from app.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/customers", tags=["orders"])


@router.post(
    "/{customer_id}/orders",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    summary="Store an order (idempotent by source and order id); the customer is rescored",
    description=(
        "201 when created; 200 with the stored order when it existed (updated if its status,"
        " amount, items, time or currency changed). 409 `order_of_another_customer`, 409"
        " `customer_blocked` (new orders only), 422 `placed_in_future`, `unknown_currency`."
    ),
)
async def post_order(
    session: SessionDep,
    _: SupervisorUser,
    customer_id: int,
    data: OrderIn,
    response: Response,
) -> OrderOut:
    stored = await service.store_order(session, customer_id, data, now=datetime.now(UTC))
    if stored.outcome != "created":
        response.status_code = status.HTTP_200_OK
    return OrderOut.model_validate(stored.order)


@router.get(
    "/{customer_id}/orders",
    response_model=Page[OrderOut],
    summary="The customer's orders, newest first (audited like the history)",
)
async def list_orders(
    request: Request,
    session: SessionDep,
    user: AgentUser,
    customer_id: int,
    page: Annotated[PageParams, Depends(page_params)],
    via_contact: Annotated[
        int | None, Query(description="The contact through which the agent looks.")
    ] = None,
) -> Page[OrderOut]:
    await get_customer(session, customer_id)
    await authorize_view(
        session, get_database(request), user, customer_id, "orders", via_contact=via_contact
    )
    orders, next_cursor = await service.orders_page(session, customer_id, page.cursor, page.limit)
    return Page(items=[OrderOut.model_validate(o) for o in orders], next_cursor=next_cursor)
