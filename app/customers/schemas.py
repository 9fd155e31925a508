from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.customers.value.schemas import CustomerValueOut

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class Consent(BaseModel):
    """What the customer agreed to. Unset means not asked, which counts as no."""

    call_recording: bool | None = None
    marketing_email: bool | None = None
    marketing_sms: bool | None = None
    data_processing: bool | None = None


class PhoneOut(BaseModel):
    e164: str
    extension: str | None = None
    label: str | None = None


class CustomerCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "王小明",
                    "phones": ["138 0013 8000", "+86 10 6552 9988"],
                    "emails": ["Wang.XM@example.cn"],
                    "language": "zh-CN",
                    "tags": ["enterprise"],
                    "consent": {"call_recording": True, "marketing_email": False},
                }
            ]
        }
    )

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    phones: Annotated[list[str], Field(max_length=10)] = []
    emails: Annotated[list[str], Field(max_length=10)] = []
    language: Language | None = None
    birthday: date | None = None
    tags: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=50)
    ] = []
    attributes: dict[str, Any] = {}
    consent: Consent = Consent()


class CustomerUpdate(BaseModel):
    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    phones: Annotated[list[str], Field(max_length=10)] | None = None
    emails: Annotated[list[str], Field(max_length=10)] | None = None
    language: Language | None = None
    birthday: date | None = None
    tags: list[str] | None = None
    attributes: dict[str, Any] | None = None
    consent: Consent | None = None


class CustomerOut(BaseModel):
    id: int
    name: str
    phones: list[PhoneOut]
    emails: list[str]
    language: str | None
    birthday: date | None = None
    tags: list[str]
    attributes: dict[str, Any]
    consent: Consent
    value: CustomerValueOut = CustomerValueOut()
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = None  # set: personal data erased, the row is a tombstone
