"""``--replay``'s shell: read a recorded period from the database, replay it, print it.

The recording is the period's inbound contacts (when each entered its queue, channel,
skills, priority, the customer's value at arrival, how long it waited, and for answered
ones the talk and wrap-up), the agents' presence from the event log
(``agent.state_changed``: sign-ins, not-ready periods with their reason, sign-outs) and
their skills and capacity as they were, changes included (``agent.skills_changed``,
``agent.capacity_changed``). The pure
work is in ``app.routing.replay_core``; approximations are listed in docs/routing.md.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.models import AgentSkill
from app.agents.service import AGENT_CHANGE_KINDS
from app.contacts.models import Contact, ContactEvent
from app.customers.value.core.rules import ValueRules
from app.customers.value.service import rules_in_force
from app.database import Database, create_engine
from app.errors import InvalidInput, TooManyRequests
from app.queues.models import Queue
from app.routing.config_schemas import RoutingDocument, to_core
from app.routing.config_service import routing_document, validate_references
from app.routing.core.model import AgentState
from app.routing.replay_core import (
    DEFAULT_SEEDS,
    JOURNEY_KINDS,
    METRICS,
    TELLING_KINDS,
    UNTAGGED,
    AgentAttribute,
    AgentUpdateRecord,
    Candidate,
    CustomerOrders,
    Figures,
    Journey,
    RecordedContact,
    RecordedPeriod,
    ReplayReport,
    RoutingEventRecord,
    agents_as_they_were,
    journey,
    presence_schedule,
    regraded_tags,
    replay,
)
from app.routing.replay_value import period_customers
from app.routing.restore import contact_skills
from app.routing.simulator import PresenceRecord, RecordedResponse, SimulatedAgent
from app.skills.models import Skill
from app.users.models import User


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


@dataclass(frozen=True, slots=True)
class ContactRow:
    """The columns of a contact a replay reads."""

    id: int
    created_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wrap_up_ended_at: datetime | None
    abandoned_at: datetime | None
    channel: str
    priority: int
    required_skills: list[Any]
    queue: str
    value_tags: list[str] | None
    offered_at: datetime | None
    agent_id: int | None
    customer_id: int | None = None


def recorded_contact(
    row: ContactRow, start: datetime, route: Journey | None = None
) -> RecordedContact | None:
    """A closed inbound contact as the replay sees it; None for one never answered nor
    abandoned (still open, or in its last queue when read).

    Without routing events (``route``) the columns tell it all: one wait, answered by the
    contact's agent after its offer rang from ``offered_at``. With them, the contact is
    where it entered first, its wait ends at its first answer, and its offers' answers,
    transfers and callback come from the events; talk and wrap-up are its last leg's.
    """
    closed = row.ended_at is not None or row.abandoned_at is not None
    if not closed:
        return None
    if route is not None:
        return _from_journey(row, start, route)
    queued = row.queued_at or row.created_at
    answered = row.answered_at is not None and row.ended_at is not None
    if answered:
        assert row.answered_at is not None
        wait = row.answered_at - queued
    elif row.abandoned_at is not None:
        wait = row.abandoned_at - queued
    else:
        return None
    responses: tuple[RecordedResponse, ...] = ()
    if answered and row.agent_id is not None and row.offered_at is not None:
        rang = _seconds(row.answered_at, row.offered_at) or 0.0
        if rang > 0:  # an answer at once is what the simulated agent gives anyway
            responses = (RecordedResponse(str(row.agent_id), "accepted", rang),)
    return RecordedContact(
        time=(queued - start).total_seconds(),
        queue=row.queue,
        channel=row.channel,
        skills=contact_skills(row.required_skills),
        priority=row.priority,
        value_tags=tuple(row.value_tags or ()),
        wait_seconds=max(0.0, wait.total_seconds()),
        answered=answered,
        talk_seconds=_seconds(row.ended_at, row.answered_at) if answered else None,
        wrap_up_seconds=_seconds(row.wrap_up_ended_at, row.ended_at) if answered else None,
        responses=responses,
        customer_id=row.customer_id,
    )


def _from_journey(row: ContactRow, start: datetime, route: Journey) -> RecordedContact | None:
    answered = route.first_answer is not None
    end = route.first_answer if answered else route.abandoned
    if end is None:
        return None
    last_leg_talked = row.ended_at is not None and row.answered_at is not None
    return RecordedContact(
        time=route.entered,
        queue=route.queue,
        channel=row.channel,
        skills=contact_skills(row.required_skills),
        priority=row.priority,
        value_tags=tuple(row.value_tags or ()),
        wait_seconds=max(0.0, end - route.entered),
        answered=answered,
        talk_seconds=_seconds(row.ended_at, row.answered_at) if last_leg_talked else None,
        wrap_up_seconds=(_seconds(row.wrap_up_ended_at, row.ended_at) if last_leg_talked else None),
        responses=route.responses,
        transfers=route.transfers,
        callback_after=route.callback_after,
        customer_id=row.customer_id,
    )


async def recorded_journeys(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[int, Journey]:
    """The routing events of the period's contacts that have more than their columns say
    (a rejected or timed-out offer, a requeue, a callback), read into journeys."""
    in_period = (
        select(Contact.id)
        .where(
            Contact.created_at >= start,
            Contact.created_at < end,
            Contact.direction == "inbound",
        )
        .scalar_subquery()
    )
    telling = (
        select(ContactEvent.contact_id)
        .where(
            ContactEvent.kind.in_(TELLING_KINDS),
            ContactEvent.occurred_at >= start,
            ContactEvent.contact_id.in_(in_period),
        )
        .distinct()
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            ContactEvent.contact_id,
            ContactEvent.occurred_at,
            ContactEvent.kind,
            ContactEvent.agent_id,
            ContactEvent.payload,
        )
        .where(ContactEvent.contact_id.in_(telling), ContactEvent.kind.in_(JOURNEY_KINDS))
        .order_by(ContactEvent.contact_id, ContactEvent.occurred_at, ContactEvent.id)
    )
    events: dict[int, list[RoutingEventRecord]] = defaultdict(list)
    for contact_id, at, kind, agent_id, payload in rows:
        agent = None if agent_id is None else str(agent_id)
        time = (at - start).total_seconds()
        events[contact_id].append(RoutingEventRecord(time, kind, agent, payload or {}))
    journeys = {}
    for contact_id, recorded in events.items():
        route = journey(recorded)
        if route is not None:
            journeys[contact_id] = route
    return journeys


async def recorded_contacts(
    session: AsyncSession, start: datetime, end: datetime
) -> list[RecordedContact]:
    """The inbound contacts that arrived in [start, end), in arrival order."""
    journeys = await recorded_journeys(session, start, end)
    rows = await session.execute(
        select(
            Contact.id,
            Contact.created_at,
            Contact.queued_at,
            Contact.answered_at,
            Contact.ended_at,
            Contact.wrap_up_ended_at,
            Contact.abandoned_at,
            Contact.channel,
            Contact.priority,
            Contact.required_skills,
            Queue.name,
            Contact.value_tags,
            Contact.offered_at,
            Contact.agent_id,
            Contact.customer_id,
        )
        .join(Queue, Queue.id == Contact.queue_id)
        .where(
            Contact.created_at >= start,
            Contact.created_at < end,
            Contact.direction == "inbound",
        )
        .order_by(Contact.created_at, Contact.id)
    )
    contacts = []
    for row in rows:
        contact_row = ContactRow(*row)
        contact = recorded_contact(contact_row, start, journeys.get(contact_row.id))
        if contact is not None:
            contacts.append(contact)
    return sorted(contacts, key=lambda contact: contact.time)


async def recorded_states(
    session: AsyncSession, start: datetime, end: datetime
) -> list[PresenceRecord]:
    """Every ``agent.state_changed`` of the period, and each agent's last one before it."""
    before = (
        select(ContactEvent.agent_id, ContactEvent.occurred_at, ContactEvent.payload)
        .where(ContactEvent.kind == "agent.state_changed", ContactEvent.occurred_at < start)
        .order_by(ContactEvent.agent_id, ContactEvent.occurred_at.desc(), ContactEvent.id.desc())
        .ext(distinct_on(ContactEvent.agent_id))
    )
    during = (
        select(ContactEvent.agent_id, ContactEvent.occurred_at, ContactEvent.payload)
        .where(
            ContactEvent.kind == "agent.state_changed",
            ContactEvent.occurred_at >= start,
            ContactEvent.occurred_at < end,
        )
        .order_by(ContactEvent.occurred_at, ContactEvent.id)
    )
    records = []
    for query in (before, during):
        for agent_id, at, payload in await session.execute(query):
            if agent_id is None:
                continue
            state = AgentState(str(payload.get("state", "offline")))
            reason = payload.get("reason")
            time = (at - start).total_seconds()
            records.append(PresenceRecord(time, str(agent_id), state, reason))
    return records


