"""What the entry-point API and CLI accept and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from app.queues.schemas import QueueName

EntryChannel = Literal["voice", "email", "chat"]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
Language = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*$")
]
Greeting = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
WIDGET_KEY = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class EntryPointCreate(BaseModel):
    """A new entry point. ``address`` is read by ``channel``: a phone number as people write
    it (stored E.164), a mailbox address (stored lower-case) or a widget key."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"channel": "voice", "address": "+86 400 820 6611", "queue": "support"},
                {"channel": "email", "address": "support@example.com", "queue": "support"},
                {"channel": "chat", "address": "support", "queue": "support"},
            ]
        }
    )

    channel: EntryChannel
    address: Address
    queue: QueueName
    language: Language = "zh-CN"
    greeting: Greeting | None = None


class EntryPointUpdate(BaseModel):
    """Fields to change; ``greeting: null`` removes the greeting."""

    address: Address | None = None
    queue: QueueName | None = None
    language: Language | None = None
    greeting: Greeting | None = None


class EntryPointOut(BaseModel):
    id: int
    channel: EntryChannel
    address: str
    queue: str
    language: str
    greeting: str | None
    created_at: datetime
