"""JSON on the hot paths (enqueue, router writes, the supervisor's event tail) via orjson.

The standard library's encoder was a tenth of the service's CPU at 800 contacts/s; orjson
does the same work several times faster. Output is UTF-8 text (like ``ensure_ascii=False``)
and non-string keys become strings, as ``json.dumps`` does.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def loads(text: str | bytes) -> Any:
    return orjson.loads(text)


def decoded(value: Any) -> Any:
    """A json/jsonb value as it comes back: text from the bare driver, already decoded
    through SQLAlchemy's codec."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value
