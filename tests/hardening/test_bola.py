"""Object-level authorization (BOLA): one team's agent reads nothing of another team's
customers, contacts, recordings, attachments, orders or cases, and every refusal is in the
audit log.

How ownership is defined (``app.contacts.access``, ``app.customers.access``,
``app.cases.access``; docs/agent-console.md, "Authorization"): customers carry no team. A
team (``users.team``) is the agents who handle contacts; an **agent** reaches

* a contact (its transcript, email, attachments, place in line) by being its agent:
  offered to them, assigned, in their wrap-up, or handled by them;
* a customer (history with recordings, orders, consent, suppressions, cases) through a
  contact of that customer they hold now or handled within 30 days;
* a case by owning it, or through its customer as above.

Serving the same queue grants nothing more. So team A's objects are what team A's agent
handles, and team B's agent, who handled none of it, must get 403 (or 404) for each, while
team A's agent gets it (the same URL, so the refusal is about the object, not the route).

The read endpoints are enumerated from the OpenAPI document: every ``GET`` with a path
parameter must be classified below (``OWNED``, ``STAFF_ONLY``, ``SHARED``, ``NO_DATA``), so
a new one fails ``test_every_read_endpoint_with_an_id_is_classified`` until it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.channels.models import Attachment, Message
from app.contacts.access import holds_contact
from app.contacts.models import Contact
from app.main import create_app
from app.users.models import User
from tests.channels.chat.conftest import Desk
from tests.conftest import make_settings

# Reads of team data (filled with the owning team's ids): path -> the action audited.
OWNED: dict[str, str] = {
    "/api/v1/customers/{customer_id}/history": "history",
    "/api/v1/customers/{customer_id}/consent": "consent",
    "/api/v1/customers/{customer_id}/suppressions": "suppressions",
    "/api/v1/customers/{customer_id}/orders": "orders",
    "/api/v1/contacts/{contact_id}/messages": "transcript",
    "/api/v1/contacts/{contact_id}/email-messages": "email",
    "/api/v1/contacts/{contact_id}/position": "position",
    "/api/v1/attachments/{attachment_id}": "attachment",
    "/api/v1/cases/{case_id}": "case",
    "/api/v1/cases/{case_id}/timeline": "case_timeline",
    "/api/v1/contacts/{contact_id}/csat": "csat",
}
# What the owner gets where it is not 200: the live chat has no survey yet, so its agent is
# told so (404 ``no_survey``) after the access check that refuses the other team first.
OWN_STATUS: dict[str, int] = {"/api/v1/contacts/{contact_id}/csat": 404}
# Reads no agent makes at all (a supervisor's or an admin's): 403 for the role, audited.
STAFF_ONLY: set[str] = {
    "/api/v1/users/{user_id}",
    "/api/v1/agents/{agent_id}",
    "/api/v1/customers/{customer_id}",
    "/api/v1/customers/{customer_id}/export",
    "/api/v1/customers/{customer_id}/value/changes",
    "/api/v1/customers/{customer_id}/care-touches",
    "/api/v1/contacts/{contact_id}",
    "/api/v1/contacts/{contact_id}/routing",
    "/api/v1/routing/queues/{queue}/waiting",
    "/api/v1/routing/config/versions/{version}",
    "/api/v1/entry-points/{entry_point_id}",
    "/api/v1/ivr/flows/{flow_id}",
    "/api/v1/ivr/flows/{flow_id}/versions",
    "/api/v1/ivr/flows/{flow_id}/versions/{version}",
    "/api/v1/ivr/flows/{flow_id}/metrics",
    "/api/v1/outbound/calls/{call_id}",
}
# Configuration every agent's console reads, of no team and no customer.
SHARED: set[str] = {"/api/v1/skills/{skill_id}", "/api/v1/queues/{queue_id}"}
# Holds no stored data: the demo order system's made-up statuses.
NO_DATA: set[str] = {"/api/v1/ivr/demo/order-status/{order_no}"}
# Reached with a signed token sent to the customer, not with a user's sign-in.
# (The chat visitor's: the session's token as the bearer; tests/channels/chat/test_files.py.)
BY_TOKEN: set[str] = {
    "/csat/{token}",
    "/api/v1/chat/sessions/{session_id}/attachments/{attachment_id}",
}
BY_TOKEN_WRITES: set[tuple[str, str]] = {
    ("POST", "/csat/{token}"),
    ("POST", "/api/v1/chat/sessions/{session_id}/attachments"),
    ("POST", "/api/v1/chat/sessions/{session_id}/transcript"),
}


# Changes an agent makes to what they hold: (method, path) -> a valid body (validation
# comes after authorization only for the role, so the body must pass for the object check).
OWNED_WRITES: dict[tuple[str, str], dict[str, Any] | None] = {
    ("POST", "/api/v1/contacts/{contact_id}/messages"): {"text": "hello from another team"},
    ("POST", "/api/v1/contacts/{contact_id}/typing"): {"is_typing": True},
    ("POST", "/api/v1/contacts/{contact_id}/attachments"): None,  # a file: UPLOADS
    ("POST", "/api/v1/contacts/{contact_id}/chat/end"): None,
    ("POST", "/api/v1/contacts/{contact_id}/email-replies"): {"body": "hello"},
    ("POST", "/api/v1/contacts/{contact_id}/accept"): None,
    ("POST", "/api/v1/contacts/{contact_id}/reject"): None,
    ("POST", "/api/v1/contacts/{contact_id}/end"): None,
    ("POST", "/api/v1/contacts/{contact_id}/transfer"): {"to_queue": "support"},
    ("POST", "/api/v1/contacts/{contact_id}/call/hold"): None,
    ("POST", "/api/v1/contacts/{contact_id}/call/resume"): None,
    ("POST", "/api/v1/customers/links/{contact_id}"): {"customer_id": 1},
    ("POST", "/api/v1/customers/from-contact/{contact_id}"): {},
    ("PUT", "/api/v1/customers/{customer_id}/consent"): {
        "channel": "email",
        "purpose": "marketing",
        "status": "refused",
        "source": "agent",
    },
    ("PUT", "/api/v1/customers/{customer_id}/contact-preferences"): {
        "do_not_contact": True,
        "source": "agent",
    },
    ("PATCH", "/api/v1/cases/{case_id}"): {"priority": "high"},
    ("POST", "/api/v1/cases/{case_id}/notes"): {"body": "noted"},
    ("POST", "/api/v1/cases/{case_id}/contacts"): {"contact_id": 1},
}
# The multipart bodies of the OWNED_WRITES that take a file.
UPLOADS: dict[tuple[str, str], dict[str, tuple[str, bytes, str]]] = {
    ("POST", "/api/v1/contacts/{contact_id}/attachments"): {
        "file": ("报价单.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")
    },
}
# Changes only a supervisor or an admin makes: 403 for the role, audited.
STAFF_WRITES: set[tuple[str, str]] = {
    ("PATCH", "/api/v1/users/{user_id}"),
    ("PUT", "/api/v1/agents/{agent_id}/skills"),
    ("PUT", "/api/v1/agents/{agent_id}/state"),
    ("PATCH", "/api/v1/skills/{skill_id}"),
    ("PATCH", "/api/v1/queues/{queue_id}"),
    ("PATCH", "/api/v1/customers/{customer_id}"),
    ("POST", "/api/v1/customers/{customer_id}/merge"),
    ("POST", "/api/v1/customers/{customer_id}/erase"),
    ("PUT", "/api/v1/customers/{customer_id}/block"),
    ("DELETE", "/api/v1/customers/{customer_id}/block"),
    ("POST", "/api/v1/customers/{customer_id}/orders"),
    ("PUT", "/api/v1/care/rules/{key}"),
    ("PATCH", "/api/v1/contacts/{contact_id}/routing"),
    ("POST", "/api/v1/contacts/{contact_id}/abandon"),
    ("POST", "/api/v1/contacts/{contact_id}/callback"),
    ("POST", "/api/v1/contacts/{contact_id}/assign"),
    ("POST", "/api/v1/contacts/{contact_id}/call/listen"),
    ("POST", "/api/v1/contacts/{contact_id}/call/whisper"),
    ("POST", "/api/v1/contacts/{contact_id}/call/barge"),
    ("POST", "/api/v1/contacts/{contact_id}/call/stop_monitoring"),
    ("POST", "/api/v1/routing/config/versions/{version}/rollback"),
    ("PATCH", "/api/v1/entry-points/{entry_point_id}"),
    ("DELETE", "/api/v1/entry-points/{entry_point_id}"),
    ("POST", "/api/v1/ivr/flows/{flow_id}/versions"),
    ("POST", "/api/v1/ivr/flows/{flow_id}/publish"),
    ("POST", "/api/v1/ivr/flows/{flow_id}/rollback"),
    ("POST", "/api/v1/ivr/flows/{flow_id}/dry-run"),
    ("PUT", "/api/v1/ivr/numbers/{number}"),
    ("DELETE", "/api/v1/ivr/numbers/{number}"),
    ("PATCH", "/api/v1/canned-replies/{reply_id}"),
    ("DELETE", "/api/v1/canned-replies/{reply_id}"),
}


def _operations_with_an_id(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, ops in document["paths"].items()
        if "{" in path
        for method in ops
    }


@pytest.fixture(scope="module")
def operations() -> set[tuple[str, str]]:
    return _operations_with_an_id(create_app(make_settings()).openapi())


def test_every_read_endpoint_with_an_id_is_classified(operations: set[tuple[str, str]]) -> None:
    reads = {path for method, path in operations if method == "GET"}
    classified = set(OWNED) | STAFF_ONLY | SHARED | NO_DATA | BY_TOKEN
    assert reads - classified == set(), "classify these reads in tests/hardening/test_bola.py"
    assert classified - reads == set(), "these classified reads no longer exist"


def test_every_change_with_an_id_is_classified(operations: set[tuple[str, str]]) -> None:
    writes = {op for op in operations if op[0] != "GET"}
    classified = set(OWNED_WRITES) | STAFF_WRITES | BY_TOKEN_WRITES
    assert writes - classified == set(), "classify these in tests/hardening/test_bola.py"
    assert classified - writes == set(), "these classified operations no longer exist"


@pytest.mark.parametrize(
    ("role", "agent_id", "holds"),
    [
        ("agent", 7, True),
        ("agent", 8, False),
        ("agent", None, False),  # in line: nobody's yet
        ("supervisor", 8, True),
        ("admin", None, True),
    ],
)
def test_the_contact_rule(role: str, agent_id: int | None, holds: bool) -> None:
    assert holds_contact(User(id=7, role=role), agent_id) is holds


@dataclass
class Team:
    name: str
    agent: str
    agent_id: int
    headers: dict[str, str]
    customer_id: int
    chat_id: int
    email_id: int
    voice_id: int
    attachment_id: int
    case_id: int

    def ids(self) -> dict[str, Any]:
        """The path parameters that name this team's objects."""
        return {
            "customer_id": self.customer_id,
            "contact_id": self.chat_id,
            "attachment_id": self.attachment_id,
            "case_id": self.case_id,
            "user_id": self.agent_id,
            "agent_id": self.agent_id,
            "queue": "support",
            "version": 1,
            "entry_point_id": 1,
            "flow_id": 1,
            "skill_id": 1,
            "queue_id": 1,
            "reply_id": 1,
            "call_id": 1,
            "key": "day7",
        }

    def url(self, path: str) -> str:
        ids = self.ids()
        if "{number}" in path:
            ids["number"] = "+8610"
        if path.startswith("/api/v1/contacts/{contact_id}/email"):
            ids["contact_id"] = self.email_id
        return path.format(**ids)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def _stored_contacts(
    app: FastAPI, agent_id: int, customer_id: int, tag: str
) -> tuple[int, int, int]:
    """A handled call with its recording, and an email with an attachment, of the
    customer, handled by the agent; (voice id, email id, attachment id)."""
    handled = {"state": "ended", "customer_id": customer_id, "agent_id": agent_id}
    async with app.state.db.unit_of_work() as session:
        voice = Contact(
            channel="voice", recording_url=f"https://recordings.example/{tag}.mp3", **handled
        )
        email = Contact(channel="email", subject=f"Order of {tag}", **handled)
        session.add_all([voice, email])
        await session.flush()
        message = Message(
            contact_id=email.id, seq=1, direction="inbound", author="customer", body=tag
        )
        session.add(message)
        await session.flush()
        content = f"invoice of {tag}".encode()
        attachment = Attachment(
            message_id=message.id,
            filename="invoice.txt",
            content_type="text/plain",
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
        )
        session.add(attachment)
        await session.flush()
        return voice.id, email.id, attachment.id


