"""The chat widget in Chromium: embedded in the demo shop by its one script tag, a
visitor's chat from the pre-chat form to an agent's desktop and back in Chinese and
English, typing both ways, the chat surviving a reload of the shop's page, the end of the
chat with its rating, and the frame filling a phone's screen."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Browser, FrameLocator, Page, expect

from tests.web.conftest import Service, go_available, sign_in, watched_page

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "widget.png"
AGENT = "emma.wilson"


def _widget(shop: Page) -> FrameLocator:
    return shop.frame_locator("iframe.contactd-widget-frame")


async def _started(agent: Page, shop: Page, name: str, email: str) -> FrameLocator:
    """The agent signed in and available; the visitor's chat started from the shop."""
    await sign_in(agent, AGENT)
    await go_available(agent)
    await shop.goto("/demo/shop")
    await shop.get_by_role("button", name="在线客服").click()
    widget = _widget(shop)
    await widget.get_by_label("您的称呼").fill(name)
    await widget.get_by_label("邮箱（选填）").fill(email)
    await widget.get_by_role("button", name="开始咨询").click()
    return widget


async def test_a_chat_from_the_shop_to_the_desktop_and_back(
    web_service: Service, browser: Browser
) -> None:
    async with (
        watched_page(browser, web_service.url, "en-US") as desk,
        watched_page(browser, web_service.url, "zh-CN") as customer,
    ):
        agent, shop = desk.page, customer.page
        widget = await _started(agent, shop, "王小明 Xiao Ming", "wang.xiaoming@example.cn")
        await expect(widget.locator(".conn")).to_have_text("已连接")

        offer = agent.locator(".offer")
        await expect(offer.locator(".customer-name")).to_have_text("王小明 Xiao Ming")
        await offer.get_by_role("button", name="Accept").click()
        await expect(widget.locator(".joined")).to_have_text("客服 Emma Wilson 已为您服务。")

        box = widget.get_by_label("输入消息")
        await box.fill("我的包什么时候到？When will my bag arrive?")
        await box.press("Enter")
        transcript = agent.get_by_role("log", name="Transcript")
        await expect(transcript).to_contain_text("我的包什么时候到？When will my bag arrive?")
        await expect(widget.locator(".message.pending")).to_have_count(0)

        reply = agent.get_by_label("Message", exact=True)
        await reply.press_sequentially("明天")
        await expect(widget.locator(".typing")).to_have_text("Emma Wilson 正在输入…")
        await reply.fill("明天送达。It arrives tomorrow.")
        await reply.press("Enter")
        answer = widget.locator(".message.agent")
        await expect(answer).to_contain_text("明天送达。It arrives tomorrow.")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await shop.screenshot(path=str(SCREENSHOT))

        await shop.reload()
        widget = _widget(shop)  # reopened by itself, the same chat resumed
        await expect(widget.locator(".message.customer")).to_contain_text("我的包什么时候到")
        await expect(widget.locator(".message.agent")).to_contain_text("明天送达")
        await widget.get_by_label("输入消息").fill("好的，谢谢 thanks")
        await widget.get_by_label("输入消息").press("Enter")
        await expect(transcript).to_contain_text("好的，谢谢 thanks")

        await agent.get_by_label("Disposition").select_option("resolved")
        await agent.get_by_role("button", name="Finish wrap-up").click()
        await expect(widget.get_by_text("会话已结束。")).to_be_visible()
        await widget.get_by_role("button", name="5 · 非常满意").click()  # the CSAT survey
        await expect(widget.locator(".survey-thanks")).to_have_text("感谢您的评价！")
        await widget.get_by_role("button", name="重新咨询").click()
        await expect(widget.get_by_label("您的称呼")).to_be_visible()
    await web_service.set_offline(AGENT)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


async def test_files_both_ways_and_the_transcript_by_email(
    web_service: Service, browser: Browser
) -> None:
    async with (
        watched_page(browser, web_service.url, "en-US") as desk,
        watched_page(browser, web_service.url, "zh-CN") as customer,
    ):
        agent, shop = desk.page, customer.page
        widget = await _started(agent, shop, "李文件", "li.wenjian@example.cn")
        await agent.locator(".offer").get_by_role("button", name="Accept").click()
        await expect(widget.locator(".joined")).to_be_visible()

        await expect(widget.get_by_role("button", name="发送文件")).to_be_visible()
        await widget.locator("#widget-file").set_input_files(
            {"name": "发票.png", "mimeType": "image/png", "buffer": PNG}
        )
        transcript = agent.get_by_role("log", name="Transcript")
        await expect(transcript.get_by_role("link", name="Download 发票.png")).to_be_visible()
        await expect(widget.get_by_role("link", name="下载 发票.png")).to_be_visible()

        customer.allow("415")  # the refused file's answer, shown in the widget
        await widget.locator("#widget-file").set_input_files(
            {"name": "photo.png", "mimeType": "image/png", "buffer": b"MZ\x90\x00" + bytes(64)}
        )
        await expect(widget.get_by_role("alert")).to_contain_text("无法发送此类文件")

        await agent.locator("input[type=file][id^=chat-file-]").set_input_files(
            {"name": "退货说明.txt", "mimeType": "text/plain", "buffer": "七天内可退货".encode()}
        )
        await expect(widget.get_by_role("link", name="下载 退货说明.txt")).to_be_visible()

        await widget.get_by_text("将聊天记录发到我的邮箱").click()
        await expect(widget.get_by_label("您的邮箱")).to_have_value("li.wenjian@example.cn")
        await widget.get_by_role("button", name="发送聊天记录").click()
        await expect(widget.get_by_text("聊天记录已发往 li.wenjian@example.cn。")).to_be_visible()

        await agent.get_by_label("Disposition").select_option("resolved")
        await agent.get_by_role("button", name="Finish wrap-up").click()
        await expect(widget.get_by_text("会话已结束。")).to_be_visible()
    await web_service.set_offline(AGENT)


async def test_the_widget_fills_a_phone_and_minimizes(
    web_service: Service, browser: Browser
) -> None:
    context = await browser.new_context(
        base_url=web_service.url, viewport={"width": 390, "height": 844}, locale="en-US"
    )
    try:
        shop = await context.new_page()
        await shop.goto("/demo/shop")
        bubble = shop.get_by_role("button", name="在线客服")
        await bubble.click()
        frame = shop.locator("iframe.contactd-widget-frame")
        await expect(frame).to_be_visible()
        box = await frame.bounding_box()
        assert box is not None
        assert (box["width"], box["height"]) == (390, 844)
        await _widget(shop).get_by_role("button", name="收起聊天窗口").click()
        await expect(frame).to_be_hidden()
        await expect(bubble).to_have_attribute("aria-expanded", "false")
    finally:
        await context.close()


async def test_the_frame_may_be_embedded_and_the_loader_keeps_its_address(
    web_service: Service,
) -> None:
    async with httpx.AsyncClient(base_url=web_service.url, timeout=10) as client:
        frame = await client.get("/widget")
        loader = await client.get("/widget.js")
        desk = await client.get("/console")
    assert "frame-ancestors *" in frame.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in desk.headers["content-security-policy"]
    assert loader.headers["content-type"].startswith("text/javascript")
    assert loader.headers["cache-control"] == "public, max-age=300"
    assert "contactd-widget-frame" in loader.text
