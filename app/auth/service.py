from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEntry
from app.auth import throttle
from app.auth.models import SignInThrottle
from app.auth.schemas import TokenResponse
from app.auth.security import hash_password, issue_token, verify_password
from app.config import Settings
from app.database import Database
from app.errors import TooManyRequests, Unauthorized
from app.users.models import Role, User

# Verifying against a real hash when the user is unknown keeps the response time the same,
# so timing does not tell which usernames exist.
_DUMMY_HASH = hash_password("contactd-dummy-password")


@dataclass(frozen=True, slots=True)
class SignInLimits:
    per_user: throttle.Policy
    per_address: throttle.Policy

    @classmethod
    def from_settings(cls, settings: Settings) -> SignInLimits:
        window, lockout = settings.sign_in_window_seconds, settings.sign_in_lockout_seconds
        return cls(
            per_user=throttle.Policy(settings.sign_in_max_failures, window, lockout),
            per_address=throttle.Policy(settings.sign_in_max_failures_per_address, window, lockout),
        )

    def of(self, kind: str) -> throttle.Policy:
        return self.per_user if kind == "user" else self.per_address


@dataclass(frozen=True, slots=True)
class Attempt:
    username: str
    password: str
    address: str
    now: datetime


async def sign_in(
    session: AsyncSession,
    db: Database,
    attempt: Attempt,
    limits: SignInLimits,
    secret: str,
    ttl_seconds: int,
) -> TokenResponse:
    """A token for the right password; 401 for a wrong one (counted); 429 ``sign_in_locked``
    while the user or the address is locked out, whatever the password."""
    username = attempt.username.strip().lower()
    keys = [("user", username[:256]), ("address", attempt.address[:256])]
    await _refuse_if_locked(session, keys, attempt.now)
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        verify_password(_DUMMY_HASH, attempt.password)
        await _count_failure(db, keys, limits, attempt.now, None)
        raise Unauthorized("Wrong username or password.")
    if not verify_password(user.password_hash, attempt.password):
        await _count_failure(db, keys, limits, attempt.now, user.id)
        raise Unauthorized("Wrong username or password.")
    await session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.kind == "user", SignInThrottle.key == keys[0][1]
        )
    )
    role = Role(user.role)
    token = issue_token(user.id, role, secret, ttl_seconds)
    return TokenResponse(
        access_token=token, expires_in=ttl_seconds, role=role.value, user_id=user.id
    )


def _attempts(row: SignInThrottle | None) -> throttle.Attempts | None:
    if row is None:
        return None
    locked = None if row.locked_until is None else row.locked_until.timestamp()
    return throttle.Attempts(row.failures, row.window_started_at.timestamp(), locked)


async def _refuse_if_locked(
    session: AsyncSession, keys: list[tuple[str, str]], now: datetime
) -> None:
    for kind, key in keys:
        row = await session.get(SignInThrottle, (kind, key))
        left = throttle.seconds_locked(_attempts(row), now.timestamp())
        if left is not None:
            raise TooManyRequests(
                f"Too many failed sign-ins; try again in {int(left) + 1} s.",
                retry_after=left,
                code="sign_in_locked",
            )


async def _count_failure(
    db: Database,
    keys: list[tuple[str, str]],
    limits: SignInLimits,
    now: datetime,
    user_id: int | None,
) -> None:
    """In a unit of work of its own: the request's rolls back with its 401."""
    async with db.unit_of_work() as session:
        for kind, key in keys:
            await session.execute(
                insert(SignInThrottle)
                .values(kind=kind, key=key, failures=0, window_started_at=now)
                .on_conflict_do_nothing()
            )
            row = await session.get(SignInThrottle, (kind, key), with_for_update=True)
            assert row is not None
            state = throttle.after_failure(_attempts(row), limits.of(kind), now.timestamp())
            newly_locked = state.locked_until is not None and row.locked_until is None
            row.failures = state.failures
            row.window_started_at = datetime.fromtimestamp(state.window_started, UTC)
            row.locked_until = (
                None
                if state.locked_until is None
                else datetime.fromtimestamp(state.locked_until, UTC)
            )
            if newly_locked:
                session.add(_lockout_entry(kind, key, user_id, state.failures))


def _lockout_entry(kind: str, key: str, user_id: int | None, failures: int) -> AuditEntry:
    return AuditEntry(
        actor_id=user_id,
        action="sign_in_locked",
        customer_id=None,
        contact_id=None,
        via="none",
        allowed=False,
        detail={"kind": kind, "key": key, "failures": failures},
    )
