"""CONTACTD_ALLOWED_ORIGINS: browsers on other sites get no websocket and no chat API;
CONTACTD_METRICS_TOKEN: /metrics only for its bearer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.main import create_app
from tests.conftest import make_settings
from tests.helpers import live_server

SHOP = "https://shop.example.cn"
EVIL = "https://evil.example"


@pytest.fixture
async def app(clean_db: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(allowed_origins=f"{SHOP}/, https://m.shop.example.cn")
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


async def _preflight(client: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await client.options(
        "/api/v1/chat/sessions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


async def test_the_chat_api_answers_cors_for_allowed_origins_only(
    client: httpx.AsyncClient,
) -> None:
    allowed = await _preflight(client, SHOP)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["access-control-allow-origin"] == SHOP
    refused = await _preflight(client, EVIL)
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize("path", ["/ws/chat", "/ws/agent", "/ws/supervisor"])
async def test_a_websocket_from_another_origin_is_refused(app: FastAPI, path: str) -> None:
    async with live_server(app) as url:
        ws_url = url.replace("http://", "ws://") + path
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url, origin=EVIL, open_timeout=5):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        for origin in (SHOP, None):  # allowed, and not a browser
            async with connect(ws_url, origin=origin, open_timeout=5) as ws:  # type: ignore[arg-type]
                assert ws.protocol.state.name == "OPEN"


async def test_metrics_need_the_token_once_one_is_set(clean_db: str) -> None:
    settings = make_settings(metrics_token="scrape-secret")
    application = create_app(settings, database_url=clean_db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            assert (await http.get("/metrics")).status_code == 401
            wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
            assert right.status_code == 200
            assert "contactd" in right.text
