"""HTTP and websocket endpoints of the email channel."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["email"])
