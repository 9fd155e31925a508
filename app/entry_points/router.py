"""``/api/v1/entry-points``: list, create, change and remove entry points (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.auth.dependencies import AdminUser
from app.dependencies import SessionDep, SettingsDep
from app.entry_points import service
from app.entry_points.schemas import (
    EntryChannel,
    EntryPointCreate,
    EntryPointOut,
    EntryPointUpdate,
)
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params
from app.queues.schemas import QueueName

router = APIRouter(prefix="/api/v1/entry-points", tags=["entry points"])


@router.get("", response_model=Page[EntryPointOut], summary="List entry points")
async def list_entry_points(
    session: SessionDep,
    _: AdminUser,
    page: Annotated[PageParams, Depends(page_params)],
    channel: EntryChannel | None = None,
    queue: QueueName | None = None,
) -> Page[EntryPointOut]:
    rows = await service.list_entry_points(
        session, after_id=cursor_id(page), limit=page.limit, channel=channel, queue=queue
    )
    items, next_cursor = page_by_id(rows, page.limit, lambda point: point.id)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=EntryPointOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a number, mailbox or chat widget leading into a queue",
)
async def create_entry_point(
    session: SessionDep, settings: SettingsDep, _: AdminUser, data: EntryPointCreate
) -> EntryPointOut:
    return await service.create_entry_point(session, data, settings.default_region)


@router.get("/{entry_point_id}", response_model=EntryPointOut, summary="One entry point")
async def get_entry_point(session: SessionDep, _: AdminUser, entry_point_id: int) -> EntryPointOut:
    return await service.get_entry_point(session, entry_point_id)


@router.patch("/{entry_point_id}", response_model=EntryPointOut, summary="Change an entry point")
async def update_entry_point(
    session: SessionDep,
    settings: SettingsDep,
    _: AdminUser,
    entry_point_id: int,
    data: EntryPointUpdate,
) -> EntryPointOut:
    return await service.update_entry_point(session, entry_point_id, data, settings.default_region)


@router.delete(
    "/{entry_point_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an entry point"
)
async def delete_entry_point(session: SessionDep, _: AdminUser, entry_point_id: int) -> Response:
    await service.delete_entry_point(session, entry_point_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