async def _team(desk: Desk, app: FastAPI, name: str, agent: str, customer: str) -> Team:
    """The team's agent takes a live chat; the customer has a recorded call, an email with
    an attachment, an order and a case, all handled by that agent."""
    agent_id = await desk.agent(agent)
    await _ok(
        await desk.client.patch(
            f"/api/v1/users/{agent_id}", json={"team": name}, headers=desk.admin
        )
    )
    customer_id = (
        await _ok(
            await desk.client.post("/api/v1/customers", json={"name": customer}, headers=desk.admin)
        )
    )["id"]
    chat_id = (await desk.start(name=customer))["contact_id"]
    await desk.accept(agent, chat_id)
    # not ready for more, so the next team's chat goes to the next team's agent
    await _ok(
        await desk.client.put(
            "/api/v1/agents/me/state",
            json={"state": "not_ready", "reason": "break"},
            headers=desk.headers(agent),
        )
    )
    voice_id, email_id, attachment_id = await _stored_contacts(app, agent_id, customer_id, name)
    order = {
        "source": "shop",
        "order_id": f"{name}-1",
        "placed_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "status": "completed",
        "items": 1,
        "amount": "99.00",
        "currency": "CNY",
    }
    await _ok(
        await desk.client.post(
            f"/api/v1/customers/{customer_id}/orders", json=order, headers=desk.admin
        )
    )
    case = await _ok(
        await desk.client.post(
            "/api/v1/cases",
            json={"customer_id": customer_id, "type": "complaint", "subject": name},
            headers=desk.admin,
        )
    )
    return Team(
        name,
        agent,
        agent_id,
        desk.headers(agent),
        customer_id,
        chat_id,
        email_id,
        voice_id,
        attachment_id,
        case["id"],
    )


