"""Inputs an attacker or a careless client sends: a clear 4xx, nothing stored, no personal
data in errors or logs."""

from __future__ import annotations

import httpx
import pytest
import structlog
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from websockets.asyncio.client import connect

from app.supervisor import reports
from app.supervisor.metrics import Aggregator, Buckets, QueueTally
from app.supervisor.views import DEFAULT_AHT_SECONDS
from app.validation import json_has_nul
from tests.channels.chat.conftest import Desk
from tests.helpers import count_rows, eventually, live_server


@pytest.mark.parametrize("field", ["name", "page_url"])
async def test_a_nul_in_a_chat_session_is_refused_and_nothing_stored(
    desk: Desk, clean_db: str, field: str
) -> None:
    body = {"name": "王小明", "page_url": "https://shop.example.cn/"}
    body[field] += "\x00"
    response = await desk.client.post("/api/v1/chat/sessions", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_text"
    assert await count_rows(clean_db, "contacts") == 0


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(desk: Desk) -> None:
    started = await desk.start(name="C:\\u0000")  # the six characters, not a NUL
    assert started["contact_id"] > 0


async def test_a_nul_in_a_query_string_or_form_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    listed = await client.get("/api/v1/customers?q=%00", headers=admin)
    assert (listed.status_code, listed.json()["error"]["code"]) == (422, "invalid_text")
    login = await client.post(
        "/api/v1/auth/token", data={"username": "root.admin\x00", "password": "x"}
    )
    assert (login.status_code, login.json()["error"]["code"]) == (422, "invalid_text")


async def test_a_nul_in_a_chat_frame_is_refused_and_the_socket_stays(live_desk: Desk) -> None:
    started = await live_desk.start()
    async with live_desk.visitor() as visitor:
        await visitor.hello(started)
        await visitor.next_of("message")
        await visitor.send({"type": "message", "client_id": "nul", "text": "a\x00b"})
        assert (await visitor.next_of("error"))["code"] == "invalid_text"
        await visitor.send({"type": "message", "client_id": "ok", "text": "好的"})
        ack, _ = await visitor.ack_and_echo()
        assert ack["client_id"] == "ok"
    transcript = await live_desk.transcript(started["contact_id"])
    assert [m["text"] for m in transcript if m["author"] == "customer"] == ["好的"]


@given(st.text())
def test_json_has_nul_is_exactly_whether_the_decoded_text_has_one(value: str) -> None:
    import json

    assert json_has_nul(json.dumps({"v": value})) == ("\x00" in value)
    assert json_has_nul(json.dumps({"v": value}, ensure_ascii=False)) == ("\x00" in value)


async def test_database_errors_never_log_bound_values(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "".join(reversed("nc.elpmaxe@明小王"))  # not in the traceback's source lines
    async with app.state.db.engine.connect() as connection:
        with pytest.raises(DBAPIError) as caught:
            await connection.execute(text("SELECT CAST(:v AS integer)"), {"v": secret})
    assert "[SQL parameters hidden" in str(caught.value)
    try:
        raise RuntimeError("the unit of work failed") from caught.value
    except RuntimeError:
        structlog.get_logger("test").exception("unit_of_work_failed")
    logged = capsys.readouterr().err
    assert "unit_of_work_failed" in logged
    assert "DBAPIError" in logged  # the type and the stack stay
    assert secret in str(caught.value)  # asyncpg quotes it: what the log must not
    assert secret not in logged


async def test_leaving_the_supervisor_socket_before_authenticating_logs_no_error(
    app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    async with live_server(app) as url:
        ws_url = url.replace("http://", "ws://") + "/ws/supervisor"
        async with connect(ws_url, open_timeout=5, close_timeout=1):
            pass  # closed at once, before any auth frame
    # the server has stopped, so the socket's handler has ended
    logged = capsys.readouterr().err
    assert "Traceback" not in logged
    assert '"level": "error"' not in logged


@pytest.mark.parametrize(
    "params",
    [
        {"arrivals_per_hour": 1e9, "aht_seconds": 180},
        {"arrivals_per_hour": 5.2e307, "aht_seconds": 2.2e-16},
        {"arrivals_per_hour": 100, "aht_seconds": 5e-324},
        {"arrivals_per_hour": 5e-324, "aht_seconds": 180, "target_service_level": 5e-324},
        {"arrivals_per_hour": 100, "aht_seconds": 180, "patience_seconds": 5e-324},
    ],
)
async def test_staffing_inputs_are_bounded(
    client: httpx.AsyncClient, supervisor: dict[str, str], params: dict[str, float]
) -> None:
    response = await client.get("/api/v1/staffing/erlang-c", params=params, headers=supervisor)
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}


async def test_denormal_arrivals_get_an_answer_not_a_server_error(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/staffing/erlang-c",
        params={"arrivals_per_hour": 5e-324, "aht_seconds": 180},
        headers=supervisor,
    )
    assert response.status_code in (200, 422), response.text


async def test_the_waiting_list_of_an_unknown_queue_is_404(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    await eventually(lambda: _leading(client))
    for queue in ("0", "no-such-queue"):
        response = await client.get(f"/api/v1/routing/queues/{queue}/waiting", headers=supervisor)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("customer_id", [False, True, "7", 1.5])
async def test_a_contact_with_a_customer_id_that_is_no_integer_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], clean_db: str, customer_id: object
) -> None:
    body = {"channel": "voice", "queue": "support", "customer_id": customer_id}
    response = await client.post("/api/v1/contacts", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert await count_rows(clean_db, "contacts") == 0


async def test_a_contacts_place_in_line_is_for_its_agent_and_supervisors(desk: Desk) -> None:
    await desk.agent("ann")
    await desk.agent("bob", available=False)
    started = await desk.start(name="王小明")
    contact_id = started["contact_id"]
    await desk.wait_state(contact_id, "offered")
    url = f"/api/v1/contacts/{contact_id}/position"
    assert (await desk.client.get(url, headers=desk.headers("ann"))).status_code == 200
    refused = await desk.client.get(url, headers=desk.headers("bob"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert (await desk.client.get(url, headers=desk.admin)).status_code == 200


async def _leading(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).json().get("router") == "leader"


def test_the_staffing_table_takes_intervals_handled_in_no_time() -> None:
    """Contacts ended the instant they were assigned (zero handle time) and arrivals with
    none handled: the default AHT stands in, no error."""
    agg = Aggregator(Buckets(origin=0, width=1800))
    agg.queues[(0, "support", "chat")] = QueueTally(offered=3, handled=2, talk_seconds=0.0)
    agg.queues[(1, "support", "chat")] = QueueTally(offered=1)
    rows = reports.staffing_table(agg, weeks=1, shrinkage=0.0, queue=None)
    assert [row["aht_seconds"] for row in rows] == [DEFAULT_AHT_SECONDS] * 2
    assert all(row["agents_needed"] >= 1 for row in rows)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/skills/58768332800280363008"),  # beyond bigint
        ("GET", "/api/v1/attachments/-33315221843522000502898939834400768"),
        ("POST", "/api/v1/contacts/60848088661695128160902080016836198400/accept"),
        ("GET", "/api/v1/contacts/1/messages?after_seq=8589934592"),  # beyond integer
        ("GET", "/api/v1/routing/config/versions/10464623219742108"),
    ],
)
async def test_numbers_beyond_what_the_database_stores_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], method: str, path: str
) -> None:
    response = await client.request(method, path, headers=admin)

    assert response.status_code == 422, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}


async def test_times_of_day_are_answered_in_the_form_the_document_declares(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    customer = await client.post("/api/v1/customers", json={"name": "李雷"}, headers=admin)
    consent = await client.get(f"/api/v1/customers/{customer.json()['id']}/consent", headers=admin)
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]

    quiet = consent.json()["quiet_hours"]
    assert (quiet["start"], quiet["end"]) == ("21:00:00", "09:00:00")
    assert "pattern" in schema["QuietHoursOut"]["properties"]["end"]


async def test_every_operation_declares_its_error_statuses(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    accept = paths["/api/v1/contacts/{contact_id}/accept"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422", "503"} <= set(accept)
    voice = paths["/webhooks/twilio/voice"]["post"]["responses"]
    assert {"400", "401", "403", "413", "415", "503"} <= set(voice)
    assert accept["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