async def recorded_agents(session: AsyncSession, agent_ids: Sequence[str]) -> list[SimulatedAgent]:
    """The agents with recorded presence: their skills and capacity as stored now (the
    recorded changes turn them into the agents as they were, ``agents_as_they_were``)."""
    ids = [int(agent_id) for agent_id in agent_ids]
    users = list(await session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)))
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    rows = await session.execute(
        select(AgentSkill.user_id, Skill.name, AgentSkill.proficiency)
        .join(Skill, Skill.id == AgentSkill.skill_id)
        .where(AgentSkill.user_id.in_(ids))
    )
    for user_id, name, level in rows:
        skills[user_id][name] = level
    return [
        SimulatedAgent(
            agent_id=str(user.id),
            skills=skills.get(user.id, {}),
            capacity={str(channel): int(n) for channel, n in user.capacity.items()},
        )
        for user in users
    ]


async def recorded_agent_updates(
    session: AsyncSession, agent_ids: Sequence[str], start: datetime
) -> list[AgentUpdateRecord]:
    """Every recorded change of these agents' skills and capacity, before, in and after
    the period (they are few; ``agents_as_they_were`` picks what it needs)."""
    attributes: dict[str, AgentAttribute] = {
        AGENT_CHANGE_KINDS["skills"]: "skills",
        AGENT_CHANGE_KINDS["capacity"]: "capacity",
    }
    rows = await session.execute(
        select(
            ContactEvent.agent_id, ContactEvent.occurred_at, ContactEvent.kind, ContactEvent.payload
        )
        .where(
            ContactEvent.kind.in_(list(attributes)),
            ContactEvent.agent_id.in_([int(agent_id) for agent_id in agent_ids]),
        )
        .order_by(ContactEvent.occurred_at, ContactEvent.id)
    )
    updates = []
    for agent_id, at, kind, payload in rows:
        attribute = attributes[kind]
        previous = payload.get("previous")
        updates.append(
            AgentUpdateRecord(
                time=(at - start).total_seconds(),
                agent_id=str(agent_id),
                attribute=attribute,
                value={str(k): int(v) for k, v in payload.get(attribute, {}).items()},
                previous=None
                if previous is None
                else {str(k): int(v) for k, v in previous.items()},
            )
        )
    return updates


