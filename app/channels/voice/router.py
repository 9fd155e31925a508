"""HTTP and websocket endpoints of the voice channel."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["voice"])
