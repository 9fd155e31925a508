"""Failed sign-ins lock the user, or the address, out for a while; every lockout is
audited; the counts are in PostgreSQL, so every instance sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from app.auth import throttle
from app.main import create_app
from tests.conftest import UserFactory, make_settings

POLICY = throttle.Policy(limit=3, window_seconds=60, lockout_seconds=300)


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(sign_in_max_failures=3, sign_in_max_failures_per_address=5)
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


async def _sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


async def test_a_user_is_locked_out_after_failed_sign_ins_and_it_is_audited(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    admin = await make_user("root.admin", "admin")
    for _ in range(3):
        assert (await _sign_in(client, "root.admin", "wrong")).status_code == 401
    locked = await _sign_in(client, "root.admin", "password-123")  # the right one
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"]["code"] == "sign_in_locked"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    audit = await client.get("/api/v1/audit?allowed=false", headers=admin)
    assert audit.status_code == 200, audit.text
    entries = [e for e in audit.json()["items"] if e["action"] == "sign_in_locked"]
    assert [e["detail"]["kind"] for e in entries] == ["user"]


async def test_a_success_clears_the_count(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("ann")
    for _ in range(2):
        assert (await _sign_in(client, "ann", "wrong")).status_code == 401
    assert (await _sign_in(client, "ann", "password-123")).status_code == 200
    for _ in range(2):
        assert (await _sign_in(client, "ann", "wrong")).status_code == 401
    assert (await _sign_in(client, "ann", "password-123")).status_code == 200


async def test_an_address_guessing_many_usernames_is_locked_out(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("ann")  # signs in once, successfully
    for n in range(5):
        assert (await _sign_in(client, f"guess{n}", "wrong")).status_code == 401
    locked = await _sign_in(client, "ann", "password-123")
    assert (locked.status_code, locked.json()["error"]["code"]) == (429, "sign_in_locked")


@given(st.lists(st.floats(min_value=0, max_value=1000), min_size=1, max_size=20))
def test_a_key_is_locked_exactly_when_limit_failures_fall_in_one_window(
    gaps: list[float],
) -> None:
    state: throttle.Attempts | None = None
    now = 0.0
    window: list[float] = []
    for gap in gaps:
        now += gap
        if throttle.seconds_locked(state, now) is not None:
            continue  # refused without counting
        if window and now - window[0] >= POLICY.window_seconds:
            window = []
        window.append(now)
        state = throttle.after_failure(state, POLICY, now)
        assert state.failures == len(window)
        assert (state.locked_until is not None) == (len(window) >= POLICY.limit)
        if state.locked_until is not None:
            assert throttle.seconds_locked(state, now) == pytest.approx(POLICY.lockout_seconds)
