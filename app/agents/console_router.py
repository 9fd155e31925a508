"""The agent console: the /ws/agent websocket and the customer 360 endpoints it needs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["agent console"])
