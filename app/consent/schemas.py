"""Consent in the API: what is read back, and what agents and supervisors write."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.consent.core import Channel, Purpose, Reason, StatusOrUnknown, TouchPurpose
from app.validation import LocalTime, known_timezone

Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Form = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[str, StringConstraints(max_length=2000)]


class Evidence(BaseModel):
    """Why we know: the contact it was said in, the form it was given on, free text."""

    model_config = ConfigDict(extra="forbid")

    source: Source = Field(description="Who or what recorded it: agent, web_form, import, ...")
    contact_id: int | None = None
    form: Form | None = None
    note: Note | None = None


class ConsentIn(Evidence):
    """``PUT /consent``: one channel × purpose. Repeating the current status records
    nothing; ``unknown`` forgets it (decisions then treat it as never asked)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"channel": "email", "purpose": "marketing", "status": "refused", "source": "agent"}
            ]
        },
    )

    channel: Channel
    purpose: Purpose
    status: StatusOrUnknown

    @model_validator(mode="after")
    def _recording_is_voice(self) -> ConsentIn:
        if self.purpose == "call_recording" and self.channel != "voice":
            raise ValueError("call_recording consent exists for the voice channel only")
        return self


class PreferencesIn(Evidence):
    """``PUT /contact-preferences``: the do-not-contact flag and/or the time zone (an IANA
    name; ``null`` forgets it). A field left out keeps what is stored."""

    do_not_contact: bool | None = None
    time_zone: Annotated[str, StringConstraints(max_length=64)] | None = None

    @model_validator(mode="after")
    def _known_zone(self) -> PreferencesIn:
        if self.time_zone is not None:
            known_timezone(self.time_zone)
        return self


class ConsentState(BaseModel):
    channel: str
    purpose: str
    status: str  # granted | refused | unknown
    source: str | None = None
    recorded_at: datetime | None = None
    contact_id: int | None = None
    form: str | None = None


class HistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    channel: str | None
    purpose: str | None
    status: str
    source: str
    contact_id: int | None
    form: str | None
    note: str | None
    actor_id: int | None
    recorded_at: datetime


class QuietHoursOut(BaseModel):
    start: LocalTime
    end: LocalTime
    time_zone: str
    channels: list[str]


class ConsentOut(BaseModel):
    customer_id: int
    do_not_contact: bool
    time_zone: str | None = Field(description="The customer's own; None: derived (see quiet_hours)")
    consents: list[ConsentState]
    quiet_hours: QuietHoursOut
    history: list[HistoryEntry]


class ConsentFlags(BaseModel):
    """What the screen-pop shows the agent before they speak."""

    do_not_contact: bool = False
    refused: list[str] = Field(default=[], description="channel/purpose pairs: voice/marketing")


class SuppressionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    purpose: str
    reason: str | None
    next_allowed_at: datetime | None
    origin: str
    ref: str | None
    occurred_at: datetime


class SuppressionCount(BaseModel):
    reason: Reason
    channel: Channel
    purpose: TouchPurpose
    origin: str
    count: int


class SuppressionReport(BaseModel):
    since: datetime
    until: datetime
    total: int
    rows: list[SuppressionCount]
