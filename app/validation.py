"""Small input normalizers shared by the pydantic schemas."""

from __future__ import annotations


def lower_stripped(value: object) -> object:
    """Names are case-insensitive: compare and store them lower-case, trimmed."""
    return value.strip().lower() if isinstance(value, str) else value
