"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Handlers here turn our own errors, FastAPI's validation errors, Starlette's HTTP errors,
integrity violations and anything unexpected into that shape, so a client never sees a
stack trace or an HTML page.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.resilience.faults import RETRY_AFTER_SECONDS, UNAVAILABLE_CODE, database_unavailable

log = structlog.get_logger(__name__)


class AppError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class NotFound(AppError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(AppError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Unauthorized(AppError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "unauthorized"


class Forbidden(AppError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class TooManyRequests(AppError):
    """429 with ``Retry-After``: the client may try again after ``retry_after`` seconds."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, details={"retry_after": int(retry_after) + 1}, code=code)
        self.retry_after = int(retry_after) + 1


class InvalidInput(AppError):
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    code = "invalid_input"


class PayloadTooLarge(AppError):
    status_code = status.HTTP_413_CONTENT_TOO_LARGE
    code = "payload_too_large"


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(error_body(code, message, details)),
        status_code=status_code,
        headers=headers,
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type")}
        for err in exc.errors()
    ]
    return error_response(422, "invalid_input", "The request is not valid.", details)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return error_response(exc.status_code, code, message, None, dict(exc.headers or {}))


def _data_exception(exc: BaseException) -> asyncpg.DataError | None:
    """The driver's data exception (SQLSTATE class 22, or a value it cannot encode, such as
    an integer beyond ``bigint``) behind a database error, if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, asyncpg.DataError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database is unavailable for now (``app.resilience.faults``): 503 with
    ``Retry-After``, nothing stored (the unit of work rolled back). A value the database
    cannot take came from the request (every bound value does): the client's to fix, 422.
    Any other database error is unexpected.

    Registered for SQLAlchemy's errors, asyncpg's (the hot paths use the driver directly)
    and ``OSError`` (a connection refused before any driver wrapped it)."""
    if database_unavailable(exc):
        return database_unavailable_response(request, exc)
    if _data_exception(exc) is None:
        return await _unexpected_error(request, exc)
    log.warning("value_refused_by_database", path=request.url.path)  # never the value
    return error_response(
        422, "invalid_value", "A value is out of the range or form the service stores."
    )


def database_unavailable_response(request: Request, exc: BaseException) -> JSONResponse:
    """503 ``database_unavailable`` with ``Retry-After``: try again in a few seconds."""
    log.warning("database_unavailable", path=request.url.path, error_type=type(exc).__name__)
    return error_response(
        503,
        UNAVAILABLE_CODE,
        "The database does not answer for now; try again later.",
        {"retry_after": RETRY_AFTER_SECONDS},
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """500, logged; unless the database was unavailable underneath (503, see above)."""
    if database_unavailable(exc):
        return database_unavailable_response(request, exc)
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for database_error in (
        DBAPIError,
        PoolTimeout,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        OSError,
    ):
        app.add_exception_handler(database_error, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
