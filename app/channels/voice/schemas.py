"""What providers send us (Twilio forms, CTI events) and what we answer the CTI API with."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

TERMINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
CallStatus = Literal[
    "queued",
    "initiated",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "no-answer",
    "failed",
    "canceled",
]
# A status never goes back: a lower rank arriving late is recorded and otherwise ignored.
STATUS_RANK: dict[str, int] = {
    "queued": 0,
    "initiated": 0,
    "ringing": 1,
    "in-progress": 2,
    **dict.fromkeys(TERMINAL_STATUSES, 3),
}


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return value


WebUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_web_url)]
Sid = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{2,64}$")]


class TwilioCallRef(BaseModel):
    """The call a Twilio request is about. Twilio names parameters in PascalCase and sends an
    empty value for 'none'."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    call_sid: Sid = Field(alias="CallSid")
    account_sid: Sid = Field(alias="AccountSid")

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data


class TwilioCall(TwilioCallRef):
    """``POST /webhooks/twilio/voice``: a call has arrived."""

    caller: str = Field(default="", alias="From", max_length=320)
    called: str = Field(alias="To", min_length=1, max_length=320)
    call_status: CallStatus = Field(default="ringing", alias="CallStatus")
    direction: str | None = Field(default=None, alias="Direction", max_length=32)


class TwilioStatus(TwilioCallRef):
    """``POST /webhooks/twilio/status``: the call moved on."""

    call_status: CallStatus = Field(alias="CallStatus")
    call_duration: int | None = Field(default=None, alias="CallDuration", ge=0, le=10**7)
    recording_url: WebUrl | None = Field(default=None, alias="RecordingUrl")
    sequence_number: int | None = Field(default=None, alias="SequenceNumber", ge=0, le=10**9)


class TwilioRecording(TwilioCallRef):
    """``POST /webhooks/twilio/voicemail``: the ``<Record>`` verb finished."""

    recording_url: WebUrl | None = Field(default=None, alias="RecordingUrl")
    recording_duration: int | None = Field(default=None, alias="RecordingDuration", ge=0, le=10**6)


class TwilioHoldChoice(TwilioCallRef):
    """``POST /webhooks/twilio/hold/choice``: a key pressed on the hold loop's ``<Gather>``."""

    digits: Annotated[str, Field(pattern=r"^[0-9*#]{1,8}$")] | None = Field(
        default=None, alias="Digits"
    )


class TwilioDialEnded(TwilioCallRef):
    """``POST /webhooks/twilio/survey``: the ``<Dial>`` to the agent ended (its action);
    ``completed``: the agent answered and the conversation is over."""

    dial_call_status: str | None = Field(default=None, alias="DialCallStatus", max_length=32)


# ---------------------------------------------------------------- generic CTI

CtiEventType = Literal[
    "call.offered",
    "call.answered",
    "call.held",
    "call.resumed",
    "call.transferred",
    "call.ended",
    "dtmf",
    "recording.ready",
    "call.step_action_taken",
]
STEP_ACTIONS = ("callback", "voicemail")  # what a caller may take while waiting
_DIGITS = re.compile(r"^[0-9*#A-Da-d]{1,64}$")

_CONDITIONAL_REQUIREMENTS: list[dict[str, Any]] = [
    {
        "if": {"properties": {"type": {"const": "call.offered"}}},
        "then": {"required": ["to"], "properties": {"to": {"type": "string", "minLength": 1}}},
    },
    {
        "if": {"properties": {"type": {"const": "dtmf"}}},
        "then": {
            "required": ["data"],
            "properties": {
                "data": {
                    "required": ["digits"],
                    "properties": {"digits": {"type": "string", "pattern": _DIGITS.pattern}},
                }
            },
        },
    },
    {
        "if": {"properties": {"type": {"const": "call.step_action_taken"}}},
        "then": {
            "required": ["data"],
            "properties": {
                "data": {
                    "required": ["action"],
                    "properties": {"action": {"enum": list(STEP_ACTIONS)}},
                }
            },
        },
    },
    {
        "if": {"properties": {"type": {"const": "recording.ready"}}},
        "then": {
            "required": ["data"],
            "properties": {
                "data": {
                    "required": ["url"],
                    "properties": {"url": {"type": "string", "format": "uri"}},
                }
            },
        },
    },
]


_EXAMPLE = {
    "id": "evt-000123",
    "type": "call.offered",
    "call_id": "pbx-call-98765",
    "timestamp": "2025-01-06T09:30:00+08:00",
    "from": "+8613800138000",
    "to": "+864008001234",
    "data": {},
}


def _schema_extra(schema: dict[str, Any]) -> None:
    schema["allOf"] = _CONDITIONAL_REQUIREMENTS
    schema["examples"] = [_EXAMPLE]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"


class CtiEvent(BaseModel):
    """One event of one call, sent by a PBX to ``POST /webhooks/cti/events``."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        title="CtiEvent",
        json_schema_extra=_schema_extra,
    )

    id: str = Field(
        min_length=1,
        max_length=200,
        description="Unique per event. Sending the same id again changes nothing.",
    )
    type: CtiEventType
    call_id: str = Field(
        min_length=1,
        max_length=200,
        description="The PBX's id of the call, the same in every event.",
    )
    timestamp: AwareDatetime = Field(
        description="When it happened at the PBX (ISO 8601 with offset)."
    )
    from_: str | None = Field(
        default=None, alias="from", max_length=320, description="Caller's number (call.offered)."
    )
    to: str | None = Field(
        default=None, max_length=320, description="Dialled number (required by call.offered)."
    )
    data: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Per type: call.ended {duration?: seconds, recording_url?}; dtmf {digits, "
            "sensitive?: bool}; recording.ready {url}; call.transferred {to?}; "
            "call.step_action_taken {action: callback | voicemail}."
        ),
    )

    @model_validator(mode="after")
    def _what_the_type_needs(self) -> Self:
        if self.type == "call.offered" and not self.to:
            raise ValueError("call.offered needs 'to', the dialled number")
        if self.type == "dtmf" and not _DIGITS.match(str(self.data.get("digits", ""))):
            raise ValueError("dtmf needs data.digits (0-9, *, #, A-D)")
        if self.type == "call.step_action_taken" and self.data.get("action") not in STEP_ACTIONS:
            raise ValueError("call.step_action_taken needs data.action (callback or voicemail)")
        if self.type == "recording.ready":
            url = self.data.get("url")
            if not isinstance(url, str):
                raise ValueError("recording.ready needs data.url")
            _web_url(url)
        return self

    @field_validator("data")
    @classmethod
    def _small_data(cls, data: dict[str, Any]) -> dict[str, Any]:
        if len(data) > 50:
            raise ValueError("data has too many keys")
        return data


class CtiAck(BaseModel):
    event_id: str
    contact_id: int | None
    duplicate: bool = Field(description="The event was received before; nothing changed.")
    ignored: str | None = Field(
        default=None, description="Why the event was recorded but not applied (out_of_order)."
    )
    closed_action: str | None = Field(
        default=None,
        description="call.offered to a closed queue: voicemail, callback or message.",
    )
