"""Who is calling, and may they: every endpoint declares the least role it needs; a
refusal is audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.audit.service import View, groundless, refuse
from app.auth.security import InvalidToken, read_token
from app.dependencies import get_database
from app.errors import Unauthorized
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


def _path_id(request: Request, name: str) -> int | None:
    """The request's path parameter ``name`` when it is a row id, before validation."""
    value = request.path_params.get(name)
    if isinstance(value, str) and value.isdigit() and int(value) < 2**63:
        return int(value)
    return None


def role_refusal(request: Request, user: User, least: Role) -> View:
    """The audit entry of a request refused for its role: the route, the role it needs, and
    the customer or contact its path names."""
    route = getattr(request.scope.get("route"), "path", request.url.path)
    return groundless(
        user.id,
        "role",
        customer_id=_path_id(request, "customer_id"),
        contact_id=_path_id(request, "contact_id"),
        detail={"route": route, "method": request.method, "needs": least.value},
    )


def require_role(least: Role) -> Callable[[Request, User], Awaitable[User]]:
    """The dependency that lets ``least`` or a higher role through; any other is a 403,
    audited (``app.audit``) in a transaction of its own."""

    async def dependency(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        if not Role(user.role).at_least(least):
            view = role_refusal(request, user, least)
            message = f"This needs the {least.value} role or higher."
            raise await refuse(get_database(request), view, message)
        return user

    return dependency


CurrentUser = Annotated[User, Depends(current_user)]
AgentUser = Annotated[User, Depends(require_role(Role.AGENT))]
SupervisorUser = Annotated[User, Depends(require_role(Role.SUPERVISOR))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
