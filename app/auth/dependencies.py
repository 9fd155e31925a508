"""Who is calling, and may they: every endpoint declares the least role it needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.security import InvalidToken, read_token
from app.dependencies import get_database
from app.errors import Forbidden, Unauthorized
from app.users.models import Role, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def jwt_secret(request: Request) -> str:
    secret: str = request.app.state.jwt_secret
    return secret


async def current_user(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The signed-in user, read in a session of its own that is closed at once: holding a
    connection for the whole request would starve the pool under long-polling commands."""
    if not token:
        raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'.")
    try:
        claims = read_token(token, jwt_secret(request))
    except InvalidToken as exc:
        raise Unauthorized("The access token is invalid or has expired.") from exc
    async with get_database(request).sessionmaker() as session:
        user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The access token's user no longer exists or is disabled.")
    return user


def require_role(least: Role) -> Callable[[User], Awaitable[User]]:
    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if not Role(user.role).at_least(least):
            raise Forbidden(f"This needs the {least.value} role or higher.")
        return user

    return dependency


CurrentUser = Annotated[User, Depends(current_user)]
AgentUser = Annotated[User, Depends(require_role(Role.AGENT))]
SupervisorUser = Annotated[User, Depends(require_role(Role.SUPERVISOR))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
