"""The supervisor wallboard at /wallboard in Chromium: the demo's queues as live tiles, a
contact through the API moving the waiting figure both ways, a forced state, an alarm as it
fires, a reassigned contact, and the socket surviving a drop."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect
from websockets.asyncio.client import connect

from app.demo.loader import AGENT_PASSWORD, QUEUES, SUPERVISOR
from tests.web.conftest import Service, Visitor, sign_in, watched_page

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "wallboard.png"
VIP_AGENTS = ("wang.wei", "huang.li", "grace.lin")  # everyone with vip_care ≥ 3


async def _agent_ids(service: Service) -> dict[str, int]:
    async with await service.client(SUPERVISOR.username, SUPERVISOR.password) as client:
        answer = await client.get("/api/v1/agents?limit=200")
    assert answer.status_code == 200, answer.text
    return {a["username"]: a["id"] for a in answer.json()["items"]}


async def _force(service: Service, agent_id: int, state: str) -> None:
    async with await service.client(SUPERVISOR.username, SUPERVISOR.password) as client:
        answer = await client.put(f"/api/v1/agents/{agent_id}/state", json={"state": state})
    assert answer.status_code in (200, 202), answer.text


async def _open_wallboard(page: Page) -> None:
    await sign_in(page, SUPERVISOR.username, SUPERVISOR.password, path="/wallboard")


def _waiting(page: Page, queue: str) -> Any:
    return page.locator(f'.tile[data-queue="{queue}"] [data-figure="waiting"] dd')


async def test_tiles_follow_a_contact_in_and_out(web_service: Service, browser: Browser) -> None:
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await _open_wallboard(page)
        for spec in QUEUES:
            tile = page.locator(f'.tile[data-queue="{spec.name}"]')
            await expect(tile.get_by_role("heading")).to_have_text(spec.display_name)
        support = page.locator('.tile[data-queue="support"]')
        await expect(support.locator('[data-figure="sl"]')).to_have_attribute(
            "data-level", re.compile("good|near|bad|none")
        )
        await expect(support.locator('[data-figure="staffing"]')).to_contain_text("Erlang C")
        before = int(await _waiting(page, "support").inner_text())

        visitor = Visitor(web_service)
        contact_id = await visitor.start(name="访客 Visitor", language="en", widget="support")
        await expect(_waiting(page, "support")).to_have_text(str(before + 1))

        await support.get_by_role("button", name=re.compile("Show waiting contacts")).click()
        row = page.locator(f'.waiting-panel tr[data-contact="{contact_id}"]')
        await expect(row).to_be_visible()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        await visitor.connect()
        await visitor.end()
        await expect(_waiting(page, "support")).to_have_text(str(before))
        await expect(row).to_have_count(0)
        await visitor.close()

        await page.get_by_role("button", name="TV mode").click()
        await expect(page.locator("body")).to_have_class(re.compile(r"\btv\b"))
        await expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
        await expect(support.get_by_role("button", name=re.compile("Show waiting"))).to_have_count(
            0
        )
        await expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
        await page.get_by_role("button", name="Leave TV mode").click()
        await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_force_state_and_the_alarm_it_raises(web_service: Service, browser: Browser) -> None:
    ids = await _agent_ids(web_service)
    for username in VIP_AGENTS:
        await _force(web_service, ids[username], "offline")
    huang = ids["huang.li"]
    unstaffed = '.alarm[data-kind="queue_unstaffed"][data-queue="vip"]'
    async with watched_page(browser, web_service.url, "zh-CN") as watched:
        page = watched.page
        await _open_wallboard(page)
        await expect(page.locator(unstaffed)).to_have_count(1)
        await expect(page.locator(unstaffed)).to_contain_text("队列 vip")

        row = page.locator(f'tr[data-agent="{huang}"]')
        await expect(row.get_by_role("rowheader")).to_have_text("黄丽")
        await row.get_by_label("强制设置 黄丽 的状态").select_option("available")
        await row.get_by_role("button", name="应用: 黄丽").click()
        await expect(row.locator(".state")).to_have_attribute("data-state", "available")
        await expect(page.locator(unstaffed)).to_have_count(0)
        vip = page.locator('.tile[data-queue="vip"] .by-state [data-state="available"] .n')
        await expect(vip).to_have_text("1")

        await row.get_by_label("强制设置 黄丽 的状态").select_option("not_ready:break")
        await row.get_by_role("button", name="应用: 黄丽").click()
        await expect(row.locator(".state")).to_have_text("未就绪：休息")

        await row.get_by_label("强制设置 黄丽 的状态").select_option("offline")
        await row.get_by_role("button", name="应用: 黄丽").click()
        await expect(row.locator(".state")).to_have_attribute("data-state", "offline")
        await expect(page.locator(unstaffed)).to_have_count(1)


async def test_a_waiting_contact_is_reassigned(web_service: Service, browser: Browser) -> None:
    ids = await _agent_ids(web_service)
    carlos = ids["carlos.mendes"]  # no support skill: the router would not offer him this
    await _force(web_service, carlos, "available")  # only a logged-in agent can be offered one
    visitor = Visitor(web_service)
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await _open_wallboard(page)
        contact_id = await visitor.start(name="Reassign Me", language="en", widget="support")
        await (
            page.locator('.tile[data-queue="support"]')
            .get_by_role("button", name=re.compile("Show waiting contacts"))
            .click()
        )
        row = page.locator(f'.waiting-panel tr[data-contact="{contact_id}"]')
        await row.get_by_label(f"Assign contact {contact_id} to").select_option(str(carlos))
        await row.get_by_role("button", name="Assign").click()
        await expect(page.locator(".notice")).to_have_text(
            f"Contact {contact_id} offered to Carlos Mendes."
        )
        async with await web_service.client("carlos.mendes", AGENT_PASSWORD) as carlos_http:
            accepted = await carlos_http.post(f"/api/v1/contacts/{contact_id}/accept")
        assert accepted.status_code == 200, accepted.text
        monitor = page.locator(f'tr[data-agent="{carlos}"] form.monitor')
        await monitor.get_by_label("How to monitor the call of Carlos Mendes").select_option(
            "listen"
        )
        watched.allow("409")  # a chat has no call to listen to
        await monitor.get_by_role("button", name="Monitor: Carlos Mendes").click()
        await expect(page.locator(".notice")).to_have_text(
            "Refused: Only calls have call controls."
        )
    async with await web_service.client(SUPERVISOR.username, SUPERVISOR.password) as client:
        contact = (await client.get(f"/api/v1/contacts/{contact_id}")).json()
    kinds = [e["kind"] for e in contact["events"]]
    assert "contact.assign_requested" in kinds
    async with await web_service.client("carlos.mendes", AGENT_PASSWORD) as carlos_http:
        ended = await carlos_http.post(
            f"/api/v1/contacts/{contact_id}/end", json={"disposition": "resolved"}
        )
        assert ended.status_code in (200, 202), ended.text
    await _force(web_service, carlos, "offline")


async def test_the_socket_comes_back_after_a_restart(
    web_service: Service, browser: Browser
) -> None:
    async with watched_page(browser, web_service.url, "en-US") as watched:
        watched.allow(r"WebSocket connection to .* failed")
        page = watched.page
        await _open_wallboard(page)
        await web_service.stop()
        await page.locator('.conn[data-conn="reconnecting"]').wait_for()
        await web_service.start()
        await page.locator('.conn[data-conn="online"]').wait_for()
        before = int(await _waiting(page, "support").inner_text())
        visitor = Visitor(web_service)
        await visitor.start(name="After restart", language="en", widget="support")
        await expect(_waiting(page, "support")).to_have_text(str(before + 1))
        await visitor.connect()
        await visitor.end()
        await expect(_waiting(page, "support")).to_have_text(str(before))
        await visitor.close()


STORE_CHECKS = """async () => {
  const src = document.querySelector('script[type=module]').src;
  const m = await import(src.replace('/main.js', '/store.js'));
  const state = m.emptyState();
  m.apply(state, {type: 'snapshot', at: 1000, day_start: 0, alarms: [{kind: 'x'}],
                  queues: {a: {waiting: 1}}, agents: {'7': {state: 'available'}}}, 1000500);
  m.apply(state, {type: 'delta', at: 1001, queues: {b: {waiting: 2}},
                  agents: {'7': {state: 'on_contact'}}}, 1001500);
  const keptAlarms = state.alarms.length;
  m.apply(state, {type: 'case_sla', event_id: 5, level: 'breach'}, 1002000);
  m.apply(state, {type: 'case_sla', event_id: 5, level: 'breach'}, 1002100);
  m.apply(state, {type: 'consult', consult_id: 9, agent_id: 7, contact_id: 3}, 1002200);
  m.apply(state, {type: 'consult_answered', consult_id: 9, supervisor_name: 'Zhou'}, 1002300);
  const rows = [
    {interval_start: 'T2', queue: 'a', offered: 2, handled: 1, answered_in_target: 1,
     answered: 1, abandoned: 1, short_abandoned: 0},
    {interval_start: 'T1', queue: 'a', offered: 1, handled: 1, answered_in_target: 1,
     answered: 1, abandoned: 0, short_abandoned: 0},
    {interval_start: 'T1', queue: 'b', offered: 3, handled: 2, answered_in_target: 0,
     answered: 0, abandoned: 1, short_abandoned: 1},
  ];
  return {
    queues: Object.keys(state.queues).sort(),
    agent: state.agents['7'].state,
    keptAlarms,
    skew: state.skewSeconds,
    now: m.serverNow(state, 1001500),
    notices: state.notices.map((n) => [n.kind, n.answeredBy || null]),
    levels: [m.serviceLevelClass(80, 80), m.serviceLevelClass(71, 80),
             m.serviceLevelClass(69.9, 80), m.serviceLevelClass(null, 80)],
    staffing: [m.staffingClass({agents_needed: 3, agents_staffed: 2}),
               m.staffingClass({agents_needed: 2, agents_staffed: 2})],
    series: m.intervalSeries(rows, null)
      .map((p) => [p.start, p.offered, p.handled, p.serviceLevel]),
    onlyB: m.intervalSeries(rows, ['b']).map((p) => [p.start, p.serviceLevel]),
  };
}"""


async def test_the_pure_store(web_service: Service, browser: Browser) -> None:
    """The wallboard's state changes and figures, run in the page as the board runs them."""
    async with watched_page(browser, web_service.url, "en-US") as watched:
        await watched.page.goto("/wallboard")
        found = await watched.page.evaluate(STORE_CHECKS)
    assert found == {
        "queues": ["a", "b"],
        "agent": "on_contact",
        "keptAlarms": 1,  # a delta without alarms keeps them
        "skew": 0.5,
        "now": 1001.0,
        "notices": [["consult", "Zhou"], ["case_sla", None]],  # newest first, once each
        "levels": ["good", "near", "bad", "none"],
        "staffing": ["short", "ok"],
        "series": [["T1", 4, 3, 100.0], ["T2", 2, 1, 50.0]],
        "onlyB": [["T1", None]],
    }


