"""The admin pages at /admin in Chromium: a routing draft compared with the version in
force, replayed against the demo's last week (fidelity first, the draft as a difference),
published only once replayed as it stands, refused when another version was published
meanwhile, rolled back; a supervisor may replay but not publish."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from app.demo.loader import ADMIN, SUPERVISOR
from tests.web.conftest import Service, demo_service, sign_in, watched_page

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "admin-routing.png"
CONFIG = "/api/v1/routing/config"


@pytest.fixture(scope="module")
async def admin_service(database_url: str) -> AsyncIterator[Service]:
    """A demo center of its own: these tests publish routing versions."""
    async with demo_service(database_url, "admin") as service:
        yield service


async def _in_force(service: Service) -> dict[str, Any]:
    async with await service.client(ADMIN.username, ADMIN.password) as client:
        answer = await client.get(CONFIG)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def _open(page: Page, username: str, password: str) -> None:
    await sign_in(page, username, password, path="/admin", ready="#in-force")


async def _edit_draft(page: Page, boost: float) -> None:
    """Change support's priority boost in the draft, keeping the rest as it is."""
    draft = page.locator("textarea#draft")
    text = await draft.evaluate(
        """(el, boost) => {
            const document = JSON.parse(el.value);
            document.queues.support.priority_boost_per_minute = boost;
            return JSON.stringify(document, null, 2);
        }""",
        boost,
    )
    await draft.fill(text)


