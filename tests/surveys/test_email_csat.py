"""CSAT by email: ending an email contact mails a signed link; its page takes one answer."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from app.surveys.core.token import sign
from app.surveys.service import link_secret
from tests.channels.email.conftest import (  # noqa: F401  (fixtures)
    RecordingRelay,
    app,
    build_raw,
    center,
    post_email,
    relay,
    text_part,
)
from tests.routing_service.conftest import Center, eventually

LINK = re.compile(r"https?://[^\s]+/csat/(?P<token>[A-Za-z0-9._-]+)")


async def _ended_email_contact(desk: Center, client: httpx.AsyncClient) -> int:
    await desk.agent("li.na", {"support": 3})
    await desk.available("li.na")
    raw = build_raw(
        sender="张三 <zhang.san@example.cn>",
        subject="订单还没有发货",
        message_id="<order.1@mail.example.cn>",
        body=text_part("您好，我的订单还没有发货。"),
    )
    response = await post_email(client, raw)
    assert response.status_code == 200, response.text
    contact_id: int = response.json()["contact_id"]
    await desk.wait_state(contact_id, "offered", "li.na")
    assert (await desk.act("li.na", contact_id, "accept")).status_code == 200
    assert (await desk.act("li.na", contact_id, "end")).status_code == 200
    return contact_id


async def _mailed_token(mailbox: RecordingRelay) -> str:
    async def mailed() -> bool:
        return len(mailbox.received) >= 1

    await eventually(mailed)
    [(_, recipients, raw)] = mailbox.received
    assert recipients == ["zhang.san@example.cn"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, email.message.EmailMessage)
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "请为本次服务评分" in text
    assert "Please rate our service" in text
    found = LINK.search(text)
    assert found is not None, text
    return found["token"]


async def test_the_link_page_takes_one_answer(
    app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    client: httpx.AsyncClient,
    relay: RecordingRelay,  # noqa: F811
) -> None:
    contact_id = await _ended_email_contact(center, client)
    token = await _mailed_token(relay)

    page = await client.get(f"/csat/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "form-action 'self'" in csp
    assert "script" not in page.text
    assert "服务评价" in page.text
    assert "Rate our service" in page.text
    assert 'name="score" value="5"' in page.text

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bad = await client.post(f"/csat/{token}", content="score=9", headers=form)
    assert bad.status_code == 422
    refused = await client.post(f"/csat/{token}", json={"score": 0})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_input"
    survey = await client.get(f"/api/v1/contacts/{contact_id}/csat", headers=center.admin)
    assert survey.json()["score"] is None  # nothing stored by the bad answers

    answered = await client.post(
        f"/csat/{token}", content="score=4&comment=%E5%BE%88%E5%A5%BD", headers=form
    )
    assert answered.status_code == 200
    assert "感谢您的评价" in answered.text
    survey = await client.get(
        f"/api/v1/contacts/{contact_id}/csat", headers=center.headers("li.na")
    )
    found = survey.json()
    assert (found["channel"], found["score"], found["comment"]) == ("email", 4, "很好")
    assert found["case_id"] is None

    second = await client.post(f"/csat/{token}", json={"score": 5})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "already_rated"
    again = await client.get(f"/csat/{token}")
    assert again.status_code == 409
    assert "已经评价" in again.text
    unchanged = await client.get(f"/api/v1/contacts/{contact_id}/csat", headers=center.admin)
    assert unchanged.json()["score"] == 4


async def test_a_forged_or_expired_link_stores_nothing(
    app: FastAPI,  # noqa: F811
    center: Center,  # noqa: F811
    client: httpx.AsyncClient,
    relay: RecordingRelay,  # noqa: F811
) -> None:
    contact_id = await _ended_email_contact(center, client)
    token = await _mailed_token(relay)

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = await client.post(f"/csat/{forged}", json={"score": 5})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invalid_token"
    assert (await client.get(f"/csat/{forged}")).status_code == 404

    secret = link_secret(app.state.settings, app.state.jwt_secret)
    expired = sign(contact_id, datetime.now(UTC) - timedelta(seconds=1), secret)
    response = await client.post(f"/csat/{expired}", json={"score": 5})
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "token_expired"
    page = await client.get(f"/csat/{expired}")
    assert page.status_code == 410
    assert "expired" in page.text

    survey = await client.get(f"/api/v1/contacts/{contact_id}/csat", headers=center.admin)
    assert survey.json()["score"] is None
