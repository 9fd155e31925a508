"""Canned replies over HTTP: supervisors manage their team's, agents see theirs and
everyone's, one shortcut per team and language, clear refusals that store nothing."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import UserFactory

REPLIES = "/api/v1/canned-replies"


async def _user(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory,
    name: str, role: str, team: str | None,
) -> dict[str, str]:  # fmt: skip
    headers = await make_user(name, role)
    users = (await client.get("/api/v1/users?limit=200", headers=admin)).json()["items"]
    user_id = next(u["id"] for u in users if u["username"] == name)
    patched = await client.patch(f"/api/v1/users/{user_id}", json={"team": team}, headers=admin)
    assert patched.status_code == 200, patched.text
    return headers


def _reply(shortcut: str, language: str, team: str | None, body: str) -> dict[str, Any]:
    return {"shortcut": shortcut, "language": language, "title": shortcut, "body": body,
            "team": team}  # fmt: skip


async def test_each_agent_sees_their_team_and_everyone(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    lead = await _user(client, admin, make_user, "lead", "supervisor", "support-cn")
    ann = await _user(client, admin, make_user, "ann", "agent", "support-cn")
    bob = await _user(client, admin, make_user, "bob", "agent", "sales-cn")
    for body, headers in (
        (_reply("hello", "zh-CN", None, "您好，很高兴为您服务。"), admin),
        (_reply("hello", "en", None, "Hello, happy to help."), admin),
        (_reply("tracking", "zh-CN", "support-cn", "您的物流单号是："), lead),
        (_reply("offer", "zh-CN", "sales-cn", "本周全场八折。"), admin),
    ):
        made = await client.post(REPLIES, json=body, headers=headers)
        assert made.status_code == 201, made.text

    ann_sees = (await client.get(REPLIES, headers=ann)).json()
    bob_sees = (await client.get(f"{REPLIES}?language=zh-CN", headers=bob)).json()
    lead_sees = (await client.get(REPLIES, headers=lead)).json()
    admin_sees = (await client.get(REPLIES, headers=admin)).json()

    assert sorted((r["language"], r["shortcut"]) for r in ann_sees) == [
        ("en", "hello"), ("zh-CN", "hello"), ("zh-CN", "tracking"),
    ]  # fmt: skip
    assert [r["shortcut"] for r in bob_sees] == ["hello", "offer"]
    assert {r["shortcut"] for r in lead_sees} == {"hello", "tracking"}
    assert len(admin_sees) == 4


async def test_a_supervisor_manages_their_own_team_only(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    lead = await _user(client, admin, make_user, "lead", "supervisor", "support-cn")
    agent = await _user(client, admin, make_user, "ann", "agent", "support-cn")
    theirs = await client.post(
        REPLIES, json=_reply("offer", "zh-CN", "sales-cn", "八折"), headers=admin
    )
    everyone = await client.post(REPLIES, json=_reply("hi", "en", None, "Hi"), headers=admin)

    refused = [
        await client.post(REPLIES, json=_reply("x", "en", "sales-cn", "x"), headers=lead),
        await client.post(REPLIES, json=_reply("x", "en", None, "x"), headers=lead),
        await client.patch(f"{REPLIES}/{theirs.json()['id']}", json={"body": "九折"}, headers=lead),
        await client.delete(f"{REPLIES}/{everyone.json()['id']}", headers=lead),
    ]
    by_agent = await client.post(REPLIES, json=_reply("x", "en", "support-cn", "x"), headers=agent)

    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert {r.json()["error"]["code"] for r in refused} == {"not_your_team"}
    assert by_agent.status_code == 403
    assert len((await client.get(REPLIES, headers=admin)).json()) == 2
    assert (await client.get(REPLIES, headers=admin)).json()[1]["body"] == "八折"


async def test_shortcuts_are_unique_per_team_and_language(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await client.post(REPLIES, json=_reply("hi", "en", None, "Hi"), headers=admin)
    again = await client.post(REPLIES, json=_reply("hi", "en", None, "Hey"), headers=admin)
    other_language = await client.post(
        REPLIES, json=_reply("hi", "zh-CN", None, "你好"), headers=admin
    )
    other_team = await client.post(
        REPLIES, json=_reply("hi", "en", "sales-cn", "Hi there"), headers=admin
    )
    renamed = await client.patch(
        f"{REPLIES}/{other_team.json()['id']}", json={"shortcut": "hey"}, headers=admin
    )
    clash = await client.patch(
        f"{REPLIES}/{other_language.json()['id']}", json={"shortcut": "hi2"}, headers=admin
    )

    assert first.status_code == other_language.status_code == other_team.status_code == 201
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "shortcut_taken"
    assert renamed.status_code == 200
    assert renamed.json()["shortcut"] == "hey"
    assert clash.status_code == 200
    assert len((await client.get(REPLIES, headers=admin)).json()) == 3


async def test_bad_replies_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    bad = [
        _reply("Has Space", "en", None, "x"),
        _reply("ok", "fr", None, "x"),
        _reply("ok", "en", None, ""),
        {**_reply("ok", "en", None, "x"), "extra": 1},
    ]
    answers = [await client.post(REPLIES, json=body, headers=admin) for body in bad]
    missing = await client.patch(f"{REPLIES}/999999", json={"body": "x"}, headers=admin)
    huge = await client.delete(f"{REPLIES}/{2**70}", headers=admin)

    assert [a.status_code for a in answers] == [422, 422, 422, 422]
    assert missing.status_code == 404
    assert huge.status_code == 422
    assert (await client.get(REPLIES, headers=admin)).json() == []
