from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.service import record_agent_change
from app.auth.security import hash_password
from app.errors import Conflict, NotFound
from app.users.models import DEFAULT_CAPACITY, Role, User
from app.users.schemas import UserCreate, UserUpdate


async def create_user(session: AsyncSession, data: UserCreate) -> User:
    if await session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(
            f"A user named '{data.username}' already exists.", details={"username": data.username}
        )
    user = User(
        username=data.username,
        display_name=data.display_name,
        role=data.role.value,
        password_hash=hash_password(data.password),
        email=data.email,
        team=data.team,
        capacity=dict(data.capacity or DEFAULT_CAPACITY),
    )
    session.add(user)
    await session.flush()
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.", details={"user_id": user_id})
    return user


async def list_users(
    session: AsyncSession,
    *,
    after_id: int | None,
    limit: int,
    role: Role | None,
    team: str | None,
    active: bool | None,
) -> list[User]:
    query = select(User).order_by(User.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(User.id > after_id)
    if role is not None:
        query = query.where(User.role == role.value)
    if team is not None:
        query = query.where(User.team == team)
    if active is not None:
        query = query.where(User.is_active == active)
    return list(await session.scalars(query))


async def update_user(
    session: AsyncSession, user_id: int, data: UserUpdate, actor_id: int | None = None
) -> User:
    """Apply the fields set; a change of capacity is logged and handed to the router."""
    user = await get_user(session, user_id)
    capacity_before = {str(k): int(v) for k, v in user.capacity.items()}
    changes = data.model_dump(exclude_unset=True)
    if "password" in changes:
        password = changes.pop("password")
        if password is not None:
            user.password_hash = hash_password(password)
    if "role" in changes and changes["role"] is not None:
        changes["role"] = Role(changes["role"]).value
    for field, value in changes.items():
        if value is not None or field in ("email", "team"):
            setattr(user, field, value)
    await session.flush()
    capacity = {str(k): int(v) for k, v in user.capacity.items()}
    await record_agent_change(session, user.id, "capacity", capacity, capacity_before, actor_id)
    return user