async def read_period(session: AsyncSession, start: datetime, end: datetime) -> RecordedPeriod:
    contacts = await recorded_contacts(session, start, end)
    states = await recorded_states(session, start, end)
    agents_now = await recorded_agents(session, sorted({r.agent_id for r in states}))
    updates = await recorded_agent_updates(session, [a.agent_id for a in agents_now], start)
    length = (end - start).total_seconds()
    agents, agent_changes = agents_as_they_were(agents_now, updates, length)
    known = {agent.agent_id for agent in agents}
    states = [r for r in states if r.agent_id in known]
    targets = list(
        await session.execute(select(Queue.name, Queue.sl_target_seconds, Queue.sl_target_percent))
    )
    return RecordedPeriod(
        seconds=length,
        contacts=tuple(contacts),
        agents=agents,
        presence=tuple(presence_schedule(states)),
        states=tuple(states),
        sl_seconds={name: float(seconds) for name, seconds, _ in targets},
        sl_percent={name: float(percent) for name, _, percent in targets},
        agent_changes=agent_changes,
    )


@dataclass(frozen=True, slots=True)
class WhatIf:
    """What ``--replay`` tries beside the faithful replay; all empty: nothing."""

    routing: RoutingDocument | None = None
    agents_delta: dict[str, int] = field(default_factory=dict)
    value_rules: ValueRules | None = None

    @property
    def given(self) -> bool:
        return self.routing is not None or bool(self.agents_delta) or self.value_rules is not None


