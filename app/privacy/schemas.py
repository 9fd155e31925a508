"""Request and answer bodies of the data-subject rights endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ErasureRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "GDPR Art. 17 request, ticket 4711"}]},
    )

    reason: Reason


class ErasureOut(BaseModel):
    """What was erased: rows changed or deleted per kind of data, and how many events of
    the append-only log with free text or digits stay (their kinds are in docs/privacy.md)."""

    customer_id: int
    erased_at: datetime
    erased: dict[str, int]
    retained_events: dict[str, int]
