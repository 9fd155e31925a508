"""Entry points managed as an operator would: ``/api/v1/entry-points`` and the CLI."""

from __future__ import annotations

import asyncio

import httpx
from typer.testing import CliRunner

from app.cli import cli

Headers = dict[str, str]
BASE = "/api/v1/entry-points"


async def _queue(client: httpx.AsyncClient, admin: Headers, name: str, channels: list[str]) -> None:
    response = await client.post(
        "/api/v1/queues",
        json={"name": name, "display_name": name, "channels": channels},
        headers=admin,
    )
    assert response.status_code == 201, response.text


async def _listed(client: httpx.AsyncClient, admin: Headers, query: str = "") -> list[dict]:
    response = await client.get(f"{BASE}{query}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_admin_adds_lists_changes_and_removes_entry_points(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await _queue(client, admin, "support", ["voice", "email", "chat"])
    await _queue(client, admin, "vip", ["voice", "chat"])
    bodies = [
        {"channel": "voice", "address": "400 820 6611", "queue": "support"},
        {"channel": "email", "address": " Support@Example.COM ", "queue": "support"},
        {"channel": "chat", "address": "VIP-widget", "queue": "vip", "language": "en-US"},
    ]
    created = []
    for body in bodies:
        response = await client.post(BASE, json=body, headers=admin)
        assert response.status_code == 201, response.text
        created.append(response.json())
    assert [c["address"] for c in created] == ["+864008206611", "support@example.com", "vip-widget"]
    assert [p["id"] for p in await _listed(client, admin)] == [c["id"] for c in created]
    assert [p["channel"] for p in await _listed(client, admin, "?channel=email")] == ["email"]
    assert [p["queue"] for p in await _listed(client, admin, "?queue=vip")] == ["vip"]

    voice = created[0]["id"]
    changed = await client.patch(
        f"{BASE}/{voice}", json={"queue": "vip", "greeting": "您好，贵宾热线"}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["queue"], changed.json()["greeting"]) == ("vip", "您好，贵宾热线")
    cleared = await client.patch(f"{BASE}/{voice}", json={"greeting": None}, headers=admin)
    assert cleared.json()["greeting"] is None
    assert (await client.get(f"{BASE}/{voice}", headers=admin)).json()["queue"] == "vip"

    assert (await client.delete(f"{BASE}/{voice}", headers=admin)).status_code == 204
    gone = await client.get(f"{BASE}/{voice}", headers=admin)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


async def test_a_widget_added_through_the_api_takes_chats(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await _queue(client, admin, "sales", ["chat"])
    response = await client.post(
        BASE, json={"channel": "chat", "address": "shop", "queue": "sales"}, headers=admin
    )
    assert response.status_code == 201, response.text
    chat = await client.post("/api/v1/chat/sessions", json={"widget": "shop", "name": "王小明"})
    assert chat.status_code == 201, chat.text
    contact = await client.get(f"/api/v1/contacts/{chat.json()['contact_id']}", headers=admin)
    assert contact.json()["queue_id"] is not None


async def test_bad_entry_points_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, admin: Headers
) -> None:
    await _queue(client, admin, "support", ["voice", "email", "chat"])
    await _queue(client, admin, "billing", ["email"])
    first = await client.post(
        BASE,
        json={"channel": "voice", "address": "+86 400 820 6611", "queue": "support"},
        headers=admin,
    )
    assert first.status_code == 201
    refused = [
        ({"channel": "voice", "address": "12345", "queue": "support"}, 422, "invalid_phone"),
        ({"channel": "voice", "address": "+86 400 820 6611 ext. 2", "queue": "support"}, 422,
         "invalid_phone"),
        ({"channel": "email", "address": "support@", "queue": "support"}, 422, "invalid_email"),
        ({"channel": "email", "address": "help@localhost", "queue": "support"}, 422,
         "invalid_email"),
        ({"channel": "email", "address": "客服 <kefu@example.cn>", "queue": "support"}, 422,
         "invalid_email"),
        ({"channel": "chat", "address": "销售 widget", "queue": "support"}, 422,
         "invalid_widget_key"),
        ({"channel": "chat", "address": "shop", "queue": "nowhere"}, 422, "unknown_queue"),
        ({"channel": "voice", "address": "+862162889900", "queue": "billing"}, 422,
         "channel_not_in_queue"),
        ({"channel": "fax", "address": "1", "queue": "support"}, 422, "invalid_input"),
        ({"channel": "voice", "address": "4008206611", "queue": "billing"}, 422,
         "channel_not_in_queue"),
        ({"channel": "voice", "address": "400-820-6611", "queue": "support"}, 409,
         "entry_point_exists"),
    ]  # fmt: skip
    for body, status, code in refused:
        response = await client.post(BASE, json=body, headers=admin)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    point = first.json()["id"]
    bad_change = await client.patch(f"{BASE}/{point}", json={"address": "x"}, headers=admin)
    assert bad_change.json()["error"]["code"] == "invalid_phone"
    listed = await _listed(client, admin)
    assert [(p["address"], p["queue"]) for p in listed] == [("+864008206611", "support")]


async def test_only_admins_manage_entry_points(
    client: httpx.AsyncClient, admin: Headers, supervisor: Headers, agent: Headers
) -> None:
    await _queue(client, admin, "support", ["chat"])
    body = {"channel": "chat", "address": "help", "queue": "support"}
    for headers in (supervisor, agent):
        assert (await client.get(BASE, headers=headers)).status_code == 403
        assert (await client.post(BASE, json=body, headers=headers)).status_code == 403
    assert (await client.get(BASE)).status_code == 401
    assert await _listed(client, admin) == []


def _cli(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["entry-points", *args],
        env={"CONTACTD_DATABASE_URL": database_url, "CONTACTD_LOG_LEVEL": "WARNING"},
    )
    return result.exit_code, result.output


async def test_the_cli_manages_the_same_entry_points(
    clean_db: str, client: httpx.AsyncClient, admin: Headers
) -> None:
    await _queue(client, admin, "support", ["voice", "email", "chat"])
    await _queue(client, admin, "vip", ["voice"])
    run = asyncio.to_thread
    code, output = await run(_cli, clean_db, "add", "voice", "021 6288 9900", "--queue", "support")
    assert code == 0, output
    assert "+862162889900" in output
    code, output = await run(_cli, clean_db, "add", "email", "Kefu@Service.Example.CN", "--queue",
                             "support")  # fmt: skip
    assert code == 0, output
    (voice,) = [p for p in await _listed(client, admin) if p["channel"] == "voice"]

    code, output = await run(_cli, clean_db, "update", str(voice["id"]), "--queue", "vip")
    assert code == 0, output
    assert (await client.get(f"{BASE}/{voice['id']}", headers=admin)).json()["queue"] == "vip"

    code, output = await run(_cli, clean_db, "list")
    assert code == 0, output
    lines = output.splitlines()
    assert len(lines) == 2
    assert "+862162889900" in lines[0]
    assert "vip" in lines[0]
    assert "kefu@service.example.cn" in lines[1]

    code, output = await run(_cli, clean_db, "add", "chat", "bad key", "--queue", "support")
    assert code == 1
    assert "widget key" in output
    code, output = await run(_cli, clean_db, "add", "email", "kefu@service.example.cn",
                             "--queue", "support")  # fmt: skip
    assert code == 1
    assert "already an entry point" in output

    code, output = await run(_cli, clean_db, "remove", str(voice["id"]))
    assert code == 0, output
    assert [p["channel"] for p in await _listed(client, admin)] == ["email"]
    code, output = await run(_cli, clean_db, "remove", str(voice["id"]))
    assert code == 1
    assert "No such entry point" in output
