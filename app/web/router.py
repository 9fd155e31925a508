"""The pages: each is a static HTML file naming the current asset build.

Pages carry a strict Content-Security-Policy (``assets.CONTENT_SECURITY_POLICY``) and are
revalidated on every load; everything they load comes from ``/assets/<build>/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from app.web.assets import PAGE_HEADERS, PAGES_DIR, STATIC_DIR, ImmutableStaticFiles, build_id

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    file: str
    summary: str


PAGES = (
    Page("/console", "console.html", "The agent desktop (docs/web.md)."),
    Page("/wallboard", "wallboard.html", "The supervisor wallboard (docs/web.md)."),
    Page("/admin", "admin.html", "The admin pages: routing documents replayed before publishing."),
)


def _render(name: str, assets: str) -> str:
    return (PAGES_DIR / name).read_text(encoding="utf-8").replace("{{assets}}", assets)


def _serve(page: Page) -> Callable[[Request], Awaitable[HTMLResponse]]:
    async def serve_page(request: Request) -> HTMLResponse:
        html: str = request.app.state.web_pages[page.path]
        return HTMLResponse(html, headers=PAGE_HEADERS)

    return serve_page


for _page in PAGES:
    router.add_api_route(
        _page.path,
        _serve(_page),
        methods=["GET"],
        response_class=HTMLResponse,
        summary=_page.summary,
    )


def install_web(app: FastAPI) -> None:
    """Mount the assets under their build's prefix and render the pages once."""
    assets = f"/assets/{build_id()}"
    app.mount(assets, ImmutableStaticFiles(directory=STATIC_DIR), name="assets")
    app.state.web_pages = {page.path: _render(page.file, assets) for page in PAGES}
    app.include_router(router)
