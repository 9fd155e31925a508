"""The visitor's websocket protocol (``/ws/chat``): one JSON object per text frame.

Every incoming frame is validated here; ``parse_frame`` turns anything malformed into a
``ProtocolError`` with a stable code the widget can act on. Outgoing frames are models too,
so docs/chat.md, the widget and the server agree on one shape.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from app.surveys.schemas import COMMENT_MAX_CHARS
from app.validation import NUL_CODE, NUL_MESSAGE, json_has_nul

ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _Incoming(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Hello(_Incoming):
    type: Literal["hello"]
    session_id: uuid.UUID
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    last_seq: Annotated[int, Field(ge=0)] = 0


class SendMessage(_Incoming):
    type: Literal["message"]
    client_id: ClientId
    text: str  # its length is checked against the settings, with its own error code


class Typing(_Incoming):
    type: Literal["typing"]
    is_typing: bool


class End(_Incoming):
    type: Literal["end"]


class Ping(_Incoming):
    type: Literal["ping"]


class Csat(_Incoming):
    """The visitor's rating, accepted while the survey the ``csat_request`` announced is
    open (after the agent ended the chat)."""

    type: Literal["csat"]
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str | None, StringConstraints(max_length=COMMENT_MAX_CHARS)] = None


AnyVisitorFrame = Hello | SendMessage | Typing | End | Ping | Csat
VisitorFrame = Annotated[AnyVisitorFrame, Field(discriminator="type")]
_FRAME: TypeAdapter[AnyVisitorFrame] = TypeAdapter(VisitorFrame)

# ------------------------------------------------------------------ errors


class ProtocolError(Exception):
    """A frame the server refuses; sent back as an ``error`` frame, the socket stays open."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


def parse_frame(raw: str, max_frame_chars: int) -> AnyVisitorFrame:
    if len(raw) > max_frame_chars:
        raise ProtocolError("message_too_long", "The frame is larger than any valid message.")
    if json_has_nul(raw):
        raise ProtocolError(NUL_CODE, NUL_MESSAGE)
    try:
        return _FRAME.validate_json(raw)
    except ValidationError as exc:
        raise _protocol_error(exc) from None


def _protocol_error(exc: ValidationError) -> ProtocolError:
    first = exc.errors(include_url=False, include_input=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        return ProtocolError("invalid_json", "The frame is not a JSON object.")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return ProtocolError(
            "unknown_type",
            "Unknown message type: expected hello, message, typing, end, ping or csat.",
        )
    where = ".".join(str(part) for part in first["loc"][1:]) or "frame"
    return ProtocolError("invalid_message", f"{where}: {first['msg']}")


# ------------------------------------------------------------------ server -> visitor


class _Outgoing(BaseModel):
    def frame(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Ack(_Outgoing):
    type: Literal["ack"] = "ack"
    client_id: str
    seq: int
    duplicate: bool = False


class AttachmentRef(BaseModel):
    """A file sent in the chat. The visitor downloads it at
    ``GET /api/v1/chat/sessions/{session_id}/attachments/{id}`` (with the session's token),
    an agent at ``GET /api/v1/attachments/{id}``."""

    id: int
    filename: str
    content_type: str = Field(description="As sniffed from the content.")
    size_bytes: int


class MessageFrame(_Outgoing):
    type: Literal["message"] = "message"
    seq: int
    author: Literal["customer", "agent", "system"]
    text: str
    created_at: datetime
    agent_name: str | None = None
    client_id: str | None = None  # the visitor's own id, on the visitor's messages
    event: str | None = None  # on system messages: greeting, closed, ended
    attachment: AttachmentRef | None = None  # a file; ``text`` is then its name


class AgentTyping(_Outgoing):
    type: Literal["typing"] = "typing"
    author: Literal["agent"] = "agent"
    is_typing: bool


class Position(_Outgoing):
    type: Literal["position"] = "position"
    position: int
    expected_wait_seconds: float | None  # None: unknown


class AgentJoined(_Outgoing):
    type: Literal["agent_joined"] = "agent_joined"
    agent_name: str


class Ended(_Outgoing):
    type: Literal["ended"] = "ended"
    by: Literal["visitor", "agent", "system"]


class CsatRequest(_Outgoing):
    """After the agent ended the chat: the visitor may rate it (``csat``) until
    ``expires_at``; the socket stays open until then."""

    type: Literal["csat_request"] = "csat_request"
    expires_at: datetime
    min_score: int = 1
    max_score: int = 5


class CsatRecorded(_Outgoing):
    type: Literal["csat_recorded"] = "csat_recorded"
    score: int


class Pong(_Outgoing):
    type: Literal["pong"] = "pong"


class ErrorFrame(_Outgoing):
    type: Literal["error"] = "error"
    code: str
    message: str
    client_id: str | None = None


def error_frame(error: ProtocolError) -> dict[str, Any]:
    return ErrorFrame(code=error.code, message=error.message, client_id=error.client_id).frame()
