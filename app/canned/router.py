from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.auth.dependencies import AgentUser, SupervisorUser
from app.canned import service
from app.canned.schemas import CannedReplyCreate, CannedReplyOut, CannedReplyUpdate, Language
from app.dependencies import SessionDep
from app.validation import IdPath

router = APIRouter(prefix="/api/v1/canned-replies", tags=["canned replies"])


@router.get("", response_model=list[CannedReplyOut], summary="The canned replies I may use")
async def list_replies(
    session: SessionDep, user: AgentUser, language: Language | None = None
) -> list[CannedReplyOut]:
    rows = await service.list_replies(session, user, language)
    return [CannedReplyOut.model_validate(row) for row in rows]


@router.post(
    "",
    response_model=CannedReplyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a canned reply (supervisors)",
)
async def create_reply(
    session: SessionDep, user: SupervisorUser, data: CannedReplyCreate
) -> CannedReplyOut:
    return CannedReplyOut.model_validate(await service.create_reply(session, user, data))


@router.patch("/{reply_id}", response_model=CannedReplyOut, summary="Change a canned reply")
async def update_reply(
    session: SessionDep, user: SupervisorUser, reply_id: IdPath, data: CannedReplyUpdate
) -> CannedReplyOut:
    return CannedReplyOut.model_validate(await service.update_reply(session, user, reply_id, data))


@router.delete(
    "/{reply_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a canned reply"
)
async def delete_reply(session: SessionDep, user: SupervisorUser, reply_id: IdPath) -> Response:
    await service.delete_reply(session, user, reply_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
