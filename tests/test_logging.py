"""Logs carry a request id and no personal data at INFO."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from tests.conftest import make_settings


@pytest.fixture
async def info_app(clean_db: str):
    application = create_app(make_settings(log_level="INFO", log_json=True), database_url=clean_db)
    async with application.router.lifespan_context(application):
        yield application


async def test_request_lines_have_request_id_and_no_phone_or_email(
    info_app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = httpx.ASGITransport(app=info_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await client.get(
            "/api/v1/customers",
            params={"phone": "+8613800138000", "email": "wang.xm@example.cn"},
            headers={"X-Request-ID": "req-42"},
        )
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    requests = [line for line in lines if line.get("event") == "request"]
    assert requests, lines
    assert requests[-1]["request_id"] == "req-42"
    assert requests[-1]["path"] == "/api/v1/customers"
    assert requests[-1]["status"] == 401
    everything = json.dumps(lines, ensure_ascii=False)
    assert "13800138000" not in everything
    assert "wang.xm" not in everything
