"""HTTP and websocket endpoints of the supervisor package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["supervisor"])