def _button(page: Page, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


async def test_a_draft_is_replayed_before_it_is_published(
    admin_service: Service, browser: Browser
) -> None:
    before = await _in_force(admin_service)
    async with watched_page(browser, admin_service.url, "en-US") as watched:
        page = watched.page
        await _open(page, ADMIN.username, ADMIN.password)
        await expect(page.locator("#in-force")).to_have_text(
            f"In force: version {before['version']}"
        )
        await expect(page.get_by_text("The draft is the version in force.")).to_be_visible()

        await _edit_draft(page, 7)
        diff = page.locator("pre.diff")
        await expect(diff.locator(".add")).to_contain_text('"priority_boost_per_minute": 7')
        publish = _button(page, "Publish")
        await expect(publish).to_be_disabled()

        await page.locator('input[data-queue="support"]').fill("2")
        await _button(page, "Replay the draft").click()
        report = page.locator(".report")
        await expect(report.locator(".fidelity")).to_be_visible()
        support = report.locator('.group[data-group="Queue support"]')
        await expect(support.get_by_role("columnheader", name="Draft − replayed")).to_be_visible()
        await expect(support.locator('tr[data-metric="offered"] td').first).not_to_have_text("–")
        await expect(support).to_contain_text("Erlang C")
        await expect(publish).to_be_enabled()
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

        await _edit_draft(page, 8)  # the replay no longer shows the draft as it stands
        await expect(publish).to_be_disabled()
        await _button(page, "Replay the draft").click()
        await expect(publish).to_be_enabled()
        await page.get_by_label("Comment for the version history").fill("support boost 8")
        await publish.click()

        published = before["version"] + 1
        await expect(page.locator("#in-force")).to_have_text(f"In force: version {published}")
        await expect(page.locator(".message.ok")).to_have_text(
            f"Version {published} is published and in force."
        )
        await expect(page.get_by_text("The draft is the version in force.")).to_be_visible()
        row = page.locator(f'table.versions tr[data-version="{published}"]')
        await expect(row).to_contain_text("support boost 8")
        now = await _in_force(admin_service)
        assert now["version"] == published
        assert now["document"]["queues"]["support"]["priority_boost_per_minute"] == 8

        await _button(page, f"Roll back to version {before['version']}").click()
        await _button(page, f"Confirm: version {before['version']} back in force").click()
        await expect(page.locator("#in-force")).to_have_text(f"In force: version {published + 1}")
        rolled = await _in_force(admin_service)
        assert rolled["document"] == before["document"]


async def test_publishing_over_a_newer_version_is_refused(
    admin_service: Service, browser: Browser
) -> None:
    async with watched_page(browser, admin_service.url, "zh-CN") as watched:
        watched.allow("409")  # the browser logs the refused publish
        page = watched.page
        await _open(page, ADMIN.username, ADMIN.password)
        seen = await _in_force(admin_service)
        await expect(page.locator("#in-force")).to_have_text(f"当前生效：第 {seen['version']} 版")
        await _edit_draft(page, 4)
        await _button(page, "回放草稿").click()
        await expect(page.locator(".report .fidelity")).to_be_visible()
        async with await admin_service.client(ADMIN.username, ADMIN.password) as client:
            other = await client.put(
                CONFIG, json={"document": seen["document"], "comment": "meanwhile"}
            )
        assert other.status_code == 201, other.text

        await _button(page, "发布").click()

        latest = seen["version"] + 1
        await expect(page.get_by_role("alert")).to_contain_text(f"已发布第 {latest} 版")
        await expect(page.locator("#in-force")).to_have_text(f"当前生效：第 {latest} 版")
        assert (await _in_force(admin_service))["version"] == latest


async def test_a_supervisor_replays_but_cannot_publish(
    admin_service: Service, browser: Browser
) -> None:
    async with watched_page(browser, admin_service.url, "en-US") as watched:
        page = watched.page
        await _open(page, SUPERVISOR.username, SUPERVISOR.password)
        await expect(page.get_by_text("Only an admin can publish or roll back.")).to_be_visible()
        await _button(page, "Replay the draft").click()
        await expect(page.locator(".report .fidelity")).to_be_visible()
        await expect(_button(page, "Publish")).to_be_disabled()
        await expect(page.get_by_role("button", name=re.compile("Roll back"))).to_have_count(0)
        words = await page.evaluate(
            """async () => {
                const { keys } = await import(document.querySelector('script[type=module]')
                    .src.replace('main.js', 'i18n.js'));
                return [keys('en').sort(), keys('zh-CN').sort()];
            }"""
        )
        assert words[0] == words[1], json.dumps(words, ensure_ascii=False)


async def test_a_section_that_fails_to_load_says_why_and_retries(
    admin_service: Service, browser: Browser
) -> None:
    unavailable = {
        "error": {"code": "database_unavailable", "message": "Database away.", "details": {}}
    }
    async with watched_page(browser, admin_service.url, "en-US") as watched:
        page = watched.page
        watched.allow("503")
        await page.route(
            f"**{CONFIG}",
            lambda route: route.fulfill(status=503, json=unavailable),
        )
        await sign_in(page, ADMIN.username, ADMIN.password, path="/admin", ready="[role=alert]")
        await expect(page.get_by_role("alert")).to_contain_text("Database away.")
        await expect(page.locator("p.loading")).to_have_count(0)
        await page.unroute(f"**{CONFIG}")
        await _button(page, "Try again").click()
        await page.locator("#in-force").wait_for()
        await expect(page.get_by_role("alert")).to_have_count(0)


async def _section(page: Page, name: str) -> None:
    await page.get_by_role("navigation").get_by_role("button", name=name, exact=True).click()


async def test_the_lists_create_and_edit_through_the_api(
    admin_service: Service, browser: Browser
) -> None:
    """A skill, a queue needing it (then its target changed), an agent given it, a user, a
    canned reply added and removed, a chat entry point; a queue naming an unknown skill is
    refused and nothing stored."""
    async with watched_page(browser, admin_service.url, "en-US") as watched:
        watched.allow("422")  # the refused queue
        page = watched.page
        await _open(page, ADMIN.username, ADMIN.password)

        await _section(page, "Skills")
        await _button(page, "New").click()
        await page.get_by_label("Name", exact=True).fill("hokkien")
        await page.get_by_label("Kind").select_option("language")
        await page.get_by_label("Description").fill("闽南语 Hokkien")
        await _button(page, "Create").click()
        await expect(page.locator("table.rows")).to_contain_text("闽南语 Hokkien")

        await _section(page, "Queues")
        await _button(page, "New").click()
        await page.get_by_label("Name", exact=True).fill("returns")
        await page.get_by_label("Display name").fill("Returns 退换货")
        await page.get_by_label("Chat").check()
        await page.get_by_label("Required skills (skill:level)").fill("nosuch:2")
        await _button(page, "Create").click()
        await expect(page.get_by_role("alert")).to_contain_text("nosuch")
        await page.get_by_label("Required skills (skill:level)").fill("hokkien:2")
        await _button(page, "Create").click()
        row = page.locator("table.rows tr", has_text="Returns 退换货")
        await expect(row).to_contain_text("chat, voice")
        await expect(row).to_contain_text("hokkien:2")
        await page.get_by_role("button", name="Edit returns").click()
        await page.get_by_label("SL target %").fill("90")
        await _button(page, "Save").click()
        await expect(page.locator(".message.ok")).to_have_text("Saved.")
        await expect(row.locator("td").nth(4)).to_have_text("90")

        await _section(page, "Agents' skills")
        await page.get_by_role("button", name="Edit wang.wei").click()
        await page.get_by_label("Skills (skill:level)").fill("support:3, hokkien:4")
        await _button(page, "Save").click()
        await expect(page.locator("table.rows tr", has_text="wang.wei")).to_contain_text(
            "hokkien:4"
        )

        await _section(page, "Users and roles")
        await _button(page, "New").click()
        await page.get_by_label("Username").fill("he.xin")
        await page.get_by_label("Display name").fill("何欣")
        await page.get_by_label("Password").fill("password-he-xin")
        await page.get_by_label("Capacity (channel:count)").fill("chat:2, voice:1")
        await _button(page, "Create").click()
        await expect(page.locator("table.rows tr", has_text="he.xin")).to_contain_text("何欣")

        await _section(page, "Canned replies")
        await _button(page, "New").click()
        await page.get_by_label("Shortcut").fill("returns")
        await page.get_by_label("Team").fill("support-cn")
        await page.get_by_label("Title").fill("退货 Returns")
        await page.get_by_label("Text").fill("七天无理由退货，请保留吊牌。")
        await _button(page, "Create").click()
        await expect(page.locator("table.rows")).to_contain_text("七天无理由退货")
        await page.get_by_role("button", name="Remove returns").click()
        await page.get_by_role("button", name="Confirm: remove returns").click()
        await expect(page.locator(".message.ok")).to_have_text("Removed.")
        await expect(page.locator("table.rows")).not_to_contain_text("七天无理由退货")

        await _section(page, "Entry points")
        await _button(page, "New").click()
        await page.get_by_label("Address").fill("returns-widget")
        await page.get_by_label("Queue").fill("returns")
        await _button(page, "Create").click()
        await expect(page.locator("table.rows")).to_contain_text("returns-widget")

    async with await admin_service.client(ADMIN.username, ADMIN.password) as client:
        queues = (await client.get("/api/v1/queues?limit=200")).json()["items"]
        users = (await client.get("/api/v1/users?limit=200")).json()["items"]
    (returns,) = [q for q in queues if q["name"] == "returns"]
    assert returns["sl_target_percent"] == 90
    assert returns["required_skills"] == [{"skill": "hokkien", "level": 2}]
    assert not [q for q in queues if q["name"] != "returns" and "nosuch" in str(q)]
    (he_xin,) = [u for u in users if u["username"] == "he.xin"]
    assert (he_xin["role"], he_xin["capacity"]) == ("agent", {"chat": 2, "voice": 1})
    assert await admin_service.token("he.xin", "password-he-xin")


async def test_ivr_dry_run_versions_and_reason_codes(
    admin_service: Service, browser: Browser
) -> None:
    async with watched_page(browser, admin_service.url, "zh-CN") as watched:
        page = watched.page
        await _open(page, ADMIN.username, ADMIN.password)

        await _section(page, "IVR 流程")
        await expect(page.get_by_text(re.compile(r"已发布第 \d+ 版"))).to_be_visible()
        await page.get_by_label("来电者输入，每个提示一项").fill("2 2")  # 普通话, then support
        await _button(page, "运行").click()
        result = page.locator(".dry-result")
        await expect(result.locator(".outcome")).to_contain_text("队列 support")
        await expect(result.locator(".outcome")).to_contain_text("语言 zh-CN")
        await expect(result).to_contain_text("来电者按 2")
        await page.get_by_label("版本说明").fill("同样的流程")
        await _button(page, "保存为新版本").click()
        saved = page.locator(".message.ok")
        await expect(saved).to_contain_text("已保存（未发布）")
        version = re.search(r"第 (\d+) 版", await saved.inner_text())
        assert version is not None
        await _button(page, f"发布第 {version[1]} 版").click()
        await expect(page.get_by_text(f"已发布第 {version[1]} 版").first).to_be_visible()

        await _section(page, "原因代码")
        await page.get_by_label("新原因代码").fill("coaching")
        await _button(page, "添加").click()
        await page.get_by_role("button", name="删除 training").click()
        await _button(page, "发布").click()
        await expect(page.locator(".message.ok")).to_contain_text("已发布并生效")
        await expect(page.locator('li[data-reason="coaching"]')).to_be_visible()

    reasons = (await _in_force(admin_service))["document"]["not_ready_reasons"]
    assert "coaching" in reasons
    assert "training" not in reasons
