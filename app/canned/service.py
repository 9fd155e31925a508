"""Who sees and who manages canned replies.

* An agent lists the replies for every team and for their own team.
* A supervisor with a team manages their team's replies and lists theirs and every team's;
  a supervisor without a team and an admin manage and list all.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.canned.models import CannedReply
from app.canned.schemas import CannedReplyCreate, CannedReplyUpdate
from app.errors import Conflict, Forbidden, NotFound
from app.users.models import Role, User


def _manages_all(user: User) -> bool:
    return Role(user.role) is Role.ADMIN or user.team is None


async def list_replies(
    session: AsyncSession, user: User, language: str | None
) -> list[CannedReply]:
    query = select(CannedReply).order_by(CannedReply.language, CannedReply.shortcut, CannedReply.id)
    if not (Role(user.role).at_least(Role.SUPERVISOR) and _manages_all(user)):
        query = query.where(or_(CannedReply.team.is_(None), CannedReply.team == user.team))
    if language is not None:
        query = query.where(CannedReply.language == language)
    return list(await session.scalars(query))


def _check_team(user: User, team: str | None) -> None:
    if not _manages_all(user) and team != user.team:
        raise Forbidden(
            f"A supervisor of {user.team} manages that team's replies only.",
            code="not_your_team",
        )


async def _stored(session: AsyncSession, reply: CannedReply) -> CannedReply:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise Conflict(
            f"The shortcut '{reply.shortcut}' is taken for this team and language.",
            code="shortcut_taken",
            details={"shortcut": reply.shortcut},
        ) from error
    await session.refresh(reply)  # updated_at is the database's
    return reply


async def create_reply(session: AsyncSession, user: User, data: CannedReplyCreate) -> CannedReply:
    _check_team(user, data.team)
    reply = CannedReply(**data.model_dump(), author_id=user.id)
    session.add(reply)
    return await _stored(session, reply)


async def _managed(session: AsyncSession, user: User, reply_id: int) -> CannedReply:
    reply = await session.get(CannedReply, reply_id)
    if reply is None:
        raise NotFound(f"No canned reply {reply_id}.", details={"reply_id": reply_id})
    _check_team(user, reply.team)
    return reply


async def update_reply(
    session: AsyncSession, user: User, reply_id: int, data: CannedReplyUpdate
) -> CannedReply:
    reply = await _managed(session, user, reply_id)
    for field, value in data.model_dump(exclude_none=True).items():
        setattr(reply, field, value)
    return await _stored(session, reply)


async def delete_reply(session: AsyncSession, user: User, reply_id: int) -> None:
    await session.delete(await _managed(session, user, reply_id))
    await session.flush()
