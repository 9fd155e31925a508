"""The `contactd` command, run as an operator would."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.customers.history import DISPOSITIONS
from app.routing.replay_core import METRICS
from tests.helpers import invoke_cli as _invoke


async def test_migrate_is_idempotent(clean_db: str) -> None:
    code, output = await asyncio.to_thread(_invoke, clean_db, "migrate")
    assert code == 0, output
    assert "latest migration" in output


async def test_create_user_then_sign_in(clean_db: str, client: httpx.AsyncClient) -> None:
    code, output = await asyncio.to_thread(
        _invoke,
        clean_db,
        "create-user",
        "Zhou.Min",
        "--role",
        "supervisor",
        "--password",
        "s3cret-pass",
    )
    assert code == 0, output
    assert "created supervisor 'zhou.min'" in output
    token = await client.post(
        "/api/v1/auth/token", data={"username": "zhou.min", "password": "s3cret-pass"}
    )
    assert token.status_code == 200
    assert token.json()["role"] == "supervisor"


async def test_create_user_twice_fails_cleanly(clean_db: str) -> None:
    args = ("create-user", "li.na", "--password", "password-1")
    assert (await asyncio.to_thread(_invoke, clean_db, *args))[0] == 0
    code, output = await asyncio.to_thread(_invoke, clean_db, *args)
    assert code == 1
    assert "already exists" in output


async def test_create_user_rejects_bad_name(clean_db: str) -> None:
    code, output = await asyncio.to_thread(
        _invoke, clean_db, "create-user", "bad name!", "--password", "password-1"
    )
    assert code == 2
    assert "error" in output


async def test_demo_loads_a_realistic_center_once(
    clean_db: str, client: httpx.AsyncClient, make_user: object
) -> None:
    code, output = await asyncio.to_thread(_invoke, clean_db, "demo")
    assert code == 0, output
    assert "demo loaded" in output
    token = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "admin-demo"}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    queues = (await client.get("/api/v1/queues", headers=headers)).json()["items"]
    assert {"sales", "support", "billing"} <= {q["name"] for q in queues}
    agents = (await client.get("/api/v1/agents?limit=200", headers=headers)).json()["items"]
    assert len(agents) >= 12
    assert any(s["skill"] == "mandarin" for a in agents for s in a["skills"])
    assert any(s["skill"] == "english" for a in agents for s in a["skills"])
    customers = (await client.get("/api/v1/customers?limit=200", headers=headers)).json()
    assert len(customers["items"]) == 200
    assert any("\u4e00" <= c["name"][0] <= "\u9fff" for c in customers["items"])  # Chinese names
    assert all(p["e164"].startswith("+") for c in customers["items"] for p in c["phones"])
    for channel in ("voice", "email", "chat"):
        page = (
            await client.get(f"/api/v1/contacts?channel={channel}&limit=5", headers=headers)
        ).json()
        assert page["items"], channel
    await _every_disposition_is_one_an_agent_could_give(client, headers)
    config = (await client.get("/api/v1/routing/config", headers=headers)).json()
    assert config["version"] == 1
    assert set(config["document"]["queues"]) >= {"sales", "support", "billing"}

    again_code, again = await asyncio.to_thread(_invoke, clean_db, "demo")
    assert again_code == 0
    assert "already has data" in again


async def _every_disposition_is_one_an_agent_could_give(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        query = "state=ended&limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(f"/api/v1/contacts?{query}", headers=headers)).json()
        seen |= {c["disposition"] for c in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen <= set(DISPOSITIONS)
    assert {"follow_up_needed", "complaint", "callback_promised"} <= seen  # the pop's open items
    follow_ups = await client.get(
        "/api/v1/contacts?disposition=follow_up_needed&limit=5", headers=headers
    )
    assert [c["disposition"] for c in follow_ups.json()["items"]] == ["follow_up_needed"] * 5
    unknown = await client.get("/api/v1/contacts?disposition=follow_up", headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_disposition"


async def test_simulate_replays_a_recorded_period_under_another_config(
    clean_db: str, tmp_path: Path
) -> None:
    code, output = await asyncio.to_thread(_invoke, clean_db, "demo")
    assert code == 0, output
    now = datetime.now(UTC)
    period = [
        (now - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%S"),
        now.strftime("%Y-%m-%dT%H:%M:%S"),
    ]
    code, output = await asyncio.to_thread(
        _invoke, clean_db, "simulate", "--replay", *period, "--json"
    )
    assert code == 0, output
    report = json.loads(output)
    assert report["contacts"] > 500
    assert report["config"] == "version 1"
    assert report["seeds"] == [1, 2, 3, 4, 5]
    # the demo's month was produced by the engine: replaying it under the same
    # configuration, with the agents as recorded, gives it back within the goal
    assert report["faithful"], [q["fidelity"] for q in report["queues"]]
    queues = {q["queue"]: q for q in report["queues"]}
    assert {"sales", "support", "billing", "vip"} <= set(queues)
    for queue in queues.values():
        recorded, replayed = queue["recorded"], queue["replayed"]
        assert set(recorded) == {*METRICS}
        assert set(replayed) == {*METRICS, "spread"}
        assert replayed["offered"] == recorded["offered"]
        assert abs(replayed["service_level"] - recorded["service_level"]) <= 0.05
        assert abs(replayed["abandoned"] - recorded["abandoned"]) <= 0.03 * recorded["offered"]
        assert "candidate" not in queue
    grades = report["grades"]
    assert "untagged" in grades
    total = sum(q["recorded"]["offered"] for q in report["queues"])
    assert sum(g["recorded"]["offered"] for g in grades.values()) >= total
    for grade in grades.values():
        assert set(grade["replayed"]) == {*METRICS, "spread"}
        assert grade["replayed"]["offered"] == grade["recorded"]["offered"]
    voice = {p["queue"]: p for p in report["patience"] if p["channel"] == "voice"}
    assert voice["support"]["abandoned"] > 0
    assert voice["support"]["censored"] > 0

    fewer = ["--agents-delta", "support=-4", "--agents-delta", "sales=+1"]
    code, output = await asyncio.to_thread(
        _invoke, clean_db, "simulate", "--replay", *period, *fewer, "--json"
    )
    assert code == 0, output
    tried = {q["queue"]: q for q in json.loads(output)["queues"]}
    support = tried["support"]
    assert set(support["candidate"]) == {*METRICS, "spread"}
    # four fewer support agents: the same contacts wait longer than in the faithful replay
    assert support["difference"]["asa_seconds"] > 0
    assert support["candidate"]["asa_seconds"] == pytest.approx(
        support["replayed"]["asa_seconds"] + support["difference"]["asa_seconds"]
    )
    staffing = support["erlang_c"]  # Erlang C for the same hours, beside the what-if
    assert staffing["intervals"] > 0
    assert staffing["erlang_c_peak"] >= 1
    assert staffing["ready_mean_with_delta"] == pytest.approx(staffing["ready_mean"] - 4)
    assert staffing["short_intervals_with_delta"] >= staffing["short_intervals"]
    assert "erlang_c" not in tried["billing"]
    tried_grades = json.loads(output)["grades"]
    assert all("difference" in grade for grade in tried_grades.values())

    document = tmp_path / "candidate.yaml"
    document.write_text("queues:\n  sales:\n    strategy: round_robin\n", encoding="utf-8")
    code, output = await asyncio.to_thread(
        _invoke, clean_db, "simulate", "--replay", *period, "--routing-config", str(document)
    )
    assert code == 0, output
    assert output.index("queue billing: faithful") < output.index("what-if - replayed")
    assert "waited longer than the recorded worst" in output
    assert output.index("queue vip:") < output.index("grade untagged:")

    code, output = await asyncio.to_thread(
        _invoke, clean_db, "simulate", "--replay", *period, "--agents-delta", "support"
    )
    assert code == 2
    assert "QUEUE=+N" in output

    code, output = await asyncio.to_thread(
        _invoke, clean_db, "simulate", "--replay", period[1], period[0]
    )
    assert code == 2


def test_serve_with_several_workers_needs_the_bus(clean_db: str) -> None:
    from typer.testing import CliRunner

    from app.cli import cli

    env = {"CONTACTD_DATABASE_URL": clean_db, "CONTACTD_BUS_URL": None}
    result = CliRunner().invoke(cli, ["serve", "--workers", "2"], env=env)

    assert result.exit_code == 2
    assert "--workers needs CONTACTD_BUS_URL" in result.output
