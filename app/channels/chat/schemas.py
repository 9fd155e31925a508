"""HTTP bodies of the chat channel: the widget's session start and the agent's endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.channels.chat.protocol import AttachmentRef, ClientId
from app.customers.identity import InvalidEmail, normalize_email
from app.validation import known_timezone


def valid_email(value: str) -> str:
    """The normalized address; a ValueError (a 422 from pydantic) for a bad one."""
    try:
        return normalize_email(value)
    except InvalidEmail as exc:
        raise ValueError("not a valid email address") from exc


Language = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class SessionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "王小明",
                    "email": "wang.xm@example.cn",
                    "language": "zh-CN",
                    "page_url": "https://shop.example.cn/orders/58213",
                    "widget": "default",
                }
            ]
        },
    )

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] | None = None
    language: Language | None = None
    page_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = (
        None
    )
    widget: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)
    ] = "default"

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str | None) -> str | None:
        return valid_email(value) if value else None

    @field_validator("page_url")
    @classmethod
    def _web_page(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value


class SessionCreated(BaseModel):
    session_id: uuid.UUID
    token: str = Field(description="Shown once: send it in the websocket's hello. Never stored.")
    contact_id: int
    position: int | None = Field(
        description="Place in line (1 = next); 0 once an agent is being connected; "
        "null when the router cannot tell right now."
    )
    expected_wait_seconds: float | None
    closed_action: Literal["voicemail", "callback", "message"] | None = Field(
        default=None,
        description="Set when the queue is closed: the session is already ended.",
    )
    ended: bool = False


class AgentMessageIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "您好，请问有什么可以帮您？"}]}
    )

    text: Annotated[str, StringConstraints(min_length=1)]
    client_id: ClientId | None = Field(
        default=None, description="Resending the same client_id stores the message once."
    )


class TypingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_typing: bool


class MessageOut(BaseModel):
    seq: int
    direction: Literal["inbound", "outbound"]
    author: Literal["customer", "agent", "system"]
    text: str
    agent_id: int | None
    agent_name: str | None
    event: str | None = Field(description="On system messages: greeting, closed or ended.")
    created_at: datetime
    attachment: AttachmentRef | None = Field(
        default=None, description="A file sent in the chat; ``text`` is its name."
    )


class ChatEndOut(BaseModel):
    contact_id: int
    ended_at: datetime
    ended_by: Literal["visitor", "agent", "system"]
    routing: Literal["end", "abandon", "none"] = Field(
        description="What was asked of routing: end the assigned contact, take it out of line, "
        "or nothing (the chat had already ended)."
    )


class PurgeRequest(BaseModel):
    """Which waiting chats a supervisor takes out of line as spam."""

    model_config = ConfigDict(extra="forbid")
    widget: str = Field(min_length=1, max_length=64)
    anonymous_only: bool = Field(
        default=True, description="Only visitors who gave no email (the usual spam)."
    )
    started_after: datetime | None = Field(
        default=None, description="Only chats started at or after this time."
    )


class PurgeResult(BaseModel):
    ended: list[int] = Field(description="The contacts taken out of line, oldest first.")


class TranscriptRequest(BaseModel):
    """Where to mail the chat's transcript, and in which time zone to show its times."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"email": "wang.xm@example.cn", "time_zone": "Asia/Shanghai"}]
        },
    )

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    time_zone: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="IANA name (the browser's); unset: the service's time zone."
    )

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return valid_email(value)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else known_timezone(value)


class TranscriptQueued(BaseModel):
    email: str
    requested_at: datetime
    duplicate: bool = Field(description="Asked before for this address: nothing new is sent.")
