from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.schemas import TokenResponse
from app.auth.security import hash_password, issue_token, verify_password
from app.errors import Unauthorized
from app.users.models import Role, User

# Verifying against a real hash when the user is unknown keeps the response time the same,
# so timing does not tell which usernames exist.
_DUMMY_HASH = hash_password("contactd-dummy-password")


async def sign_in(
    session: AsyncSession, username: str, password: str, secret: str, ttl_seconds: int
) -> TokenResponse:
    user = await session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, password)
        raise Unauthorized("Wrong username or password.")
    if not verify_password(user.password_hash, password):
        raise Unauthorized("Wrong username or password.")
    role = Role(user.role)
    token = issue_token(user.id, role, secret, ttl_seconds)
    return TokenResponse(
        access_token=token, expires_in=ttl_seconds, role=role.value, user_id=user.id
    )
