"""The agent desktop at /console in Chromium: a shift's work from sign-in to wrap-up, a
keyboard-only accept, and a service restart survived without losing a line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
from playwright.async_api import Browser, Page, WebSocketRoute, expect

from app.config import Settings
from app.demo.mode import credentials
from app.tryout import mail
from app.tryout.call import Caller
from tests.helpers import eventually
from tests.web.conftest import Service, Visitor, go_available, sign_in, watched_page

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "console.png"


async def _admin(service: Service) -> dict[str, str]:
    return {"Authorization": f"Bearer {await service.token('admin', 'admin-demo')}"}


async def _contact(service: Service, contact_id: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        answer = await client.get(f"/api/v1/contacts/{contact_id}", headers=await _admin(service))
    assert answer.status_code == 200, answer.text
    contact: dict[str, Any] = answer.json()
    return contact


async def _valued_customer(service: Service) -> dict[str, Any]:
    """A demo customer with an email and a value grade (their pop shows the badges)."""
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        answer = await client.get("/api/v1/customers?limit=200", headers=await _admin(service))
    assert answer.status_code == 200, answer.text
    customers = answer.json()["items"]
    graded = [c for c in customers if c["emails"] and c["value"]["grade"]]
    assert graded, "the demo has graded customers with emails"
    best: dict[str, Any] = max(graded, key=lambda c: c["value"]["lifetime_sales"])
    return best


async def _offer_arrives(page: Page, contact_id: int) -> Any:
    offer = page.locator(f'.offer[data-contact="{contact_id}"]')
    await offer.wait_for()
    return offer


async def test_a_chat_from_offer_to_wrap_up(web_service: Service, browser: Browser) -> None:
    customer = await _valued_customer(web_service)
    visitor = Visitor(web_service)
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await sign_in(page, "li.na")
        await expect(page.locator(".agent-name")).to_have_text("李娜")
        await go_available(page)

        contact_id = await visitor.start(
            name=customer["name"], email=customer["emails"][0], language="zh-CN", widget="support"
        )
        offer = await _offer_arrives(page, contact_id)
        await expect(page.locator("body")).to_have_attribute("data-ringing", "true")
        await expect(offer.locator(".customer-name")).to_have_text(customer["name"])
        await expect(offer.locator(".badge.grade")).to_contain_text(customer["value"]["grade"])
        await expect(offer.locator(".match")).to_contain_text("Matched by email")
        await expect(offer.locator(".countdown")).to_contain_text("s to answer")
        await expect(offer.get_by_role("region", name="History")).to_be_visible()
        await offer.get_by_text("Why was this routed to me?").click()
        await expect(offer.locator(".trace")).to_contain_text("Queue support")
        await expect(offer.locator(".candidates .me")).to_contain_text("you")

        await offer.get_by_role("button", name="Accept").click()
        await expect(page.get_by_role("tab")).to_have_count(1)
        await expect(page.locator("body")).to_have_attribute("data-ringing", "false")
        await visitor.connect()

        await visitor.say("我的订单还没到 — where is my order?")
        transcript = page.get_by_role("log", name="Transcript")
        await expect(transcript).to_contain_text("我的订单还没到 — where is my order?")
        await visitor.typing()
        await expect(page.locator(".typing")).to_have_text("The customer is typing…")

        box = page.get_by_label("Message", exact=True)
        await box.fill("您好，马上为您查询。Checking it now.")
        await box.press("Enter")
        heard = await visitor.heard("您好，马上为您查询。Checking it now.")
        assert heard["author"] == "agent"
        await expect(transcript.locator(".line.agent .status")).to_contain_text("delivered")
        await visitor.say("谢谢 thanks")
        await expect(transcript).to_contain_text("谢谢 thanks")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        await page.get_by_label("Disposition").select_option("resolved")
        await page.get_by_label("Wrap-up note (optional)").fill("已告知物流单号 tracking sent")
        await page.get_by_role("button", name="Finish wrap-up").click()
        await expect(page.get_by_role("tab")).to_have_count(0)
        await visitor.close()

    async def ended() -> dict[str, Any] | None:
        contact = await _contact(web_service, contact_id)
        return contact if contact["state"] == "ended" else None

    contact = await eventually(ended, seconds=30)
    assert contact["disposition"] == "resolved"
    await web_service.set_offline("li.na")


async def test_keyboard_only_in_chinese(web_service: Service, browser: Browser) -> None:
    visitor = Visitor(web_service)
    async with watched_page(browser, web_service.url, "zh-CN") as watched:
        page = watched.page
        await sign_in(page, "chen.jie")
        await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        await page.locator("#agent-state").focus()
        await page.keyboard.press("Home")  # 就绪 (available) is the first choice
        await page.locator('#agent-state[data-state="available"]').wait_for()

        contact_id = await visitor.start(name="张伟", language="zh-CN", widget="support")
        offer = await _offer_arrives(page, contact_id)
        await expect(offer.locator(".customer-name")).to_have_text("未知客户")
        await page.locator("#agent-state").focus()
        for _ in range(10):  # the banner comes right after the top bar in the focus order
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.classList.contains('accept')"):
                break
        else:
            raise AssertionError("Tab never reaches the offer's Accept button")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("tab")).to_have_count(1)
        await visitor.connect()
        await visitor.say("你好")
        await expect(page.get_by_role("log")).to_contain_text("你好")

        await page.get_by_label("消息").focus()
        await page.keyboard.type("您好，请问有什么可以帮您？")
        await page.keyboard.press("Enter")
        await visitor.heard("您好，请问有什么可以帮您？")

        await page.get_by_label("处理结果").focus()
        await page.get_by_label("处理结果").select_option("follow_up_needed")
        await page.keyboard.press("Alt+W")
        await expect(page.get_by_role("tab")).to_have_count(0)
        await visitor.close()
    await web_service.set_offline("chen.jie")


async def test_a_restart_shows_reconnecting_and_loses_no_line(
    web_service: Service, browser: Browser
) -> None:
    visitor = Visitor(web_service)
    async with watched_page(browser, web_service.url, "en-US") as watched:
        # while the service is down the browser reports the refused connections
        watched.allow(r"WebSocket connection to .* failed")
        page = watched.page
        await sign_in(page, "wu.hao")
        await go_available(page)
        contact_id = await visitor.start(name="Lee", language="en", widget="support")
        await (await _offer_arrives(page, contact_id)).get_by_role("button", name="Accept").click()
        await expect(page.get_by_role("tab")).to_have_count(1)
        await visitor.connect()
        await visitor.say("before the restart 重启之前")
        transcript = page.get_by_role("log", name="Transcript")
        await expect(transcript).to_contain_text("before the restart 重启之前")

        await web_service.stop()
        await expect(page.locator(".conn")).to_have_attribute("data-conn", "reconnecting")
        await expect(page.locator(".conn")).to_have_text("Reconnecting…")
        box = page.get_by_label("Message", exact=True)
        await box.fill("written while offline 离线时写的")
        await box.press("Enter")
        await web_service.start()

        await visitor.close()
        await visitor.connect()
        await visitor.say("after the restart 重启之后")
        await expect(page.locator(".conn")).to_have_attribute("data-conn", "online")
        await expect(transcript).to_contain_text("after the restart 重启之后")
        await visitor.heard("written while offline 离线时写的")
        texts = await transcript.locator(".line .text").all_inner_texts()
        customer_lines = [t for t in texts if re.search("restart", t)]
        assert customer_lines == ["before the restart 重启之前", "after the restart 重启之后"]
        assert texts.count("written while offline 离线时写的") == 1
        await expect(transcript.locator(".line.agent .status")).to_contain_text("delivered")

        await page.get_by_label("Disposition").select_option("resolved")
        await page.get_by_role("button", name="Finish wrap-up").click()
        await expect(page.get_by_role("tab")).to_have_count(0)
        await visitor.close()
    await web_service.set_offline("wu.hao")


@pytest.mark.parametrize("app", ["console", "wallboard"])
async def test_pages_carry_a_strict_policy_and_assets_are_cached_for_good(
    web_service: Service, app: str
) -> None:
    async with httpx.AsyncClient(base_url=web_service.url, timeout=10) as client:
        page = await client.get(f"/{app}")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert page.headers["cache-control"] == "no-cache"
        script = re.search(rf'src="(/assets/[0-9a-f]{{12}}/{app}/main\.js)"', page.text)
        assert script is not None, page.text
        asset = await client.get(script.group(1))
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "javascript" in asset.headers["content-type"]
        missing = await client.get(f"/assets/000000000000/{app}/main.js")
        assert missing.status_code == 404


async def test_an_email_and_a_chat_at_once_in_tabs(web_service: Service, browser: Browser) -> None:
    visitor = Visitor(web_service)
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await sign_in(page, "zhang.jing")
        await go_available(page)
        chat_id = await visitor.start(name="赵敏", language="zh-CN", widget="support")
        await (await _offer_arrives(page, chat_id)).get_by_role("button", name="Accept").click()
        await expect(page.get_by_role("tab")).to_have_count(1)

        composed = mail.compose(
            "wang.xm@example.cn",
            "support@example.com",
            "发票抬头错了",
            "发票抬头应为：上海某某有限公司\n谢谢！",
            "gbk",
        )
        with_file = message_from_bytes(composed, policy=default_policy)
        assert isinstance(with_file, EmailMessage)
        with_file.add_attachment(
            b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="发票.pdf"
        )
        raw = with_file.as_bytes()
        await aiosmtplib.send(
            raw,
            sender="wang.xm@example.cn",
            recipients=["support@example.com"],
            hostname="127.0.0.1",
            port=web_service.smtp_port,
        )
        email_offer = page.locator('.offer:has-text("Incoming email")')
        await email_offer.wait_for()
        await email_offer.get_by_role("button", name="Accept").click()
        await expect(page.get_by_role("tab")).to_have_count(2)
        thread = page.get_by_role("list", name="Email thread")
        await expect(thread).to_contain_text("发票抬头应为：上海某某有限公司")
        await expect(thread.locator("a.file")).to_contain_text("发票.pdf")  # a download link
        await page.get_by_label("Reply", exact=True).fill("您好，已为您更正发票抬头。")
        await page.get_by_role("button", name="Send reply").click()
        await expect(thread.locator(".email-message.outbound")).to_contain_text(
            "您好，已为您更正发票抬头。"
        )
        await expect(thread.locator(".email-message.outbound")).to_contain_text("> 发票抬头应为")
        await page.get_by_label("Disposition").select_option("resolved")
        await page.get_by_role("button", name="Finish wrap-up").click()
        await expect(page.get_by_role("tab")).to_have_count(1)

        await page.get_by_role("tab").click()
        await visitor.connect()
        await visitor.say("还在吗？")
        await expect(page.get_by_role("log", name="Transcript")).to_contain_text("还在吗？")
        await page.get_by_label("Disposition").select_option("other")
        await page.get_by_role("button", name="Finish wrap-up").click()
        await expect(page.get_by_role("tab")).to_have_count(0)
        await visitor.close()
    await web_service.set_offline("zhang.jing")


@dataclass
class AgentSocketCutter:
    """Stands between the page and ``/ws/agent``: cuts the socket (as a dropped network
    does) and refuses reconnects until let through; records what the server said."""

    sockets: list[WebSocketRoute] = field(default_factory=list)
    welcomes: list[dict[str, Any]] = field(default_factory=list)
    blocked: bool = False

    async def route(self, page_side: WebSocketRoute) -> None:
        if self.blocked:
            await page_side.close(code=4000, reason="network down")
            return
        server_side = page_side.connect_to_server()

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame["type"] == "welcome":
                self.welcomes.append(frame)
            page_side.send(message)

        server_side.on_message(from_server)
        page_side.on_message(server_side.send)
        self.sockets.append(page_side)

    async def cut(self) -> None:
        self.blocked = True
        await self.sockets[-1].close(code=4000, reason="network down")


async def test_a_dropped_socket_resumes_by_sequence_number(
    web_service: Service, browser: Browser
) -> None:
    visitor = Visitor(web_service)
    cutter = AgentSocketCutter()
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await page.route_web_socket(re.compile(r"/ws/agent$"), cutter.route)
        await sign_in(page, "tom.becker")
        await go_available(page)
        contact_id = await visitor.start(name="Sam", language="en", widget="support")
        await (await _offer_arrives(page, contact_id)).get_by_role("button", name="Accept").click()
        await visitor.connect()
        await visitor.say("first line")
        transcript = page.get_by_role("log", name="Transcript")
        await expect(transcript).to_contain_text("first line")

        await cutter.cut()
        await expect(page.locator(".conn")).to_have_attribute("data-conn", "reconnecting")
        await visitor.say("said while the agent was cut off 断线时说的")
        await visitor.say("and a second line 第二句")
        cutter.blocked = False

        await expect(page.locator(".conn")).to_have_attribute("data-conn", "online")
        await expect(transcript).to_contain_text("and a second line 第二句")
        assert [w["resumed"] for w in cutter.welcomes] == [False, True]
        texts = await transcript.locator(".line.customer .text").all_inner_texts()
        assert texts == [
            "first line",
            "said while the agent was cut off 断线时说的",
            "and a second line 第二句",
        ]
        await page.get_by_label("Disposition").select_option("resolved")
        await page.keyboard.press("Alt+W")
        await expect(page.get_by_role("tab")).to_have_count(0)
        await visitor.close()
    await web_service.set_offline("tom.becker")


async def test_a_signed_twilio_call_pops_and_wraps_up(
    web_service: Service, browser: Browser
) -> None:
    customer = await _customer_with_a_phone(web_service)
    number = customer["phones"][0]["e164"]
    async with (
        watched_page(browser, web_service.url, "en-US") as watched,
        httpx.AsyncClient(timeout=10) as http,
    ):
        page = watched.page
        await sign_in(page, "li.na")
        await go_available(page)
        demo = credentials(Settings(twilio_auth_token=None, twilio_account_sid=None))
        caller = Caller(web_service.url, demo, number, "+864008206611", http)
        await caller.turn(
            f"{web_service.url}/webhooks/twilio/voice", CallStatus="ringing", Direction="inbound"
        )
        offer = page.locator('.offer:has-text("Incoming call")')
        await offer.wait_for()
        await expect(offer.locator(".customer-name")).to_have_text(customer["name"])
        await expect(offer.locator(".match")).to_contain_text("Matched by phone")
        await page.keyboard.press("Alt+A")
        await expect(page.locator(".call h2")).to_contain_text(number)
        await expect(page.get_by_role("timer")).to_contain_text("On the call for")

        watched.allow("502")  # the test's Twilio API is a closed port: the hold is refused
        await page.get_by_role("button", name="Hold", exact=True).click()
        await expect(page.locator(".call [role=alert]")).to_contain_text("did not take the command")
        await expect(page.get_by_role("button", name="Hold", exact=True)).to_have_attribute(
            "aria-pressed", "false"
        )

        await caller.hang_up()
        await expect(page.locator(".call .ended")).to_have_text("The call has ended.")
        await page.get_by_label("Disposition").select_option("callback_promised")
        await page.get_by_role("button", name="Finish wrap-up").click()
        await expect(page.get_by_role("tab")).to_have_count(0)
    await web_service.set_offline("li.na")


async def _customer_with_a_phone(service: Service) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        answer = await client.get("/api/v1/customers?limit=200", headers=await _admin(service))
    phoned = [c for c in answer.json()["items"] if c["phones"]]
    assert phoned, "the demo has customers with phones"
    first: dict[str, Any] = phoned[0]
    return first


async def test_a_reload_keeps_the_conversation(web_service: Service, browser: Browser) -> None:
    visitor = Visitor(web_service)
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await sign_in(page, "priya.sharma")
        await go_available(page)
        contact_id = await visitor.start(name="Ravi", language="en", widget="support")
        await (await _offer_arrives(page, contact_id)).get_by_role("button", name="Accept").click()
        await visitor.connect()
        await visitor.say("hello before the reload")
        await expect(page.get_by_role("log", name="Transcript")).to_contain_text(
            "hello before the reload"
        )

        await page.reload()
        await page.locator('.conn[data-conn="online"]').wait_for()  # still signed in
        await expect(page.get_by_role("tab")).to_have_count(1)
        transcript = page.get_by_role("log", name="Transcript")
        await expect(transcript).to_contain_text("hello before the reload")
        box = page.get_by_label("Message", exact=True)
        await box.fill("still here 还在")
        await box.press("Enter")
        await visitor.heard("still here 还在")
        assert await transcript.locator(".line:not(.system) .text").all_inner_texts() == [
            "hello before the reload",
            "still here 还在",
        ]
        await page.get_by_label("Disposition").select_option("resolved")
        await page.get_by_role("button", name="Finish wrap-up").click()
        await expect(page.get_by_role("tab")).to_have_count(0)
        await visitor.close()
    await web_service.set_offline("priya.sharma")


async def _customer_with_phone(service: Service) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        answer = await client.get("/api/v1/customers?limit=200", headers=await _admin(service))
    assert answer.status_code == 200, answer.text
    with_phone = [c for c in answer.json()["items"] if c["phones"]]
    assert with_phone, "the demo has customers with phones"
    found: dict[str, Any] = with_phone[0]
    return found


async def test_an_unknown_visitor_is_found_linked_and_transferred(
    web_service: Service, browser: Browser
) -> None:
    """An anonymous chat pops as unknown; the agent finds the customer by the phone they
    give, links them (the pop shows them and their history), greets them with a canned
    reply (Alt+C, filtered, Enter), then transfers the chat to sales: it leaves the desktop
    and waits in sales."""
    customer = await _customer_with_phone(web_service)
    visitor = Visitor(web_service)
    async with watched_page(browser, web_service.url, "en-US") as watched:
        page = watched.page
        await sign_in(page, "emma.wilson")
        await go_available(page)
        contact_id = await visitor.start(name="someone", language="en", widget="support")
        offer = await _offer_arrives(page, contact_id)
        await offer.get_by_role("button", name="Accept").click()
        await visitor.connect()

        pane = page.locator(f'.contact[data-contact="{contact_id}"]')
        find = pane.get_by_role("region", name="Find the customer")
        await find.get_by_label("Find by").select_option("phone")
        await find.get_by_label("What the customer tells you").fill(customer["phones"][0]["e164"])
        await find.get_by_role("button", name="Find").click()
        await find.get_by_role("button", name=f"Link {customer['name']} to this contact").click()
        await expect(pane.locator(".customer-name")).to_have_text(customer["name"])
        await expect(pane.locator(".match")).to_contain_text("Linked by an agent")
        linked = await _contact(web_service, contact_id)
        assert linked["customer_id"] == customer["id"]

        box = pane.get_by_label("Message", exact=True)
        await box.focus()
        await page.keyboard.press("Alt+KeyC")
        await pane.get_by_label("Filter replies").fill("hello")
        await pane.get_by_label("Filter replies").press("Enter")
        await expect(box).to_have_value("Hello, thank you for contacting us. How can I help?")
        await box.press("Enter")
        await visitor.heard("Hello, thank you for contacting us. How can I help?")

        transfer = pane.get_by_label("Transfer to queue")
        await expect(transfer.locator('option[value="billing"]')).to_have_count(0)  # no chat
        await transfer.select_option("sales")
        await pane.get_by_role("button", name="Transfer", exact=True).click()
        await expect(page.get_by_text("Transferred.")).to_be_visible()
        await expect(page.get_by_role("tab")).to_have_count(0)
        await visitor.close()

    async with httpx.AsyncClient(base_url=web_service.url, timeout=10) as client:
        queues = await client.get("/api/v1/queues", headers=await _admin(web_service))
    sales = next(q["id"] for q in queues.json()["items"] if q["name"] == "sales")

    async def in_sales() -> dict[str, Any] | None:
        contact = await _contact(web_service, contact_id)
        return contact if contact["queue_id"] == sales else None

    await eventually(in_sales, seconds=30)
    async with httpx.AsyncClient(base_url=web_service.url, timeout=10) as client:
        left = await client.post(
            f"/api/v1/contacts/{contact_id}/abandon", headers=await _admin(web_service)
        )
    assert left.status_code == 200, left.text  # out of line: no later test is offered it
    await web_service.set_offline("emma.wilson")
