"""The foundation's public surface: auth, roles, errors and the admin objects."""

from __future__ import annotations

import httpx

from tests.conftest import UserFactory


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_token_then_queues_listed(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await client.post(
        "/api/v1/queues",
        json={"name": "sales", "display_name": "Sales 销售", "channels": ["voice", "chat"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    listed = await client.get("/api/v1/queues", headers=admin)
    assert listed.status_code == 200
    assert [q["name"] for q in listed.json()["items"]] == ["sales"]
    assert listed.json()["items"][0]["display_name"] == "Sales 销售"


async def test_no_token_is_401_with_error_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/queues")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert set(response.json()["error"]) == {"code", "message", "details"}


async def test_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/queues", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


async def test_wrong_password_is_401(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "root.admin", "password": "wrong-one"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_agent_on_admin_endpoint_is_403(
    client: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/queues",
        json={"name": "x", "display_name": "X", "channels": ["voice"]},
        headers=agent,
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert (await client.get("/api/v1/queues", headers=agent)).status_code == 200


async def test_malformed_body_is_422_and_nothing_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/queues", json={"name": "Bad Name!", "channels": []}, headers=admin
    )
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_input"
    assert {tuple(d["loc"][-1:]) for d in body["details"]} >= {
        ("name",),
        ("channels",),
        ("display_name",),
    }
    broken_json = await client.post(
        "/api/v1/queues",
        content=b"{not json",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert broken_json.status_code == 422
    assert (await client.get("/api/v1/queues", headers=admin)).json()["items"] == []


async def test_unknown_id_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for path in (
        "/api/v1/queues/999",
        "/api/v1/users/999",
        "/api/v1/customers/999",
        "/api/v1/contacts/999",
    ):
        response = await client.get(path, headers=admin)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_duplicate_is_409(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = {"name": "mandarin", "kind": "language"}
    assert (await client.post("/api/v1/skills", json=body, headers=admin)).status_code == 201
    again = await client.post("/api/v1/skills", json=body, headers=admin)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


async def test_oversized_body_is_413(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    big = {"name": "x" * 2_000_000}
    response = await client.post("/api/v1/skills", json=big, headers=admin)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_queue_with_unknown_skill_is_refused_by_name(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/queues",
        json={
            "name": "support",
            "display_name": "Support",
            "channels": ["email"],
            "required_skills": [{"skill": "klingon", "level": 2}],
        },
        headers=admin,
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["unknown_skills"] == ["klingon"]
    assert (await client.get("/api/v1/queues", headers=admin)).json()["items"] == []


async def test_agent_skills_and_filters(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    for name, kind in (("mandarin", "language"), ("billing", "general")):
        await client.post("/api/v1/skills", json={"name": name, "kind": kind}, headers=admin)
    await make_user("li.na")
    await make_user("tom.becker")
    agents = (await client.get("/api/v1/agents", headers=admin)).json()["items"]
    li_na = next(a for a in agents if a["username"] == "li.na")
    response = await client.put(
        f"/api/v1/agents/{li_na['id']}/skills",
        json=[{"skill": "mandarin", "level": 5}, {"skill": "billing", "level": 3}],
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["skills"] == [
        {"skill": "billing", "level": 3},
        {"skill": "mandarin", "level": 5},
    ]
    speakers = (await client.get("/api/v1/agents?skill=mandarin", headers=admin)).json()["items"]
    assert [a["username"] for a in speakers] == ["li.na"]
    out_of_range = await client.put(
        f"/api/v1/agents/{li_na['id']}/skills",
        json=[{"skill": "mandarin", "level": 6}],
        headers=admin,
    )
    assert out_of_range.status_code == 422


async def test_pagination_walks_every_item_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for i in range(7):
        await client.post("/api/v1/skills", json={"name": f"skill{i}"}, headers=admin)
    seen: list[str] = []
    url = "/api/v1/skills?limit=3"
    while url:
        page = (await client.get(url, headers=admin)).json()
        seen += [s["name"] for s in page["items"]]
        url = f"/api/v1/skills?limit=3&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert seen == [f"skill{i}" for i in range(7)]
    assert (await client.get("/api/v1/skills?cursor=garbage", headers=admin)).status_code == 422


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32


async def test_openapi_documents_every_route_with_summaries(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operations = [
        (path, method, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) > 30
    assert all(op.get("summary") for _, _, op in operations), [
        (p, m) for p, m, op in operations if not op.get("summary")
    ]
    schemas = spec["components"]["schemas"]
    assert "examples" in schemas["QueueCreate"]
    assert "examples" in schemas["CustomerCreate"]
