"""The pages: each is a static HTML file naming the current asset build.

Pages carry a strict Content-Security-Policy (``assets.CONTENT_SECURITY_POLICY``) and are
revalidated on every load; everything they load comes from ``/assets/<build>/``. The chat
widget's page (``/widget``) is the one page other sites may frame: its ``frame-ancestors``
are the allowed origins (``CONTACTD_ALLOWED_ORIGINS``; any site when none is set). The
widget's loader (``/widget.js``) keeps one address for every build, since shops embed it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from app.web.assets import (
    CONTENT_SECURITY_POLICY,
    PAGE_HEADERS,
    PAGES_DIR,
    STATIC_DIR,
    ImmutableStaticFiles,
    build_id,
)

router = APIRouter(include_in_schema=False)

LOADER = STATIC_DIR / "widget" / "loader.js"
LOADER_HEADERS = {
    "Content-Type": "text/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=300",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    file: str
    summary: str
    embeddable: bool = False  # other sites may frame it
    embeds_widget: bool = False  # it frames the chat widget (/widget, this origin)


PAGES = (
    Page("/console", "console.html", "The agent desktop (docs/web.md)."),
    Page("/wallboard", "wallboard.html", "The supervisor wallboard (docs/web.md)."),
    Page("/admin", "admin.html", "The admin pages (docs/web.md)."),
    Page("/widget", "widget.html", "The chat widget's frame (docs/web.md).", embeddable=True),
    Page("/demo/shop", "shop.html", "A demo shop embedding the chat widget.", embeds_widget=True),
)


def _render(name: str, assets: str) -> str:
    return (PAGES_DIR / name).read_text(encoding="utf-8").replace("{{assets}}", assets)


def framed_headers(origins: frozenset[str] | None) -> dict[str, str]:
    """A page's headers when the ``origins`` (None: any site) may frame it."""
    ancestors = "*" if origins is None else " ".join(["'self'", *sorted(origins)])
    policy = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {ancestors}"
    )
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


def page_headers(page: Page, origins: frozenset[str] | None) -> dict[str, str]:
    if page.embeddable:
        return framed_headers(origins)
    if page.embeds_widget:
        policy = f"{CONTENT_SECURITY_POLICY}; frame-src 'self'"
        return {**PAGE_HEADERS, "Content-Security-Policy": policy}
    return PAGE_HEADERS


def _serve(page: Page) -> Callable[[Request], Awaitable[HTMLResponse]]:
    async def serve_page(request: Request) -> HTMLResponse:
        html, headers = request.app.state.web_pages[page.path]
        return HTMLResponse(html, headers=headers)

    return serve_page


for _page in PAGES:
    router.add_api_route(
        _page.path,
        _serve(_page),
        methods=["GET"],
        response_class=HTMLResponse,
        summary=_page.summary,
    )


@router.get("/widget.js")
async def widget_loader(request: Request) -> Response:
    """The script a site embeds to show the chat bubble (docs/web.md)."""
    return Response(request.app.state.widget_loader, headers=LOADER_HEADERS)


def install_web(app: FastAPI) -> None:
    """Mount the assets under their build's prefix and render the pages once."""
    assets = f"/assets/{build_id()}"
    app.mount(assets, ImmutableStaticFiles(directory=STATIC_DIR), name="assets")
    origins = app.state.settings.origins
    app.state.web_pages = {
        page.path: (_render(page.file, assets), page_headers(page, origins)) for page in PAGES
    }
    app.state.widget_loader = LOADER.read_bytes()
    app.include_router(router)
