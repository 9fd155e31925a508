"""The API against its own OpenAPI document, by schemathesis: generated requests to every
operation, signed in as an admin, a supervisor and an agent, on a real ``contactd serve
--demo`` (a database of its own). No answer may be a server error, carry a status the
operation does not declare, or break the schema it declares.

The number of examples per operation is bounded (``EXAMPLES``) to keep the suite short;
``CONTACTD_SCHEMA_EXAMPLES`` raises it for a deeper run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app.demo.loader import ADMIN, AGENT_PASSWORD, AGENTS, SUPERVISOR
from tests.web.conftest import Service, demo_service

EXAMPLES = int(os.environ.get("CONTACTD_SCHEMA_EXAMPLES", "5"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
ROLES = {
    "admin": (ADMIN.username, ADMIN.password),
    "supervisor": (SUPERVISOR.username, SUPERVISOR.password),
    "agent": (AGENTS[-1].username, AGENT_PASSWORD),
}


@pytest.fixture(scope="session")
async def api_service(database_url: str) -> AsyncIterator[Service]:
    async with demo_service(database_url, "schema") as service:
        yield service


@pytest.fixture(scope="session")
async def role_headers(api_service: Service) -> dict[str, dict[str, str]]:
    """Each role's headers, signed in before any generated request can lock an account."""
    headers = {}
    async with httpx.AsyncClient(base_url=api_service.url, timeout=10) as client:
        for role, (username, password) in ROLES.items():
            answer = await client.post(
                "/api/v1/auth/token", data={"username": username, "password": password}
            )
            assert answer.status_code == 200, answer.text
            headers[role] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return headers


@pytest.fixture(scope="session")
def api_schema(api_service: Service) -> Any:
    return schemathesis.openapi.from_url(f"{api_service.url}/openapi.json")


GENERATION = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure is reproducible
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _runner(operation: Any, headers: dict[str, str], called: set[str]) -> Any:
    """The generated-cases test of one operation; records it in ``called`` once it runs."""

    @GENERATION
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        called.add(operation.label)
        case.call_and_validate(headers=headers, checks=CHECKS)

    return run


def _failures(api_schema: Any, headers: dict[str, str]) -> tuple[list[str], set[str]]:
    """Every operation run through its generated cases: what failed (a line each) and the
    operations that were called at least once."""
    failures: list[str] = []
    called: set[str] = set()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        try:
            _runner(operation, headers, called)()
        except Exception as failure:
            failures.append(f"{operation.label}: {str(failure).strip()[:2000]}")
    return failures, called


@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_answers_as_it_declares(
    api_schema: Any, role_headers: dict[str, dict[str, str]], role: str
) -> None:
    failures, called = _failures(api_schema, role_headers[role])
    assert not failures, "\n\n".join(failures)
    assert len(called) > 100  # every operation of the document (123 when written)
