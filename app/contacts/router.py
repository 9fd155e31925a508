from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.dependencies import SupervisorUser
from app.contacts import service
from app.contacts.schemas import Channel, ContactDetail, ContactEventOut, ContactOut, ContactState
from app.dependencies import SessionDep
from app.pagination import Page, PageParams, page_params

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])


@router.get("", response_model=Page[ContactOut], summary="Contacts, newest first")
async def list_contacts(
    session: SessionDep,
    _: SupervisorUser,
    page: Annotated[PageParams, Depends(page_params)],
    channel: Channel | None = None,
    state: ContactState | None = None,
    queue_id: int | None = None,
    customer_id: int | None = None,
    agent_id: int | None = None,
    disposition: str | None = None,
) -> Page[ContactOut]:
    rows, next_cursor = await service.list_contacts(
        session,
        cursor=page.cursor,
        limit=page.limit,
        channel=channel,
        state=state,
        queue_id=queue_id,
        customer_id=customer_id,
        agent_id=agent_id,
        disposition=disposition,
    )
    return Page(items=[ContactOut.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/{contact_id}", response_model=ContactDetail, summary="One contact with its events")
async def get_contact(session: SessionDep, _: SupervisorUser, contact_id: int) -> ContactDetail:
    contact = await service.get_contact(session, contact_id)
    events = await service.events_of(session, contact_id)
    return ContactDetail.model_validate(
        {
            **ContactOut.model_validate(contact).model_dump(),
            "events": [ContactEventOut.model_validate(e) for e in events],
        }
    )