@dataclass(frozen=True, slots=True)
class ReplayInputs:
    """Everything a replay reads from the database, read in one unit of work."""

    period: RecordedPeriod
    version: int
    in_force: RoutingDocument
    value_in_force: ValueRules
    customers: dict[int, CustomerOrders] | None = None  # read only for tried value rules


async def inbound_contacts_in(session: AsyncSession, start: datetime, end: datetime) -> int:
    """How many inbound contacts arrived in [start, end): what a replay of it would read."""
    count = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(
            Contact.created_at >= start,
            Contact.created_at < end,
            Contact.direction == "inbound",
        )
    )
    return int(count or 0)


async def read_replay_inputs(
    session: AsyncSession, start: datetime, end: datetime, what_if: WhatIf, zone: tzinfo
) -> ReplayInputs:
    """The recording of [start, end), the configuration in force and, when value rules are
    tried, the customers' orders. ``zone``: the shop's time zone, whose calendar months
    value rules count."""
    period = await read_period(session, start, end)
    version, in_force = await routing_document(session)
    value_in_force = ValueRules()
    customers = None
    if what_if.value_rules is not None:
        value_in_force = await rules_in_force(session)
        customers = await period_customers(
            session, start, end, what_if.value_rules, value_in_force, zone
        )
    return ReplayInputs(period, version, in_force, value_in_force, customers)


def replay_report(
    inputs: ReplayInputs,
    start: datetime,
    end: datetime,
    what_if: WhatIf,
    *,
    seeds: int = DEFAULT_SEEDS,
    zone: tzinfo = UTC,
) -> dict[str, Any]:
    """The fidelity check, then ``what_if`` if anything is given, as ``report_document``.
    Pure and CPU-bound (seconds for a large period): callers on an event loop run it in a
    worker thread."""
    period = inputs.period
    routing = to_core(inputs.in_force, inputs.version)
    candidate = None
    if what_if.given:
        document = what_if.routing
        tried = (
            None
            if document is None
            else to_core(_with_missing_queues(document, inputs.in_force), inputs.version)
        )
        tags = None
        if what_if.value_rules is not None and inputs.customers is not None:
            tags = regraded_tags(
                period, inputs.customers, what_if.value_rules, inputs.value_in_force, start, zone
            )
        candidate = Candidate(tried, what_if.agents_delta, tags)
    report = replay(period, routing, candidate, tuple(range(1, seeds + 1)))
    return report_document(report, start, end, period, inputs.version, what_if)


