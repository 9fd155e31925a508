"""Every page passes the in-page accessibility audit (tests/web/audit.js: accessible names,
focus order, alt texts, text contrast) in both languages, in the states a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from app.demo.loader import ADMIN, SUPERVISOR
from tests.web.conftest import Service, sign_in, watched_page

AUDIT = (Path(__file__).parent / "audit.js").read_text(encoding="utf-8")
AGENT = "carlos.mendes"


async def _audit(page: Page, where: str) -> list[str]:
    problems: list[str] = await page.evaluate(AUDIT)
    return [f"{where}: {problem}" for problem in problems]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_pages_pass_the_audit(
    web_service: Service, browser: Browser, locale: str
) -> None:
    found: list[str] = []
    async with watched_page(browser, web_service.url, locale) as watched:
        page = watched.page
        for path in ("/console", "/wallboard", "/admin"):
            await page.goto(path)
            await page.locator("form").wait_for()
            found += await _audit(page, f"{path} sign-in")
        await sign_in(page, AGENT)
        found += await _audit(page, "/console")
        await page.evaluate("sessionStorage.clear()")
        await sign_in(page, SUPERVISOR.username, SUPERVISOR.password, path="/wallboard")
        await page.locator(".tile").first.wait_for()
        found += await _audit(page, "/wallboard")
        await sign_in(page, ADMIN.username, ADMIN.password, path="/admin", ready="#in-force")
        for button in await page.get_by_role("navigation").get_by_role("button").all():
            name = await button.inner_text()
            await button.click()
            await page.locator(".sections .panel").first.wait_for()
            found += await _audit(page, f"/admin {name}")
        await page.goto("/demo/shop")
        found += await _audit(page, "/demo/shop")
        await page.goto("/widget?entry=default")
        await page.locator("form.pre-chat").wait_for()
        found += await _audit(page, "/widget")
    await web_service.set_offline(AGENT)
    assert found == []


async def test_the_audit_finds_what_it_looks_for(browser: Browser) -> None:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.set_content(
            """<main>
              <button></button>
              <label for="named">Name</label><input id="named">
              <input id="nameless">
              <a href="#" tabindex="3">jump</a>
              <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
              <p style="color:#aaa;background:#fff">faint text</p>
              <p style="color:#767676;background:#fff">just enough</p>
              <h1 style="color:#949494;background:#fff;font-size:24px">large faint</h1>
            </main>"""
        )
        problems = await page.evaluate(AUDIT)
    finally:
        await context.close()
    assert [p.split(":")[0] for p in problems] == [
        "no accessible name",
        "no accessible name",
        "positive tabindex",
        "image without alt",
        "contrast 2.32",
    ]
    assert "nameless" in problems[1]