async def _frame(ws: Any, kind: str, seconds: float = 30) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        if frame["type"] == kind:
            return frame


async def test_a_low_rating_raises_an_alarm_and_moves_the_queue_csat(
    web_service: Service, browser: Browser
) -> None:
    """An agent (over /ws/agent) ends a sales chat; the visitor rates it 1: the wallboard
    lists the low rating with its complaint case and the sales tile shows today's CSAT."""
    agent = "liu.yang"
    token = await web_service.token(agent)
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await _open_wallboard(page)
        async with connect(web_service.url.replace("http", "ws") + "/ws/agent") as console:
            await console.send(json.dumps({"type": "hello", "token": token, "last_seq": None}))
            await console.send(json.dumps({"type": "set_state", "state": "available"}))
            visitor = Visitor(web_service)
            contact_id = await visitor.start(name="顾客 Rater", language="zh-CN", widget="sales")
            while (offer := await _frame(console, "offer"))["contact_id"] != contact_id:
                # another test's chat still in line: not this test's to take
                await console.send(
                    json.dumps({"type": "reject", "contact_id": offer["contact_id"]})
                )
            await console.send(json.dumps({"type": "accept", "contact_id": contact_id}))
            await _frame(console, "assigned")
            await visitor.connect()
            await console.send(json.dumps({"type": "end_contact", "contact_id": contact_id}))
            assert visitor.ws is not None
            await _frame(visitor.ws, "csat_request")
            await visitor.ws.send(json.dumps({"type": "csat", "score": 1, "comment": "太慢了"}))
            await _frame(visitor.ws, "csat_recorded")
            await visitor.close()
            alarm = page.locator(".alarms li", has_text="Rated 1/5")
            await expect(alarm).to_contain_text(f"contact {contact_id}")
            figure = page.locator('.tile[data-queue="sales"] [data-figure="csat"] dd')
            await expect(figure).to_contain_text("/ 5")
    await web_service.set_offline(agent)
