"""Every page passes two accessibility audits in both languages, in the states a user sees:
our own (tests/web/audit.js: accessible names, focus order, alt texts, text contrast) and
axe-core's rules (Deque's engine, from the npm registry: ``make install`` puts it in
``.venv/npm``), with no violation of any impact."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from app.demo.loader import ADMIN, SUPERVISOR
from tests.web.conftest import Service, sign_in, watched_page

AUDIT = (Path(__file__).parent / "audit.js").read_text(encoding="utf-8")
AXE = Path(__file__).resolve().parents[2] / ".venv/npm/node_modules/axe-core/axe.min.js"
AGENT = "carlos.mendes"
_AXE_VIOLATIONS = """async () => (await axe.run(document, { resultTypes: ['violations'] }))
    .violations.map((v) => `axe ${v.id} (${v.impact}): ${v.help} at `
        + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; '))"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"axe-core is not installed at {AXE}: `make install` installs it with npm "
            "(.ci/run installs npm when missing)."
        )
    return AXE.read_text(encoding="utf-8") + "\n;0"


async def _audit(page: Page, where: str, axe: str) -> list[str]:
    problems: list[str] = await page.evaluate(AUDIT)
    await page.evaluate(axe)  # evaluated, not a <script>: the pages' CSP allows none inline
    problems += await page.evaluate(_AXE_VIOLATIONS)
    return [f"{where}: {problem}" for problem in problems]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_pages_pass_the_audits(
    web_service: Service, browser: Browser, locale: str, axe_source: str
) -> None:
    found: list[str] = []
    async with watched_page(browser, web_service.url, locale) as watched:
        page = watched.page
        for path in ("/console", "/wallboard", "/admin"):
            await page.goto(path)
            await page.locator("form").wait_for()
            found += await _audit(page, f"{path} sign-in", axe_source)
        await sign_in(page, AGENT)
        found += await _audit(page, "/console", axe_source)
        await page.evaluate("sessionStorage.clear()")
        await sign_in(page, SUPERVISOR.username, SUPERVISOR.password, path="/wallboard")
        await page.locator(".tile").first.wait_for()
        found += await _audit(page, "/wallboard", axe_source)
        await sign_in(page, ADMIN.username, ADMIN.password, path="/admin", ready="#in-force")
        for button in await page.get_by_role("navigation").get_by_role("button").all():
            name = await button.inner_text()
            await button.click()
            await page.locator(".sections .panel").first.wait_for()
            found += await _audit(page, f"/admin {name}", axe_source)
        await page.goto("/demo/shop")
        found += await _audit(page, "/demo/shop", axe_source)
        await page.goto("/widget?entry=default")
        await page.locator("form.pre-chat").wait_for()
        found += await _audit(page, "/widget", axe_source)
    await web_service.set_offline(AGENT)
    assert found == []


async def test_the_audits_find_what_they_look_for(browser: Browser, axe_source: str) -> None:
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
        await page.evaluate(axe_source)
        axe_found = await page.evaluate(_AXE_VIOLATIONS)
    finally:
        await context.close()
    axe_rules = {p.split()[1] for p in axe_found}
    assert {"button-name", "label", "image-alt", "color-contrast", "tabindex"} <= axe_rules
    assert [p.split(":")[0] for p in problems] == [
        "no accessible name",
        "no accessible name",
        "positive tabindex",
        "image without alt",
        "contrast 2.32",
    ]
    assert "nameless" in problems[1]
