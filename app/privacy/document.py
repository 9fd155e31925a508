"""The export document's pure parts: rows as JSON objects and the document's framing.

One serializer: every stored row becomes an object of its mapped columns, with the
columns listed in ``WITHHELD`` left out (binary content, secrets) and decimals as strings.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import inspect

FORMAT = "contactd.customer-export/1"

WITHHELD: Mapping[str, frozenset[str]] = {
    "attachments": frozenset({"content"}),  # referenced by ``href`` instead
    "chat_sessions": frozenset({"token_hash"}),  # a secret of the visitor's, not data
}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):  # asyncpg's UUID subclass is not orjson's
        return str(value)
    if isinstance(value, bytes | memoryview):
        raise TypeError("binary columns are withheld or referenced, never inlined")
    raise TypeError(f"not JSON: {type(value).__name__}")


def encode(value: Any) -> bytes:
    """JSON bytes of ``value`` (datetimes ISO 8601, decimals as strings)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def row(obj: Any, **extra: Any) -> dict[str, Any]:
    """An ORM row's mapped columns as a JSON-ready object, plus ``extra`` fields."""
    mapper = inspect(obj).mapper
    withheld = WITHHELD.get(mapper.local_table.name, frozenset())
    values = {
        attribute.key: getattr(obj, attribute.key)
        for attribute in mapper.column_attrs
        if attribute.key not in withheld
    }
    return {**values, **extra}


def attachment_href(attachment_id: int) -> str:
    return f"/api/v1/attachments/{attachment_id}"


def head(customer_id: int, reason: str, generated_at: datetime) -> bytes:
    """The document's opening: ``{`` and its identifying fields, without the closing."""
    fields = {
        "format": FORMAT,
        "customer_id": customer_id,
        "generated_at": generated_at,
        "reason": reason,
    }
    return encode(fields)[:-1]


def field(name: str, value: Any) -> bytes:
    """``,"name":value`` to follow the head or another field."""
    return b"," + encode(name) + b":" + encode(value)


async def array_field(name: str, items: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """``,"name":[...]`` written item by item."""
    yield b"," + encode(name) + b":["
    first = True
    async for item in items:
        yield encode(item) if first else b"," + encode(item)
        first = False
    yield b"]"


END = b"}"
