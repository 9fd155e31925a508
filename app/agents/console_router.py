"""The agent console: the /ws/agent websocket."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from app.agents.connection import serve

router = APIRouter(tags=["agent console"])


@router.websocket("/ws/agent")
async def agent_console(websocket: WebSocket) -> None:
    """The agent console protocol: see docs/agent-console.md. The JWT comes in the first
    frame (``hello``), never in the URL."""
    await serve(websocket, websocket.app.state.console)
