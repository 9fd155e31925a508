"""HTTP and websocket endpoints of the chat channel."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["chat"])
