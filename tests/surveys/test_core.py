"""The pure CSAT rules: signed links and report figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.surveys.core.figures import figures
from app.surveys.core.token import LINK_LIFETIME, TokenError, link_token, sign, verify

SECRET = b"server-secret"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_fresh_link_names_its_contact() -> None:
    found = verify(link_token(42, NOW, SECRET), SECRET, NOW + timedelta(days=13))
    assert found.contact_id == 42
    assert found.expires_at == NOW + LINK_LIFETIME


def test_a_link_expires_after_fourteen_days() -> None:
    token = link_token(42, NOW, SECRET)
    with pytest.raises(TokenError) as raised:
        verify(token, SECRET, NOW + timedelta(days=14))
    assert raised.value.code == "token_expired"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "42.1.2.3",
        sign(42, NOW + timedelta(days=1), b"other-secret"),
        sign(42, NOW + timedelta(days=1), SECRET).replace("42.", "43.", 1),
        "42.1.签名",
        "４２.1.abc",
    ],
)
def test_forged_or_malformed_links_are_refused(token: str) -> None:
    with pytest.raises(TokenError) as raised:
        verify(token, SECRET, NOW)
    assert raised.value.code == "invalid_token"


def test_a_later_expiry_cannot_be_written_into_a_token() -> None:
    contact, _, signature = sign(42, NOW + timedelta(days=1), SECRET).split(".")
    stretched = f"{contact}.{int((NOW + timedelta(days=99)).timestamp())}.{signature}"
    with pytest.raises(TokenError):
        verify(stretched, SECRET, NOW + timedelta(days=2))


@given(st.integers(min_value=1, max_value=2**62), st.integers(min_value=1, max_value=10**6))
def test_every_signed_link_round_trips(contact_id: int, seconds: int) -> None:
    token = sign(contact_id, NOW + timedelta(seconds=seconds), SECRET)
    assert verify(token, SECRET, NOW).contact_id == contact_id


def test_figures_per_group() -> None:
    rows = figures({"王芳": 4, "li": 2}, [("王芳", 5), ("王芳", 4), ("王芳", 1), ("li", 2)])
    by_group = {r.group: r for r in rows}
    wang = by_group["王芳"]
    assert (wang.offered, wang.responses, wang.average) == (4, 3, 3.33)
    assert (wang.satisfied_pct, wang.response_rate_pct) == (66.7, 75.0)
    li = by_group["li"]
    assert (li.average, li.satisfied_pct, li.response_rate_pct) == (2.0, 0.0, 50.0)


def test_a_group_offered_but_silent_has_no_average() -> None:
    (row,) = figures({"queue:support": 3}, [])
    assert (row.responses, row.average, row.satisfied_pct, row.response_rate_pct) == (
        0,
        None,
        None,
        0.0,
    )


def test_a_score_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="score out of range"):
        figures({}, [("a", 6)])
