"""HTTP and websocket endpoints of the ivr package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["ivr"])
