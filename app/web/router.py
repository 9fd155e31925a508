"""The pages: each is a static HTML file naming the current asset build.

Pages carry a strict Content-Security-Policy (``assets.CONTENT_SECURITY_POLICY``) and are
revalidated on every load; everything they load comes from ``/assets/<build>/``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from app.web.assets import PAGE_HEADERS, PAGES_DIR, STATIC_DIR, ImmutableStaticFiles, build_id

router = APIRouter(include_in_schema=False)

PAGES = {"/console": "console.html", "/wallboard": "wallboard.html"}


def _render(name: str, assets: str) -> str:
    return (PAGES_DIR / name).read_text(encoding="utf-8").replace("{{assets}}", assets)


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request) -> HTMLResponse:
    """The agent desktop (docs/web.md)."""
    html: str = request.app.state.web_pages["/console"]
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get("/wallboard", response_class=HTMLResponse)
async def wallboard(request: Request) -> HTMLResponse:
    """The supervisor wallboard (docs/web.md)."""
    html: str = request.app.state.web_pages["/wallboard"]
    return HTMLResponse(html, headers=PAGE_HEADERS)


def install_web(app: FastAPI) -> None:
    """Mount the assets under their build's prefix and render the pages once."""
    assets = f"/assets/{build_id()}"
    app.mount(assets, ImmutableStaticFiles(directory=STATIC_DIR), name="assets")
    app.state.web_pages = {path: _render(name, assets) for path, name in PAGES.items()}
    app.include_router(router)
