"""What every websocket protocol of ours (agent console, supervisor wallboard) shares."""

from __future__ import annotations

import json

MAX_REF_CHARS = 64


def ref_of(raw: str) -> str | None:
    """The client's ``ref`` of a frame we could not validate, so that the error names it."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) and len(ref) <= MAX_REF_CHARS else None
