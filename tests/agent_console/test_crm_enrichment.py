"""CRM enrichment of the screen-pop, against a small CRM served over real HTTP.

The pop is read where agents get it: the ``offer`` frame on ``/ws/agent`` (the first one when
the chat is offered, later ones from a fresh login, whose snapshot repeats pending offers).
The hub's enricher is replaced by one pointing at the fake CRM, built as the hub builds it;
where a test must not depend on the machine's speed it gets a generous budget, so that a
fast CRM's answer (or failure) is always in before the pop leaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.customers.enrichment import CrmEnricher
from tests.agent_console.conftest import open_console, token_of
from tests.channels.chat.conftest import Desk
from tests.helpers import eventually, live_server

EMAIL = "wang@example.cn"
GENEROUS = 5.0  # seconds: a budget that a local CRM answering at once never exceeds


@dataclass
class FakeCrm:
    """``GET /lookup?customer_id=N``. Modes: ok (answers at once), slow (answers once
    ``release`` is set), fail (500). ``known``: customers it knows (None: all); others 404."""

    url: str = ""
    mode: str = "ok"
    known: set[int] | None = None
    calls: list[int] = field(default_factory=list)
    answered: list[int] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def answer(self, customer_id: int) -> dict[str, Any]:
        return {"customer_id": customer_id, "segment": "gold", "open_orders": 2}


def _crm_app(crm: FakeCrm) -> FastAPI:
    app = FastAPI()

    @app.get("/lookup")
    async def lookup(customer_id: int) -> JSONResponse:
        crm.calls.append(customer_id)
        if crm.mode == "fail":
            return JSONResponse({"error": "down"}, status_code=500)
        if crm.mode == "slow":
            await crm.release.wait()
        if crm.known is not None and customer_id not in crm.known:
            return JSONResponse({"error": "unknown customer"}, status_code=404)
        crm.answered.append(customer_id)
        return JSONResponse(crm.answer(customer_id))

    return app


@pytest.fixture
async def crm() -> AsyncIterator[FakeCrm]:
    found = FakeCrm()
    async with live_server(_crm_app(found)) as url:
        found.url = f"{url}/lookup"
        try:
            yield found
        finally:
            found.release.set()  # nothing may stay blocked in the CRM at shutdown


def _use_crm(app: FastAPI, crm: FakeCrm, **options: Any) -> CrmEnricher:
    hub = app.state.console
    hub.settings.crm_url = crm.url
    options.setdefault("timeout", hub.settings.crm_timeout_seconds)
    enricher = CrmEnricher(crm.url, **options)
    hub.enricher = enricher  # closed by the hub at shutdown
    return enricher


async def _customer(desk: Desk, name: str = "王小明", email: str | None = EMAIL) -> int:
    body: dict[str, Any] = {"name": name} | ({"emails": [email]} if email else {})
    created = await desk.client.post("/api/v1/customers", json=body, headers=desk.admin)
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    return customer_id


async def _first_pop(desk: Desk, console_url: str) -> tuple[int, dict[str, Any]]:
    """ann logs in, becomes available, a chat from EMAIL arrives: its contact and pop."""
    async with open_console(console_url) as console:
        await console.hello(token_of(desk.headers("ann")))
        await console.next_of("snapshot")
        ready = await console.ask({"type": "set_state", "state": "available"})
        assert ready["type"] == "result", ready
        started = await desk.start(name="王小明", email=EMAIL)
        offer = await console.next_of("offer")
    assert offer["contact_id"] == started["contact_id"]
    assert offer["pop"] is not None, offer
    return offer["contact_id"], offer["pop"]


async def _next_pop(desk: Desk, console_url: str, contact_id: int) -> dict[str, Any]:
    """A fresh login: the snapshot repeats the pending offer, with a newly built pop."""
    async with open_console(console_url) as console:
        await console.hello(token_of(desk.headers("ann")))
        snapshot = await console.next_of("snapshot")
        assert [c["contact_id"] for c in snapshot["contacts"]] == [contact_id], snapshot
        offer = await console.next_of("offer")
    assert offer["contact_id"] == contact_id
    assert offer["pop"] is not None, offer
    pop: dict[str, Any] = offer["pop"]
    return pop


async def test_a_fast_crm_answer_is_in_the_pop_and_cached(
    live_desk: Desk, app: FastAPI, console_url: str, crm: FakeCrm
) -> None:
    _use_crm(app, crm, timeout=GENEROUS)
    customer_id = await _customer(live_desk)
    await live_desk.agent("ann", available=False)

    contact_id, pop = await _first_pop(live_desk, console_url)

    assert pop["customer"]["id"] == customer_id
    assert pop["enrichment"] == crm.answer(customer_id)
    assert crm.calls == [customer_id]

    again = await _next_pop(live_desk, console_url, contact_id)
    assert again["enrichment"] == crm.answer(customer_id)
    assert crm.calls == [customer_id]  # from the cache


async def test_a_slow_crm_does_not_hold_the_pop_and_fills_the_cache(
    live_desk: Desk, app: FastAPI, console_url: str, crm: FakeCrm
) -> None:
    crm.mode = "slow"
    _use_crm(app, crm)  # the production budget (crm_timeout_seconds)
    customer_id = await _customer(live_desk)
    await live_desk.agent("ann", available=False)

    # The CRM cannot answer before the pop is out: the pop comes without enrichment.
    contact_id, pop = await _first_pop(live_desk, console_url)
    assert pop["customer"]["id"] == customer_id
    assert pop["enrichment"] is None
    assert crm.calls == [customer_id]

    # The lookup went on after the pop; once answered, the next pop has it, with no new call.
    crm.release.set()
    await eventually(lambda: _true(crm.answered == [customer_id]))

    async def enriched_pop() -> dict[str, Any] | None:
        later = await _next_pop(live_desk, console_url, contact_id)
        return later if later["enrichment"] is not None else None

    later = await eventually(enriched_pop)
    assert later["enrichment"] == crm.answer(customer_id)
    assert crm.calls == [customer_id]


async def test_a_failing_crm_opens_the_breaker_and_pops_still_come(
    live_desk: Desk, app: FastAPI, console_url: str, crm: FakeCrm
) -> None:
    crm.mode = "fail"
    enricher = _use_crm(app, crm, timeout=GENEROUS)
    customer_id = await _customer(live_desk)
    await live_desk.agent("ann", available=False)
    threshold = enricher.breaker.failure_threshold

    contact_id, pop = await _first_pop(live_desk, console_url)
    pops = [pop]
    for _ in range(threshold - 1):
        pops.append(await _next_pop(live_desk, console_url, contact_id))
    assert crm.calls == [customer_id] * threshold  # failures are not cached

    # The breaker is open: for the cool-down (30 s) the CRM is not called at all.
    for _ in range(2):
        pops.append(await _next_pop(live_desk, console_url, contact_id))
    assert crm.calls == [customer_id] * threshold

    assert [p["customer"]["id"] for p in pops] == [customer_id] * len(pops)
    assert [p["enrichment"] for p in pops] == [None] * len(pops)


async def test_after_the_cool_down_a_probe_closes_the_breaker(
    live_desk: Desk, app: FastAPI, console_url: str, crm: FakeCrm
) -> None:
    crm.mode = "fail"
    enricher = _use_crm(app, crm, timeout=GENEROUS, cool_down_seconds=0.2)
    customer_id = await _customer(live_desk)
    await live_desk.agent("ann", available=False)

    contact_id, _ = await _first_pop(live_desk, console_url)
    for _ in range(enricher.breaker.failure_threshold - 1):
        await _next_pop(live_desk, console_url, contact_id)
    failures = len(crm.calls)
    crm.mode = "ok"

    async def enriched_pop() -> dict[str, Any] | None:
        pop = await _next_pop(live_desk, console_url, contact_id)
        return pop if pop["enrichment"] is not None else None

    pop = await eventually(enriched_pop)
    assert pop["enrichment"] == crm.answer(customer_id)
    assert len(crm.calls) == failures + 1  # one probe, then closed


async def test_customers_the_crm_does_not_know_do_not_open_the_breaker(
    live_desk: Desk, app: FastAPI, console_url: str, crm: FakeCrm
) -> None:
    """A 404 is an answer (nothing known), not a failure: many unknown customers in a row
    must not switch enrichment off for the known ones."""
    enricher = _use_crm(app, crm, timeout=GENEROUS)
    first = await _customer(live_desk)
    unknown = [first] + [
        await _customer(live_desk, f"客户{i}", email=None)
        for i in range(enricher.breaker.failure_threshold)
    ]
    known = await _customer(live_desk, "老客户", email=None)
    crm.known = {known}
    await live_desk.agent("ann", available=False)

    contact_id, pop = await _first_pop(live_desk, console_url)
    assert (pop["customer"]["id"], pop["enrichment"]) == (first, None)
    for customer_id in [*unknown[1:], known]:
        # An admin puts the contact on another customer; the next pop is about that one.
        linked = await live_desk.client.post(
            f"/api/v1/customers/links/{contact_id}",
            json={"customer_id": customer_id},
            headers=live_desk.admin,
        )
        assert linked.status_code == 200, linked.text
        pop = await _next_pop(live_desk, console_url, contact_id)
        assert pop["customer"]["id"] == customer_id
    assert pop["enrichment"] == crm.answer(known)
    assert crm.calls == [*unknown, known]


async def _true(value: bool) -> bool:
    return value
