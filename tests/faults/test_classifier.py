"""Which errors mean "the database is unavailable for now" (``app.resilience.faults``)."""

from __future__ import annotations

import errno
import socket

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from app.resilience.faults import database_unavailable


def _raised_from(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as caught:
            raise outer from caught
    except Exception as wrapped:
        return wrapped


def _wrapped_by_sqlalchemy(inner: Exception, *, invalidated: bool = False) -> Exception:
    return sa_exc.DBAPIError("SELECT 1", None, inner, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        OSError(errno.ENETUNREACH, "Network is unreachable"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CrashShutdownError("terminating connection because of crash of another"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
    ],
    ids=type,
)
def test_unavailable_errors_alone_and_wrapped(error: Exception) -> None:
    assert database_unavailable(error)
    assert database_unavailable(_raised_from(sa_exc.OperationalError("x", None, error), error))
    assert database_unavailable(_raised_from(RuntimeError("rollback failed"), error))


def test_an_invalidated_connection_is_unavailable_whatever_the_driver_said() -> None:
    assert database_unavailable(_wrapped_by_sqlalchemy(Exception("?"), invalidated=True))


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.DataError("invalid input syntax for type integer"),
        OSError(errno.ENOENT, "No such file or directory"),
        TimeoutError(),
        ValueError("not a database error"),
    ],
    ids=type,
)
def test_other_errors_are_not_unavailability(error: Exception) -> None:
    assert not database_unavailable(error)
    assert not database_unavailable(_wrapped_by_sqlalchemy(error))


def test_a_cycle_of_causes_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert not database_unavailable(first)
