"""Small input normalizers shared by the pydantic schemas, and the one check that keeps
NUL characters (which PostgreSQL cannot store in text) out of every input."""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import Path
from pydantic import Field, PlainSerializer, WithJsonSchema

INT4_MAX = 2**31 - 1
"""The largest PostgreSQL ``integer``: an input stored in or compared with such a column is
bounded by it, so an over-large number is a 422 and never reaches the driver."""

Version = Annotated[int, Field(ge=1, le=INT4_MAX)]
"""A document's version number (``integer`` columns)."""
VersionPath = Annotated[int, Path(ge=1, le=INT4_MAX)]
"""The same, as a path parameter."""
INT8_MAX = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=INT8_MAX)]
"""A row's id (``bigint`` identity keys) as a path parameter."""

LocalTime = Annotated[
    time,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "examples": ["09:00"]},
        mode="serialization",
    ),
]
"""A wall-clock time of day without an offset (office hours, quiet hours). JSON Schema's
``time`` format is RFC 3339's, which needs an offset: answers declare a pattern instead."""

NUL_CODE = "invalid_text"
NUL_MESSAGE = "Text may not contain the NUL character (U+0000)."
# ``\u0000`` escaped in JSON, its backslash not itself escaped (an even run before it).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def json_has_nul(raw: str | bytes) -> bool:
    """Whether a JSON document holds a NUL in any string (escaped, or raw, which JSON
    forbids anyway)."""
    data = raw.encode() if isinstance(raw, str) else raw
    return b"\x00" in data or _JSON_NUL.search(data) is not None


def urlencoded_has_nul(raw: bytes) -> bool:
    """Whether a query string, path or form body holds a NUL (``%00`` or a raw byte)."""
    return b"%00" in raw or b"\x00" in raw


def lower_stripped(value: object) -> object:
    """Names are case-insensitive: compare and store them lower-case, trimmed."""
    return value.strip().lower() if isinstance(value, str) else value


@cache
def _time_zones() -> frozenset[str]:
    """The IANA zones of this machine's tz database (a directory walk: read once)."""
    return frozenset(available_timezones())


def known_timezone(value: str) -> str:
    """``value`` if it names an IANA time zone; ValueError otherwise."""
    if value not in _time_zones():
        raise ValueError(f"unknown time zone '{value}'")
    return value
