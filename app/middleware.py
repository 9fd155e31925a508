"""ASGI middleware: a request id on every request and log line, a body size limit, NUL
characters refused in every text input, the web origins allowed, and a cap on the
websockets one address holds open before they authenticate."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from app.errors import PayloadTooLarge, error_response
from app.ratelimit.service import client_address
from app.validation import NUL_CODE, NUL_MESSAGE, json_has_nul, urlencoded_has_nul

log = structlog.get_logger("contactd.request")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _ConnectionMiddleware:
    """A middleware for HTTP requests and websockets; lifespan events pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestIdMiddleware(_ConnectionMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_code = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http":
                _observe_webhook(scope, status_code, time.perf_counter() - started)
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status_code,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.clear_contextvars()


def _observe_webhook(scope: Scope, status_code: int, seconds: float) -> None:
    """Webhook latency by route template (never the raw path: ids would explode labels)."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    app = scope.get("app")
    telemetry = getattr(getattr(app, "state", None), "telemetry", None)
    if telemetry is None or not isinstance(template, str) or not template.startswith("/webhooks"):
        return
    telemetry.webhook.labels(template, str(status_code)).observe(seconds)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None


UPLOAD_PATHS = re.compile(r"^/api/v1/(chat/sessions/[^/]+|contacts/[^/]+)/attachments$")
"""The file uploads (chat attachments): their bodies may be as large as a file plus its
multipart framing, and one too large is an ``attachment_too_large``."""
MULTIPART_OVERHEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class _BodyLimit:
    max_bytes: int
    code: str


class BodySizeLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413 before the endpoint stores anything; the
    uploads of ``UPLOAD_PATHS`` may have ``upload_bytes`` (and a margin for the framing)."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None) -> None:
        self.app = app
        self.default = _BodyLimit(max_bytes, "payload_too_large")
        upload = max(max_bytes, (upload_bytes or 0) + MULTIPART_OVERHEAD_BYTES)
        self.upload = _BodyLimit(upload, "attachment_too_large")

    def _limit(self, scope: Scope) -> _BodyLimit:
        return self.upload if UPLOAD_PATHS.match(scope.get("path", "")) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await self._refuse(limit, scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    raise PayloadTooLarge(_too_large(limit), code=limit.code)
            return message

        await self.app(scope, counting_receive, send)

    async def _refuse(self, limit: _BodyLimit, scope: Scope, receive: Receive, send: Send) -> None:
        details = {"max_bytes": limit.max_bytes}
        response = error_response(413, limit.code, _too_large(limit), details)
        await response(scope, receive, send)


def _too_large(limit: _BodyLimit) -> str:
    return f"The request body is larger than {limit.max_bytes} bytes."


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


_TEXT_BODIES = {
    b"application/json": json_has_nul,
    b"application/x-www-form-urlencoded": urlencoded_has_nul,
}


class NulRejectMiddleware(_ConnectionMiddleware):
    """422 ``invalid_text`` for a NUL character in the path, the query string, or a JSON or
    form body, before any endpoint runs: PostgreSQL cannot store it in text, so it would
    otherwise fail deep in a unit of work. Websocket frames use the same checks
    (``app.validation``). Other bodies (multipart, raw MIME) pass untouched."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if urlencoded_has_nul(target):
            await self._refuse(scope, receive, send)
            return
        check = _TEXT_BODIES.get(_media_type(scope)) if scope["type"] == "http" else None
        if check is None:
            await self.app(scope, receive, send)
            return
        body, replay = await _read_body(receive)
        if check(body):
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await error_response(422, NUL_CODE, NUL_MESSAGE)(scope, receive, send)


def _media_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


CHAT_API_PREFIX = "/api/v1/chat/"


class OriginMiddleware(_ConnectionMiddleware):
    """The web origins allowed to use the service from a browser (``origins``; None: any).

    * A websocket whose handshake carries an ``Origin`` not allowed is refused (HTTP 403)
      before any endpoint runs: ``/ws/chat``, ``/ws/agent`` and ``/ws/supervisor`` alike.
      Clients that send no ``Origin`` (not browsers) are not concerned.
    * The chat API (``/api/v1/chat/...``, what the widget calls from the shop's page)
      answers CORS preflights and carries CORS headers for the allowed origins.
    """

    def __init__(self, app: ASGIApp, origins: frozenset[str] | None) -> None:
        super().__init__(app)
        self.origins = origins
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"] if origins is None else sorted(origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["content-type", "x-request-id"],
            max_age=3600,
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            origin = _header(scope, b"origin")
            if origin is not None and not self._allowed(origin):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).startswith(CHAT_API_PREFIX):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, origin: str) -> bool:
        return self.origins is None or origin.rstrip("/").lower() in self.origins


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


_RELEASE_KEY = "contactd.unauthenticated_release"
CLOSE_TRY_AGAIN_LATER = 1013


class UnauthenticatedSocketMiddleware(_ConnectionMiddleware):
    """At most ``per_address`` websockets of one client address (``forwarded_for_header``
    as ``app.ratelimit.service.client_address`` reads it) may be open and not yet
    authenticated on this instance; one more is refused at the handshake (close 1013, try
    again later). An endpoint calls ``authenticated(websocket)`` once the socket's hello
    is accepted, so signed-in consoles behind one office address are never counted."""

    def __init__(self, app: ASGIApp, per_address: int, forwarded_for_header: str | None) -> None:
        super().__init__(app)
        self.per_address = per_address
        self.header = forwarded_for_header
        self.pending: Counter[str] = Counter()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        address = client_address(HTTPConnection(scope), self.header)
        if self.pending[address] >= self.per_address:
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
            return
        self.pending[address] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.pending[address] -= 1
                if self.pending[address] <= 0:
                    del self.pending[address]

        scope[_RELEASE_KEY] = release
        try:
            await self.app(scope, receive, send)
        finally:
            release()


def authenticated(websocket: WebSocket) -> None:
    """The socket said a valid hello: it no longer counts against its address's cap."""
    release: Callable[[], None] | None = websocket.scope.get(_RELEASE_KEY)
    if release is not None:
        release()
