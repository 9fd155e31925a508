from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field

from app.audit.service import View, record_view
from app.auth.dependencies import AgentUser, SupervisorUser
from app.contacts.schemas import ContactOut
from app.customers import service
from app.customers.history import history_page
from app.customers.history_schemas import HistoryItem
from app.customers.identity_ops import (
    create_from_contact,
    link_contact,
    lookup_ground,
    merge_customers,
)
from app.customers.lookup import MAX_RESULTS, LookupResult, lookup, one_key
from app.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from app.customers.value.schemas import Grade, ValueClass
from app.customers.views import authorize_view
from app.dependencies import SessionDep, SettingsDep, get_database
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.get("", response_model=Page[CustomerOut], summary="Search customers")
async def list_customers(
    session: SessionDep,
    settings: SettingsDep,
    user: SupervisorUser,
    page: Annotated[PageParams, Depends(page_params)],
    name: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
    phone: Annotated[
        str | None, Query(max_length=64, description="Any format; matched in E.164.")
    ] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    grade: Grade | None = None,
    vip: bool | None = None,
    value_class: ValueClass | None = None,
    segment: Annotated[
        str | None, Query(max_length=64, description="Members of this segment.")
    ] = None,
) -> Page[CustomerOut]:
    rows = await service.list_customers(
        session,
        after_id=cursor_id(page),
        limit=page.limit,
        name=name,
        phone=phone,
        email=email,
        region=settings.default_region,
        grade=grade,
        vip=vip,
        value_class=value_class,
        segment=segment,
    )
    customers, next_cursor = page_by_id(rows, page.limit, lambda c: c.id)
    filters = {
        "name": name,
        "phone": phone,
        "email": email,
        "grade": grade,
        "vip": vip,
        "value_class": value_class,
        "segment": segment,
    }
    used = [k for k, v in filters.items() if v is not None and v != ""]
    record_view(
        session,
        View(
            actor_id=user.id,
            action="search",
            customer_id=None,
            via="search",
            detail={"filters": used, "results": [c.id for c in customers]},
        ),
    )
    return Page(items=await service.customers_out(session, customers), next_cursor=next_cursor)


@router.get(
    "/lookup",
    response_model=list[LookupResult],
    summary="Find the customer of the contact you hold by one exact key (audited)",
    description=(
        "For agents: `contact_id` is a contact offered or assigned to you or in your wrap-up"
        " (supervisors: one of their team's; admins may omit it). Exactly one of `phone`,"
        " `email`, `order_id`, `name` (the whole name), matched exactly; at most"
        f" {MAX_RESULTS} customers, with what the console's suggestions show. A customer"
        " found may then be linked to that contact (`POST /api/v1/customers/links/{id}`)."
    ),
)
async def lookup_customer(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    contact_id: Annotated[int | None, Query(description="The contact you hold.")] = None,
    phone: Annotated[str | None, Query(max_length=64)] = None,
    email: Annotated[str | None, Query(max_length=320)] = None,
    order_id: Annotated[str | None, Query(max_length=128)] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> list[LookupResult]:
    key, value = one_key(phone=phone, email=email, order_id=order_id, name=name)
    contact = await lookup_ground(session, get_database(request), user, contact_id)
    return await lookup(session, user, contact, key, value, settings.default_region)


@router.post(
    "", response_model=CustomerOut, status_code=status.HTTP_201_CREATED, summary="Create a customer"
)
async def create_customer(
    session: SessionDep, settings: SettingsDep, _: AgentUser, data: CustomerCreate
) -> CustomerOut:
    return await service.create_customer(session, data, settings.default_region)


@router.get("/{customer_id}", response_model=CustomerOut, summary="One customer")
async def get_customer(session: SessionDep, user: SupervisorUser, customer_id: int) -> CustomerOut:
    customer = await service.get_customer(session, customer_id)
    record_view(
        session, View(actor_id=user.id, action="profile", customer_id=customer_id, via="search")
    )
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


# ---------------------------------------------------------------- customer 360


@router.get(
    "/{customer_id}/history",
    response_model=Page[HistoryItem],
    summary="Every contact of the customer across channels, newest first (audited)",
)
async def customer_history(
    request: Request,
    session: SessionDep,
    user: AgentUser,
    customer_id: int,
    page: Annotated[PageParams, Depends(page_params)],
    via_contact: Annotated[
        int | None, Query(description="The contact through which the agent looks.")
    ] = None,
) -> Page[HistoryItem]:
    await service.get_customer(session, customer_id)
    await authorize_view(
        session, get_database(request), user, customer_id, "history", via_contact=via_contact
    )
    items, next_cursor = await history_page(session, customer_id, page.cursor, page.limit)
    return Page(items=items, next_cursor=next_cursor)


class LinkRequest(BaseModel):
    customer_id: int


class CreateFromContact(BaseModel):
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None


class MergeRequest(BaseModel):
    from_customer_id: int = Field(description="The duplicate; it is deleted after the merge.")


@router.post(
    "/links/{contact_id}",
    response_model=ContactOut,
    summary="Link the contact you hold to an existing customer",
    description=(
        "Agents: a contact offered or assigned to them (or in their wrap-up), and a customer"
        " suggested for it (same phone or email, similar phone) or one they may already see"
        " (a contact of theirs with that customer). Supervisors: contacts of their team, any"
        " customer. Admins: anything. A refusal is a 403, audited."
    ),
)
async def link(
    request: Request, session: SessionDep, user: AgentUser, contact_id: int, data: LinkRequest
) -> ContactOut:
    contact = await link_contact(session, get_database(request), contact_id, data.customer_id, user)
    return ContactOut.model_validate(contact)


@router.post(
    "/from-contact/{contact_id}",
    response_model=CustomerOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a customer from the contact you hold (its phone or email) and link it",
)
async def create_for_contact(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    contact_id: int,
    data: CreateFromContact,
) -> CustomerOut:
    return await create_from_contact(
        session, get_database(request), contact_id, user, data.name, settings.default_region
    )


@router.post(
    "/{customer_id}/merge",
    response_model=CustomerOut,
    summary="Merge a duplicate into this customer: its history follows",
)
async def merge(
    session: SessionDep, user: SupervisorUser, customer_id: int, data: MergeRequest
) -> CustomerOut:
    merged = await merge_customers(session, customer_id, data.from_customer_id, user.id)
    return (await service.customers_out(session, [merged]))[0]