@pytest.fixture
async def teams(desk: Desk, app: FastAPI) -> tuple[Team, Team]:
    north = await _team(desk, app, "north", "ann", "甲")
    south = await _team(desk, app, "south", "bob", "乙")
    return north, south


async def _refusals(desk: Desk, actor_id: int) -> list[dict[str, Any]]:
    found = await _ok(
        await desk.client.get(
            "/api/v1/audit",
            params={"actor_id": actor_id, "allowed": "false", "limit": 200},
            headers=desk.admin,
        )
    )
    items: list[dict[str, Any]] = found["items"]
    return items


def _names_object(entry: dict[str, Any], owner: Team, path: str) -> bool:
    """The audit entry points at the object the path named."""
    if "{customer_id}" in path or "{case_id}" in path:
        return bool(entry["customer_id"] == owner.customer_id)
    if "email" in path or "{attachment_id}" in path:
        return bool(entry["contact_id"] == owner.email_id)
    return bool(entry["contact_id"] == owner.chat_id)


async def test_no_agent_reads_another_teams_objects_and_each_refusal_is_audited(
    desk: Desk, teams: tuple[Team, Team]
) -> None:
    problems: list[str] = []
    for owner, other in (teams, teams[::-1]):
        for path, action in OWNED.items():
            url = owner.url(path)
            own = await desk.client.get(url, headers=owner.headers)
            if own.status_code != OWN_STATUS.get(path, 200):
                problems.append(f"{owner.agent} {url}: {own.status_code} for their own")
            before = len(await _refusals(desk, other.agent_id))
            refused = await desk.client.get(url, headers=other.headers)
            if refused.status_code not in (403, 404):
                problems.append(f"{other.agent} {url}: {refused.status_code}, not refused")
                continue
            entries = await _refusals(desk, other.agent_id)
            newest = entries[0] if len(entries) == before + 1 else None
            if (
                newest is None
                or newest["action"] != action
                or not _names_object(newest, owner, path)
            ):
                problems.append(f"{other.agent} {url}: refusal not audited ({newest})")
    assert problems == []


