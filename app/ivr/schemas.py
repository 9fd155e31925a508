"""What the IVR API takes and answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.ivr.engine import CallerInput, CallerValue
from app.ivr.flow import Grade, ValueClass, ValueStatus
from app.validation import Version

FlowName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class FlowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: FlowName
    description: Annotated[str, Field(max_length=500)] = ""
    document: dict[str, Any] = Field(description="The flow (see docs/ivr.md).")
    publish: bool = False


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any]
    comment: Annotated[str, Field(max_length=500)] = ""
    publish: bool = False


class FlowCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any]


class FlowValid(BaseModel):
    valid: bool
    nodes: int
    queues: list[str]
    skills: list[str]


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version | None = Field(
        default=None, description="Default: the version published before the current one."
    )


class FlowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    published_version: int | None
    created_at: datetime


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    comment: str
    created_by: int | None
    created_at: datetime
    published_by: int | None
    published_at: datetime | None
    published: bool = False


class VersionDocument(VersionOut):
    document: dict[str, Any]


class NumberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow_id: Annotated[int, Field(ge=1)]


class NumberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: str
    flow_id: int
    created_at: datetime


class CallerValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: Grade | None = None
    status: ValueStatus | None = None
    vip: bool = False
    value_class: ValueClass = "normal"
    segments: list[Annotated[str, Field(max_length=64)]] = Field(default=[], max_length=50)

    def to_facts(self) -> CallerValue:
        status = self.status or ("graded" if self.grade else "prospect")
        return CallerValue(self.grade, status, self.vip, self.value_class, tuple(self.segments))


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digits: list[Annotated[str, Field(max_length=200)]] = Field(
        default=[],
        max_length=100,
        description="One entry per turn: digits, 'timeout', 'speech:words', 'recording:URL'.",
    )
    version: Version | None = Field(
        default=None, description="Default: the published version (else the latest)."
    )
    caller_number: str | None = "+8613800000000"
    customer_known: bool = False
    value: CallerValueIn | None = Field(
        default=None, description="The caller's value (a known customer); default a prospect."
    )
    customer_language: str | None = None
    at: datetime | None = Field(default=None, description="The time to assume (default: now).")
    lookups: bool = Field(default=True, description="Perform HTTP lookups (else they fail).")


class CtiIvrIn(BaseModel):
    """``POST /webhooks/cti/ivr``: start a call's flow (no ``run``) or answer its last turn."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    call_id: Annotated[str, Field(min_length=1, max_length=200)]
    from_: Annotated[str, Field(max_length=320)] | None = Field(default=None, alias="from")
    to: Annotated[str, Field(max_length=320)] | None = None
    run: uuid.UUID | None = None
    turn: Annotated[int, Field(ge=0)] | None = None
    input: CallerInput | None = None


class OrderStatus(BaseModel):
    order_no: str
    status: str
    status_zh: str
    eta: str
