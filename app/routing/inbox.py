"""Talking to the router: every request is a row in ``routing_inbox``.

Writers (HTTP handlers, channels, the agent console) call ``submit`` inside their own unit
of work, so the request exists exactly when its cause does; a rolled-back request never
reaches the router. After the commit the doorbell wakes the router at once (in this
process directly, in another through NOTIFY); the router also looks every second.

``to_events`` turns a row into engine events; it needs the engine to know whether an agent
is already logged in, which only the router knows.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.database import after_commit
from app.routing.core import model as core
from app.routing.models import RoutingInbox

INBOX_CHANNEL = "contactd_routing_inbox"
DONE_CHANNEL = "contactd_routing_done"
DOORBELL_KEY = "contactd.routing_doorbell"


class Doorbell(Protocol):
    """Wakes the router once a transaction that wrote inbox rows has committed.

    Not a NOTIFY inside the writer's transaction: PostgreSQL serializes the commits of
    transactions that NOTIFY, which would cap enqueues at one disk flush each.
    """

    async def ring(self) -> None: ...


class BadRequest(ValueError):
    """An inbox row the router cannot read (a bug in its writer, not in the caller)."""


async def submit(
    session: AsyncSession, kind: str, payload: dict[str, Any], *, actor_id: int | None = None
) -> RoutingInbox:
    row = RoutingInbox(kind=kind, payload=payload, actor_id=actor_id)
    session.add(row)
    await session.flush()
    ring_after_commit(session)
    return row


def ring_after_commit(session: AsyncSession) -> None:
    """For writers that insert inbox rows themselves (the enqueue fast path)."""
    doorbell: Doorbell | None = session.info.get(DOORBELL_KEY)
    if doorbell is not None:
        after_commit(session, doorbell.ring)


def skills_payload(skills: list[tuple[str, int]] | None) -> list[list[Any]] | None:
    return None if skills is None else [[name, level] for name, level in skills]


def _requirements(raw: Any) -> tuple[core.SkillRequirement, ...] | None:
    if raw is None:
        return None
    return tuple(core.SkillRequirement(str(name), int(level)) for name, level in raw)


def _id(value: Any) -> str:
    if value is None:
        raise BadRequest("missing id")
    return str(value)


def _agent_state_events(p: dict[str, Any], known: bool) -> list[core.Event]:
    agent_id = _id(p["agent_id"])
    state = core.AgentState(p["state"])
    reason = p.get("reason")
    if state is core.AgentState.OFFLINE:
        return [core.AgentLoggedOut(agent_id)] if known else []
    events: list[core.Event] = []
    if not known:
        events.append(
            core.AgentLoggedIn(
                agent_id,
                skills={str(k): int(v) for k, v in p.get("skills", {}).items()},
                capacity={str(k): int(v) for k, v in p.get("capacity", {}).items()},
                queues=tuple(p.get("queues", ())),
            )
        )
        if state is core.AgentState.AVAILABLE:
            return events
    events.append(core.AgentStateChanged(agent_id, state, reason))
    return events


def to_events(kind: str, p: dict[str, Any], *, agent_known: bool) -> list[core.Event]:
    """The engine events an inbox row stands for."""
    try:
        return _to_events(kind, p, agent_known)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"{kind}: {exc}") from exc


def _to_events(kind: str, p: dict[str, Any], agent_known: bool) -> list[core.Event]:
    match kind:
        case "contact.enqueue":
            return [
                core.ContactEnqueued(
                    contact_id=_id(p["contact_id"]),
                    queue=p["queue"],
                    channel=p["channel"],
                    arrived_at=float(p["arrived_at"]),
                    priority=p.get("priority"),
                    skills=_requirements(p.get("skills")),
                    value_tags=tuple(str(tag) for tag in p.get("value_tags") or ()),
                    preferred_agent_id=None
                    if p.get("preferred_agent_id") is None
                    else str(p["preferred_agent_id"]),
                )
            ]
        case "contact.update":
            return [
                core.ContactUpdated(
                    _id(p["contact_id"]),
                    p.get("priority"),
                    _requirements(p.get("skills")),
                    p.get("queue"),
                    None if p.get("to_agent_id") is None else str(p["to_agent_id"]),
                )
            ]
        case "contact.abandon":
            return [core.ContactAbandoned(_id(p["contact_id"]))]
        case "contact.transfer":
            to_agent = p.get("to_agent_id")
            return [
                core.ContactTransferred(
                    _id(p["contact_id"]),
                    p.get("to_queue"),
                    None if to_agent is None else str(to_agent),
                )
            ]
        case "contact.end":
            return [core.ContactEnded(_id(p["contact_id"]))]
        case "offer.accept":
            return [core.OfferAccepted(_id(p["contact_id"]), _id(p["agent_id"]))]
        case "offer.reject":
            return [core.OfferRejected(_id(p["contact_id"]), _id(p["agent_id"]))]
        case "agent.state":
            return _agent_state_events(p, agent_known)
        case "agent.wrap_up_end":
            return [core.WrapUpEnded(_id(p["agent_id"]))]
        case "agent.skills":
            skills = {str(k): int(v) for k, v in p["skills"].items()}
            return [core.AgentSkillsChanged(_id(p["agent_id"]), skills)] if agent_known else []
        case "agent.capacity":
            capacity = {str(k): int(v) for k, v in p["capacity"].items()}
            return [core.AgentCapacityChanged(_id(p["agent_id"]), capacity)] if agent_known else []
        case "config.changed":
            return []  # the router reloads the published document itself
    raise BadRequest(f"unknown inbox kind '{kind}'")