async def test_reads_for_supervisors_are_refused_to_agents_and_audited(
    desk: Desk, teams: tuple[Team, Team]
) -> None:
    north, south = teams
    problems: list[str] = []
    for path in sorted(STAFF_ONLY):
        url = north.url(path)
        before = len(await _refusals(desk, south.agent_id))
        refused = await desk.client.get(url, headers=south.headers)
        if refused.status_code != 403:
            problems.append(f"{url}: {refused.status_code}, not refused")
            continue
        entries = await _refusals(desk, south.agent_id)
        newest = entries[0] if len(entries) == before + 1 else None
        if newest is None or (newest["action"], newest["detail"]["route"]) != ("role", path):
            problems.append(f"{url}: refusal not audited ({newest})")
    assert problems == []
    customer = await desk.client.get(
        north.url("/api/v1/customers/{customer_id}"), headers=desk.admin
    )
    assert customer.status_code == 200, customer.text


async def _evidence(desk: Desk, team: Team) -> list[Any]:
    """What an intruder's change would alter, as an admin reads it."""
    reads = (
        f"/api/v1/contacts/{team.chat_id}",
        f"/api/v1/contacts/{team.chat_id}/messages",
        f"/api/v1/contacts/{team.email_id}/email-messages",
        f"/api/v1/customers/{team.customer_id}/consent",
        f"/api/v1/cases/{team.case_id}",
        f"/api/v1/cases/{team.case_id}/timeline",
    )
    found = [await _ok(await desk.client.get(url, headers=desk.admin)) for url in reads]
    return [_without_clock_figures(read) for read in found]


