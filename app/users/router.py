from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.auth.dependencies import AdminUser, SupervisorUser
from app.dependencies import SessionDep
from app.pagination import Page, PageParams, cursor_id, page_by_id, page_params
from app.users import service
from app.users.models import Role
from app.users.schemas import UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=Page[UserOut], summary="List users (agents, supervisors, admins)")
async def list_users(
    session: SessionDep,
    _: SupervisorUser,
    page: Annotated[PageParams, Depends(page_params)],
    role: Role | None = None,
    team: str | None = None,
    active: Annotated[
        bool | None, Query(description="Only active (true) or disabled (false).")
    ] = None,
) -> Page[UserOut]:
    rows = await service.list_users(
        session, after_id=cursor_id(page), limit=page.limit, role=role, team=team, active=active
    )
    items, next_cursor = page_by_id(rows, page.limit, lambda u: u.id)
    return Page(items=[UserOut.model_validate(u) for u in items], next_cursor=next_cursor)


@router.post(
    "", response_model=UserOut, status_code=status.HTTP_201_CREATED, summary="Create a user"
)
async def create_user(session: SessionDep, _: AdminUser, data: UserCreate) -> UserOut:
    return UserOut.model_validate(await service.create_user(session, data))


@router.get("/{user_id}", response_model=UserOut, summary="One user")
async def get_user(session: SessionDep, _: SupervisorUser, user_id: int) -> UserOut:
    return UserOut.model_validate(await service.get_user(session, user_id))


@router.patch("/{user_id}", response_model=UserOut, summary="Change a user (or disable one)")
async def update_user(
    session: SessionDep, admin: AdminUser, user_id: int, data: UserUpdate
) -> UserOut:
    return UserOut.model_validate(
        await service.update_user(session, user_id, data, actor_id=admin.id)
    )