async def replay_period(
    url: str,
    start: datetime,
    end: datetime,
    what_if: WhatIf,
    *,
    seeds: int = DEFAULT_SEEDS,
    zone: tzinfo = UTC,
) -> dict[str, Any]:
    """``--replay``'s job: read [start, end) on a connection of its own, then replay it."""
    db = Database(create_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.sessionmaker() as session:
            inputs = await read_replay_inputs(session, start, end, what_if, zone)
    finally:
        await db.dispose()
    return replay_report(inputs, start, end, what_if, seeds=seeds, zone=zone)


REPLAY_DEFAULT_DAYS = 7
REPLAY_MAX_CONTACTS = 200_000  # larger periods are for ``contactd simulate --replay``


class ReplayGate:
    """One replay at a time per instance: each holds a core for seconds."""

    def __init__(self) -> None:
        self._busy = False

    def __enter__(self) -> None:
        if self._busy:
            raise TooManyRequests(
                "Another replay is running on this instance; try again shortly.",
                retry_after=5,
                code="replay_busy",
            )
        self._busy = True

    def __exit__(self, *_: object) -> None:
        self._busy = False


def replay_period_bounds(
    start: datetime | None, end: datetime | None, now: datetime, *, max_days: int
) -> tuple[datetime, datetime]:
    """[start, end) of a requested replay: by default the seven days before ``end`` (now).
    A time without a zone is UTC. Raises ``InvalidInput`` for an empty, future or too long
    period."""
    end = now if end is None else _aware(end)
    start = end - timedelta(days=REPLAY_DEFAULT_DAYS) if start is None else _aware(start)
    if start >= end:
        raise InvalidInput("start must be before end.", code="invalid_period")
    if end > now + timedelta(minutes=1):
        raise InvalidInput("end is in the future: nothing is recorded yet.", code="invalid_period")
    if end - start > timedelta(days=max_days):
        raise InvalidInput(
            f"A replay covers at most {max_days} days here; use contactd simulate --replay.",
            code="period_too_long",
            details={"max_days": max_days},
        )
    return start, end


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def replay_before_publishing(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    what_if: WhatIf,
    *,
    seeds: int,
    zone: tzinfo,
) -> dict[str, Any]:
    """The report ``--replay --json`` prints, for the admin pages: the candidate's
    references are checked as publishing checks them, the recording read in the request's
    unit of work, and the replay run in a worker thread so the event loop keeps serving."""
    if what_if.routing is not None:
        await validate_references(session, what_if.routing)
    unknown = sorted(set(what_if.agents_delta) - set(await session.scalars(select(Queue.name))))
    if unknown:
        raise InvalidInput(
            f"agents_delta names unknown queues: {', '.join(unknown)}.",
            code="unknown_reference",
            details={"unknown_queues": unknown},
        )
    contacts = await inbound_contacts_in(session, start, end)
    if contacts > REPLAY_MAX_CONTACTS:
        raise InvalidInput(
            f"{contacts} contacts in the period; a replay here covers at most"
            f" {REPLAY_MAX_CONTACTS}: use contactd simulate --replay.",
            code="period_too_large",
            details={"contacts": contacts, "max_contacts": REPLAY_MAX_CONTACTS},
        )
    inputs = await read_replay_inputs(session, start, end, what_if, zone)
    try:
        return await asyncio.to_thread(
            replay_report, inputs, start, end, what_if, seeds=seeds, zone=zone
        )
    except ValueError as error:  # an agents delta for a queue no recorded agent serves
        raise InvalidInput(str(error), code="invalid_agents_delta") from error


def report_document(
    report: ReplayReport,
    start: datetime,
    end: datetime,
    period: RecordedPeriod,
    version: int,
    what_if: WhatIf,
) -> dict[str, Any]:
    """The one serialization of a replay, for ``--json`` and the text table alike."""
    document: dict[str, Any] = {
        "period": [start.isoformat(), end.isoformat()],
        "contacts": len(period.contacts),
        "agents": len(period.agents),
        "config": f"version {version}",
        "seeds": list(report.seeds),
        "faithful": report.faithful,
        "patience": [
            {"queue": queue, "channel": channel, **curve.as_dict()}
            for (queue, channel), curve in report.patience.items()
        ],
        "queues": [queue.as_dict() for queue in report.queues],
        "grades": {grade.name: grade.as_dict(label=None) for grade in report.grades},
    }
    if what_if.given:
        rules = what_if.value_rules
        document["candidate"] = {
            "routing_config": "in force" if what_if.routing is None else "candidate",
            "agents_delta": dict(what_if.agents_delta),
            "value_rules": "in force" if rules is None else "candidate",
            "regraded": sum(change.contacts for change in report.regrades),
            "regrades": [change.as_dict() for change in report.regrades],
        }
    return document


def _with_missing_queues(document: RoutingDocument, in_force: RoutingDocument) -> RoutingDocument:
    """A tried document that leaves a queue out keeps that queue's policy in force."""
    queues = {**in_force.queues, **document.queues}
    return document.model_copy(update={"queues": queues})


# ------------------------------------------------------------------ text


def render_replay(report: dict[str, Any]) -> str:
    """Fidelity first (recorded vs faithful replay, verdict), then the candidate's difference."""
    seeds = len(report["seeds"])
    lines = [
        f"replayed {report['contacts']} contacts of {report['period'][0]} .. {report['period'][1]}"
        f" with the {report['agents']} agents as recorded, under {report['config']},"
        f" over {seeds} seeds (mean ± spread)",
        "",
        "patience (Kaplan–Meier, per queue and channel):",
    ]
    for curve in report["patience"]:
        median = curve["median_seconds"]
        lines.append(
            f"  {curve['queue']}/{curve['channel']}: {curve['abandoned']} abandoned,"
            f" {curve['censored']} answered (censored), median "
            + ("beyond the longest wait" if median is None else f"{median:.0f} s")
        )
    candidate = report.get("candidate")
    for queue in report["queues"]:
        lines.append("")
        lines.extend(_group_lines(f"queue {queue['queue']}", queue, candidate is not None))
    grades = report["grades"]
    if candidate is not None or set(grades) - {UNTAGGED}:
        lines += ["", "per grade (each value tag of the customer at arrival; one contact may count"
                  " in several):"]  # fmt: skip
        for name, grade in grades.items():
            lines.append("")
            lines.extend(_group_lines(f"grade {name}", grade, candidate is not None))
    if candidate is not None and candidate["value_rules"] != "in force":
        lines += ["", _regrade_lines(candidate)]
    lines.append("")
    lines.append("fidelity: " + ("faithful" if report["faithful"] else "NOT faithful"))
    return "\n".join(lines)


REGRADES_SHOWN = 10


def _regrade_lines(candidate: dict[str, Any]) -> str:
    """How the candidate value rules changed the contacts' tags, the commonest first."""
    lines = [
        f"candidate value rules: {candidate['regraded']} contacts tagged"
        " otherwise at arrival (figures per grade stay by the recorded grade)"
    ]
    for change in candidate["regrades"][:REGRADES_SHOWN]:
        removed = " ".join(change["removed"]) or "-"
        added = " ".join(change["added"]) or "-"
        lines.append(f"  {change['contacts']:>8}  {removed} -> {added}")
    hidden = len(candidate["regrades"]) - REGRADES_SHOWN
    if hidden > 0:
        lines.append(f"  ... and {hidden} other changes (--json lists them all)")
    return "\n".join(lines)


def _group_lines(title: str, queue: dict[str, Any], with_candidate: bool) -> list[str]:
    """A queue's or a grade's table: recorded, replayed and the what-if's difference."""
    verdict = queue["fidelity"]
    header = f"{title}: {verdict['verdict']}"
    columns = f"  {'':<16}{'recorded':>12}{'replayed':>20}"
    if with_candidate:
        columns += f"{'what-if - replayed':>24}"
    lines = [header, columns]
    for metric in METRICS:
        row = f"  {metric:<16}{_fmt(metric, queue['recorded'].get(metric)):>12}"
        row += f"{_with_spread(metric, queue['replayed']):>20}"
        if with_candidate:
            row += f"{_with_spread(metric, queue['difference'], signed=True):>24}"
        lines.append(row)
    if with_candidate:
        longer = queue["longer_than_recorded_worst"]
        flag = "! " if longer > 0 else ""
        lines.append(
            f"  {flag}waited longer than the recorded worst of their queue: {longer:.1f}"
            " contacts per seed"
        )
    staffing = queue.get("erlang_c")
    if staffing is not None:
        lines.append(
            f"  Erlang C over {staffing['intervals']} hours with contacts: needs"
            f" {staffing['erlang_c_mean']:.1f} agents on average"
            f" (peak {staffing['erlang_c_peak']});"
            f" ready: {staffing['ready_mean']:.1f} recorded, short in"
            f" {staffing['short_intervals']} hours; {staffing['ready_mean_with_delta']:.1f}"
            f" with the delta, short in {staffing['short_intervals_with_delta']}"
        )
    lines.extend(f"  ! {problem}" for problem in verdict["problems"])
    return lines


def _with_spread(metric: str, figures: dict[str, Any], *, signed: bool = False) -> str:
    value = figures.get(metric)
    if value is None:
        return "-"
    spread = figures.get("spread", {}).get(metric) or 0.0
    return f"{_fmt(metric, value, signed=signed)} ± {_fmt(metric, spread)}"


def _fmt(metric: str, value: object, *, signed: bool = False) -> str:
    if not isinstance(value, int | float):
        return "-"
    sign = "+" if signed else ""
    if metric in ("service_level", "occupancy"):
        return f"{value:{sign}.3f}"
    if metric == "asa_seconds":
        return f"{value:{sign}.1f} s"
    return f"{value:{sign}.1f}"


__all__ = [
    "Figures",
    "ReplayInputs",
    "WhatIf",
    "inbound_contacts_in",
    "read_period",
    "read_replay_inputs",
    "render_replay",
    "replay_period",
    "replay_report",
]