_CLOCK_FIGURES = frozenset({"elapsed_fraction", "remaining_minutes"})


def _without_clock_figures(read: Any) -> Any:
    """``read`` without the SLA figures that move with the clock alone (a case's
    ``sla.*.elapsed_fraction``, ``remaining_minutes``): no change of anyone's makes them."""
    if isinstance(read, dict):
        return {k: _without_clock_figures(v) for k, v in read.items() if k not in _CLOCK_FIGURES}
    if isinstance(read, list):
        return [_without_clock_figures(v) for v in read]
    return read


async def test_no_agent_changes_another_teams_objects_and_each_refusal_is_audited(
    desk: Desk, teams: tuple[Team, Team]
) -> None:
    north, south = teams
    before_all = await _evidence(desk, north)
    problems: list[str] = []
    for (method, path), body in OWNED_WRITES.items():
        url = north.url(path)
        before = len(await _refusals(desk, south.agent_id))
        upload = UPLOADS.get((method, path))
        sent: dict[str, Any] = {"json": body} if upload is None else {"files": upload}
        refused = await desk.client.request(method, url, headers=south.headers, **sent)
        if refused.status_code not in (403, 404, 409):
            problems.append(f"{method} {url}: {refused.status_code}, not refused")
            continue
        entries = await _refusals(desk, south.agent_id)
        newest = entries[0] if len(entries) == before + 1 else None
        if newest is None or not _names_object(newest, north, path):
            problems.append(f"{method} {url}: refusal not audited ({newest})")
    for method, path in sorted(STAFF_WRITES):
        url = north.url(path)
        refused = await desk.client.request(method, url, json={}, headers=south.headers)
        newest = (await _refusals(desk, south.agent_id))[0]
        if refused.status_code != 403 or newest["detail"].get("route") != path:
            problems.append(f"{method} {url}: {refused.status_code}, audited as {newest}")
    assert problems == []
    assert await _evidence(desk, north) == before_all


async def test_a_recording_reaches_only_the_team_that_handled_the_call(
    desk: Desk, teams: tuple[Team, Team]
) -> None:
    north, south = teams
    history = f"/api/v1/customers/{north.customer_id}/history"
    own = await _ok(await desk.client.get(history, headers=north.headers))
    recordings = {i["contact_id"]: i["recording_url"] for i in own["items"]}
    assert recordings[north.voice_id] == "https://recordings.example/north.mp3"
    refused = await desk.client.get(history, headers=south.headers)
    assert refused.status_code == 403
    assert "recordings.example" not in refused.text


async def test_another_teams_contact_opens_no_customer_by_query(
    desk: Desk, teams: tuple[Team, Team]
) -> None:
    """Ids in the query are objects too: team A's contact as ``via_contact`` or as the
    ground of a lookup, team A's customer or agent as the filter of a list of cases, give
    team B's agent nothing, and are audited."""
    north, south = teams
    history = await desk.client.get(
        f"/api/v1/customers/{north.customer_id}/history",
        params={"via_contact": north.voice_id},
        headers=south.headers,
    )
    assert history.status_code == 403
    lookup = await desk.client.get(
        "/api/v1/customers/lookup",
        params={"contact_id": north.chat_id, "name": "甲"},
        headers=south.headers,
    )
    assert lookup.status_code in (403, 404), lookup.text
    for params in ({"customer_id": north.customer_id}, {"owner": north.agent_id}):
        cases = await desk.client.get("/api/v1/cases", params=params, headers=south.headers)
        assert cases.status_code == 403, cases.text
    refusals = await _refusals(desk, south.agent_id)
    assert [e["action"] for e in refusals[:4]] == ["cases", "cases", "lookup", "history"]
    assert refusals[0]["detail"] == {"owner": north.agent_id}
    assert refusals[1]["customer_id"] == north.customer_id


async def test_shared_configuration_is_read_by_every_agent(
    desk: Desk, teams: tuple[Team, Team]
) -> None:
    _, south = teams
    skills = await _ok(await desk.client.get("/api/v1/skills", headers=south.headers))
    queues = await _ok(await desk.client.get("/api/v1/queues", headers=south.headers))
    urls = [
        f"/api/v1/skills/{skills['items'][0]['id']}",
        f"/api/v1/queues/{queues['items'][0]['id']}",
    ]
    for url in urls:
        assert (await desk.client.get(url, headers=south.headers)).status_code == 200
