from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from app.auth.dependencies import AdminUser, AgentUser
from app.dependencies import SessionDep
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params
from app.queues import service
from app.queues.schemas import Channel, QueueCreate, QueueOut, QueueUpdate

router = APIRouter(prefix="/api/v1/queues", tags=["queues"])


@router.get("", response_model=Page[QueueOut], summary="List queues")
async def list_queues(
    session: SessionDep,
    _: AgentUser,
    page: Annotated[PageParams, Depends(page_params)],
    channel: Channel | None = None,
) -> Page[QueueOut]:
    rows = await service.list_queues(
        session, after_id=cursor_id(page), limit=page.limit, channel=channel
    )
    queues, next_cursor = page_by_id(rows, page.limit, lambda q: q.id)
    skills = await service.required_skills_of(session, [q.id for q in queues])
    return Page(
        items=[service.queue_out(q, skills.get(q.id, [])) for q in queues], next_cursor=next_cursor
    )


@router.post(
    "", response_model=QueueOut, status_code=status.HTTP_201_CREATED, summary="Create a queue"
)
async def create_queue(session: SessionDep, admin: AdminUser, data: QueueCreate) -> QueueOut:
    return await service.create_queue(session, data, admin.id)


@router.get("/{queue_id}", response_model=QueueOut, summary="One queue")
async def get_queue(session: SessionDep, _: AgentUser, queue_id: int) -> QueueOut:
    queue = await service.get_queue(session, queue_id)
    skills = await service.required_skills_of(session, [queue_id])
    return service.queue_out(queue, skills.get(queue_id, []))


@router.patch("/{queue_id}", response_model=QueueOut, summary="Change a queue")
async def update_queue(
    session: SessionDep, admin: AdminUser, queue_id: int, data: QueueUpdate
) -> QueueOut:
    return await service.update_queue(session, queue_id, data, admin.id)
