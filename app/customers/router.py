from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.dependencies import AgentUser, SupervisorUser
from app.customers import service
from app.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate, Tier
from app.dependencies import SessionDep, SettingsDep
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.get("", response_model=Page[CustomerOut], summary="Search customers")
async def list_customers(
    session: SessionDep,
    settings: SettingsDep,
    _: SupervisorUser,
    page: Annotated[PageParams, Depends(page_params)],
    name: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
    phone: Annotated[
        str | None, Query(max_length=64, description="Any format; matched in E.164.")
    ] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    tier: Tier | None = None,
) -> Page[CustomerOut]:
    rows = await service.list_customers(
        session,
        after_id=cursor_id(page),
        limit=page.limit,
        name=name,
        phone=phone,
        email=email,
        tier=tier,
        region=settings.default_region,
    )
    customers, next_cursor = page_by_id(rows, page.limit, lambda c: c.id)
    return Page(items=await service.customers_out(session, customers), next_cursor=next_cursor)


@router.post(
    "", response_model=CustomerOut, status_code=status.HTTP_201_CREATED, summary="Create a customer"
)
async def create_customer(
    session: SessionDep, settings: SettingsDep, _: AgentUser, data: CustomerCreate
) -> CustomerOut:
    return await service.create_customer(session, data, settings.default_region)


@router.get("/{customer_id}", response_model=CustomerOut, summary="One customer")
async def get_customer(session: SessionDep, _: SupervisorUser, customer_id: int) -> CustomerOut:
    customer = await service.get_customer(session, customer_id)
    return (await service.customers_out(session, [customer]))[0]


@router.patch("/{customer_id}", response_model=CustomerOut, summary="Change a customer")
async def update_customer(
    session: SessionDep,
    settings: SettingsDep,
    _: SupervisorUser,
    customer_id: int,
    data: CustomerUpdate,
) -> CustomerOut:
    return await service.update_customer(session, customer_id, data, settings.default_region)
