"""Telling "the database is unavailable for now" apart from every other database error.

An unavailable database is nobody's mistake and passes by itself: a request that meets it
is answered 503 with ``Retry-After`` (see ``app.errors``), and a long-lived connection that
meets it reopens itself (see ``app.resilience.reconnect``). Any other error is a bug or a
bad value and keeps its own answer.

``database_unavailable`` is pure: it only looks at the exception and the ones it was raised
from (``__cause__``, ``__context__``), since SQLAlchemy, asyncpg and our own rollbacks each
wrap the error they met. Unavailable means any of:

* the server refused, reset or dropped the connection: ``ConnectionError``, an ``OSError``
  of a network errno, a name that does not resolve (``socket.gaierror``);
* asyncpg found the connection gone: ``InterfaceError`` (its "connection is closed"), the
  class 08 errors (``ConnectionDoesNotExistError``, ``ConnectionFailureError``, ...);
* the server is going away or not there yet: ``AdminShutdownError`` (what
  ``pg_terminate_backend`` and a fast shutdown send), ``CrashShutdownError``,
  ``CannotConnectNowError`` (starting up, or in recovery), ``TooManyConnectionsError``;
* SQLAlchemy invalidated the connection (``DBAPIError.connection_invalidated``) or waited
  in vain for a pooled one (``sqlalchemy.exc.TimeoutError``).

A statement cancelled by ``statement_timeout`` (``QueryCanceledError``) is not among them:
the same request would take as long again.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import asyncpg
from sqlalchemy import exc as sa_exc

RETRY_AFTER_SECONDS = 2
"""What a 503 for an unavailable database tells the client to wait before trying again: a
terminated connection is replaced at once, and a restarting server takes a few seconds."""

UNAVAILABLE_CODE = "database_unavailable"
"""The error code of whatever the database could not store or read for now: an HTTP 503,
or an ``error`` frame on a socket (nothing stored; send it again, the same way)."""

NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
        errno.ENOTCONN,
    }
)

UNAVAILABLE_DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, nearest first."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _unavailable_here(exc: BaseException) -> bool:
    if isinstance(exc, (*UNAVAILABLE_DRIVER_ERRORS, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated)
    if isinstance(exc, ConnectionError | socket.gaierror):
        return True
    return isinstance(exc, OSError) and exc.errno in NETWORK_ERRNOS


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached for now (see the module)."""
    return any(_unavailable_here(link) for link in causes(exc))
