"""Keyset pagination: stable under inserts, and as fast on page 1,000 as on page 1."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from app.errors import InvalidInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "The cursor is not one this API issued.", details={"cursor": cursor}
        ) from exc
    if not isinstance(key, list):
        raise InvalidInput("The cursor is not one this API issued.", details={"cursor": cursor})
    return key


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    cursor: Annotated[str | None, Query(description="From a previous page's next_cursor.")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def cursor_id(params: PageParams) -> int | None:
    """The id a page ordered by id resumes after."""
    if params.cursor is None:
        return None
    key = decode_cursor(params.cursor)
    if len(key) != 1 or not isinstance(key[0], int):
        raise InvalidInput(
            "The cursor is not one this API issued.", details={"cursor": params.cursor}
        )
    return key[0]


def page_by_id(rows: list[T], limit: int, id_of: Any) -> tuple[list[T], str | None]:
    """Split ``limit + 1`` fetched rows into the page and the cursor of the next one."""
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_cursor(id_of(rows[-1]))
    return rows, None
