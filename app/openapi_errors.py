"""Every error status an operation can answer, declared in the OpenAPI document.

The statuses follow from what an operation is, read off the document FastAPI generates,
not from lists kept by hand beside each route: one rule a status (``error_statuses``),
applied to every operation once (``install_error_responses``). A status an operation
declares itself, with its own description, is kept.

| status | declared on | because |
|---|---|---|
| 400, 413 | operations with a body | a body that does not parse; one over the size limit |
| 401, 403 | signed-in operations, webhooks | no or a bad token or signature; a role that may not |
| 404 | a path parameter, or a parameter ``…_id`` | what it names does not exist, or is not yours |
| 409 | writes (POST, PUT, PATCH, DELETE) | a duplicate, or a state that does not allow it |
| 415 | webhooks, and bodies other than JSON | a body of another media type |
| 422 | operations with parameters or a body | input that does not validate |
| 503 | the API and the webhooks | the database (or the router) does not answer for now |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

WRITES = frozenset({"post", "put", "patch", "delete"})
ERROR_SCHEMA = "ErrorBody"


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


DESCRIPTIONS = {
    400: "The body does not parse.",
    401: "Not signed in, or the token or signature is not valid.",
    403: "Signed in, but this role may not do it.",
    404: "Not found.",
    409: "Conflicts with the current state (a duplicate, or a state that does not allow it).",
    413: "The body is too large.",
    415: "The body is not of the media type this operation reads.",
    422: "The input does not validate.",
    503: "Unavailable for now; retry after `Retry-After`.",
}


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, by the rules of the module's table."""
    webhook = path.startswith("/webhooks/")
    content = operation.get("requestBody", {}).get("content", {})
    has_body = bool(content) or (webhook and method in WRITES)
    statuses = set()
    if path.startswith(("/api/", "/webhooks/")):
        statuses.add(503)
    if operation.get("parameters") or has_body:
        statuses.add(422)
    if has_body:
        statuses |= {400, 413}
    if operation.get("security") or webhook:
        statuses |= {401, 403}
    names = [p.get("name", "") for p in operation.get("parameters", ())]
    if "{" in path or any(name.endswith("_id") for name in names):
        statuses.add(404)
    if method in WRITES:
        statuses.add(409)
    if has_body and (webhook or set(content) - {"application/json"}):
        statuses.add(415)
    return statuses


def with_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every operation's error statuses declared (in place)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas[ERROR_SCHEMA] = body
    answer = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(path, method, operation)):
                responses.setdefault(
                    str(status), {"description": DESCRIPTIONS[status], "content": answer}
                )
    return document


def install_error_responses(app: FastAPI) -> None:
    """Build ``app``'s OpenAPI document with every error status declared."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_responses(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
