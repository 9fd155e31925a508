"""``POST /api/v1/routing/config/replay``: the replay the admin pages show before publishing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.routing_service.conftest import Center, eventually
from tests.routing_service.test_replay_round_trip import _finish, _handle, _replay

REPLAY = "/api/v1/routing/config/replay"


async def _recorded_period(center: Center) -> tuple[datetime, datetime]:
    """Ann takes two calls one after the other; the second caller waits for her."""
    start = datetime.now(UTC) - timedelta(seconds=1)
    await center.queue("support", [("support", 1)])
    await center.agent("ann", {"support": 3})
    await center.available("ann")
    first = await center.contact("support")
    await _handle(center, "ann", first)
    second = await center.contact("support")
    await asyncio.sleep(0.4)
    await _finish(center, "ann", first)
    await _handle(center, "ann", second)
    await _finish(center, "ann", second)

    async def settled() -> bool:
        return (await center.get(second))["wrap_up_ended_at"] is not None

    await eventually(settled)
    return start, datetime.now(UTC) + timedelta(seconds=1)


async def _replay_api(center: Center, **body: Any) -> httpx.Response:
    return await center.client.post(REPLAY, json=body, headers=center.admin)


def _period(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


async def test_the_api_gives_the_report_the_cli_prints(clean_db: str, center: Center) -> None:
    start, end = await _recorded_period(center)

    answer = await _replay_api(center, **_period(start, end), seeds=3)

    assert answer.status_code == 200, answer.text
    report = answer.json()
    printed = await asyncio.to_thread(_replay, clean_db, start, end)
    assert report["faithful"] is True
    assert report["contacts"] == printed["contacts"] == 2
    assert report["queues"] == printed["queues"]
    assert "candidate" not in report


async def test_a_candidate_is_shown_as_a_difference_from_the_faithful_replay(
    clean_db: str, center: Center
) -> None:
    start, end = await _recorded_period(center)
    document = {"queues": {"support": {"skills": [{"skill": "support", "level": 1}]}}}

    answer = await _replay_api(
        center, **_period(start, end), document=document, agents_delta={"support": 1}, seeds=2
    )

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["candidate"]["routing_config"] == "candidate"
    assert report["candidate"]["agents_delta"] == {"support": 1}
    (support,) = report["queues"]
    # a second agent: the caller who waited for Ann is answered at once
    assert support["candidate"]["asa_seconds"] < support["replayed"]["asa_seconds"]
    assert support["difference"]["asa_seconds"] == (
        support["candidate"]["asa_seconds"] - support["replayed"]["asa_seconds"]
    )
    assert support["erlang_c"] is not None


async def test_bad_replays_are_refused_with_a_clear_error(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    now = datetime.now(UTC)
    cases = [
        ({"start": now.isoformat(), "end": (now - timedelta(hours=1)).isoformat()},
         "invalid_period"),
        ({"start": (now - timedelta(days=40)).isoformat()}, "period_too_long"),
        ({"end": (now + timedelta(days=1)).isoformat()}, "invalid_period"),
        ({"agents_delta": {"nowhere": 2}}, "unknown_reference"),
        ({"document": {"queues": {"nowhere": {}}}}, "unknown_reference"),
        ({"agents_delta": {"support": 2}}, "invalid_agents_delta"),  # nobody recorded serves it
        ({"seeds": 0}, "invalid_input"),
    ]  # fmt: skip
    for body, code in cases:
        answer = await _replay_api(center, **body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["code"] == code, (body, answer.text)


async def test_agents_may_not_replay(center: Center) -> None:
    await center.agent("ann", {"support": 3})

    answer = await center.client.post(REPLAY, json={}, headers=center.headers("ann"))

    assert answer.status_code == 403, answer.text


async def test_publishing_over_a_newer_version_is_refused(center: Center) -> None:
    await center.queue("support", [("support", 1)])
    current = (await center.client.get("/api/v1/routing/config", headers=center.admin)).json()
    document = current["document"]
    first = await center.client.put(
        "/api/v1/routing/config",
        json={"document": document, "based_on": current["version"], "comment": "one"},
        headers=center.admin,
    )
    assert first.status_code == 201, first.text

    stale = await center.client.put(
        "/api/v1/routing/config",
        json={"document": document, "based_on": current["version"], "comment": "two"},
        headers=center.admin,
    )

    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["code"] == "version_conflict"
    versions = (await center.client.get("/api/v1/routing/config/versions", headers=center.admin))
    assert [v["comment"] for v in versions.json()][:1] == ["one"]
