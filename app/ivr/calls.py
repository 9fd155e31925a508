"""The shell around the engine for live calls: one run per call, kept in ``ivr_runs`` between
webhooks; every node entered is a contact event; routing instructions become contacts.

Events are written with the contact they belong to once it exists: until the flow routes
the call there is no contact, so ``ivr.*`` events before that carry ``contact_id`` NULL and
the run in their payload (``ivr.completed`` carries both, and the path walked).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.matching import match_customer
from app.customers.models import Customer
from app.customers.value.models import CustomerValue
from app.errors import NotFound
from app.ivr.engine import (
    CallerInput,
    CallerValue,
    Enqueue,
    Facts,
    Fetch,
    Instruction,
    RunState,
    Turn,
    advance,
    begin,
)
from app.ivr.models import IvrRun
from app.ivr.store import Published, load_version
from app.routing.service import NewContact, enqueue, request_callback

CALL = "call"  # the voice channel's key in contacts.attributes


@dataclass(frozen=True, slots=True)
class CallStart:
    provider: str  # twilio | cti
    ref: str  # CallSid, the PBX's call id
    caller: str | None
    dialled: str  # E.164
    details: dict[str, Any] = field(default_factory=dict)  # kept in attributes["call"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What to tell the provider after a turn."""

    run_id: uuid.UUID
    turn: int
    instructions: list[Instruction]
    language: str
    caller_number: str | None
    contact_id: int | None = None
    closed_action: str | None = None
    done: bool = False

    @property
    def fetch(self) -> Fetch | None:
        return next((i for i in self.instructions if isinstance(i, Fetch)), None)


def _engine_state(run: IvrRun) -> RunState:
    return RunState.model_validate(run.state["engine"])


def _base(run: IvrRun, name: str) -> dict[str, Any]:
    return {"flow_id": run.flow_id, "flow": name, "version": run.version, "run": str(run.id)}


def caller_value(row: CustomerValue | None, now: datetime | None = None) -> CallerValue:
    """The IVR's view of a customer's stored value (never evaluated: a prospect)."""
    if row is None:
        return CallerValue()
    moment = now or datetime.now(UTC)
    return CallerValue(
        grade=row.grade,
        status=row.status,
        vip=row.vip_until is not None and row.vip_until > moment,
        value_class=row.value_class,
        segments=tuple(row.segments),
    )


async def _facts(session: AsyncSession, run: IvrRun) -> Facts:
    customer = None if run.customer_id is None else await session.get(Customer, run.customer_id)
    value = None if customer is None else await session.get(CustomerValue, customer.id)
    return Facts(
        caller_number=run.caller,
        customer_known=customer is not None,
        value=caller_value(value),
        customer_language=None if customer is None else customer.language,
    )


async def start(
    session: AsyncSession, call: CallStart, published: Published, region: str, now: datetime
) -> Answer:
    """Begin the flow for a new call; a retried webhook gets the first answer again."""
    match = await match_customer(session, phone=call.caller, region=region)
    inserted = await session.scalar(
        insert(IvrRun)
        .values(
            flow_id=published.flow_id,
            version=published.version,
            provider=call.provider,
            call_ref=call.ref,
            caller=match.e164 or call.caller,
            dialled=call.dialled,
            customer_id=match.customer_id,
            customer_match=match.how,
            state={"engine": None, "call": call.details, "flow": published.name},
        )
        .on_conflict_do_nothing()
        .returning(IvrRun.id)
    )
    if inserted is None:
        return _again(await _run_of_call(session, call.provider, call.ref))
    run = await session.get(IvrRun, inserted)
    assert run is not None
    facts = await _facts(session, run)
    record(session, "ivr.started", payload=_base(run, published.name))
    turn = advance(
        published.flow, begin(published.flow, facts), CallerInput(kind="start"), facts, now
    )
    return await _apply(session, run, published.name, turn)


async def resume(
    session: AsyncSession,
    run_id: uuid.UUID,
    turn_no: int,
    given: CallerInput,
    now: datetime,
    *,
    call_ref: str | None = None,
) -> Answer:
    """Feed the caller's input (or a lookup's result) into the run's current node.

    ``turn_no`` is the turn the input answers: a retried or stale webhook (another turn)
    gets the current answer again and changes nothing.
    """
    run = await session.scalar(select(IvrRun).where(IvrRun.id == run_id).with_for_update())
    if run is None or (call_ref is not None and run.call_ref != call_ref):
        raise NotFound(f"No IVR run {run_id} for this call.", code="unknown_run")
    state = _engine_state(run)
    if state.turn != turn_no or run.status != "active":
        return _again(run)
    flow = await load_version(session, run.flow_id, run.version)
    turn = advance(flow, state, given, await _facts(session, run), now)
    return await _apply(session, run, str(run.state.get("flow", "")), turn)


async def _run_of_call(session: AsyncSession, provider: str, ref: str) -> IvrRun:
    run = await session.scalar(
        select(IvrRun).where(IvrRun.provider == provider, IvrRun.call_ref == ref)
    )
    if run is None:
        raise NotFound("No IVR run for this call.", code="unknown_run")
    return run


def _again(run: IvrRun) -> Answer:
    state = _engine_state(run) if run.state.get("engine") else None
    if state is None:
        raise NotFound("The IVR run has not started.", code="unknown_run")
    return Answer(
        run_id=run.id,
        turn=state.turn,
        instructions=list(state.last),
        language=state.language,
        caller_number=run.caller,
        contact_id=run.contact_id,
        closed_action=run.state.get("closed_action"),
        done=state.done,
    )


async def _apply(session: AsyncSession, run: IvrRun, name: str, turn: Turn) -> Answer:
    base = _base(run, name)
    state = turn.state
    for node, kind in turn.entered:
        record(
            session,
            "ivr.node_entered",
            contact_id=run.contact_id,
            payload={**base, "node": node, "type": kind},
        )
    closed_action = None
    for instruction in turn.instructions:
        if isinstance(instruction, Enqueue):
            closed_action = await _route(session, run, name, instruction, state)
    if state.outcome is not None:
        run.status = "completed"
        record(
            session,
            "ivr.completed",
            contact_id=run.contact_id,
            payload={
                **base,
                "outcome": state.outcome,
                "queue": state.queue,
                "node": state.path[-1] if state.path else None,
                "path": state.path,
            },
        )
    run.state = {
        **run.state,
        "engine": state.model_dump(mode="json"),
        "closed_action": closed_action,
    }
    await session.flush()
    return Answer(
        run_id=run.id,
        turn=state.turn,
        instructions=turn.instructions,
        language=state.language,
        caller_number=run.caller,
        contact_id=run.contact_id,
        closed_action=closed_action,
        done=state.done,
    )


def screen_pop(run: IvrRun, name: str, order: Enqueue, state: RunState) -> dict[str, Any]:
    """What the agent sees of the IVR: the flow, the language, the caller's inputs, the path."""
    return {
        "flow": name,
        "flow_id": run.flow_id,
        "version": run.version,
        "run": str(run.id),
        "language": order.language,
        "inputs": order.attributes,
        "path": state.path,
    }


async def _route(
    session: AsyncSession, run: IvrRun, name: str, order: Enqueue, state: RunState
) -> str | None:
    """Make the contact the instruction asks for; the queue's closed action, if closed."""
    call = {**run.state.get("call", {}), "language": order.language}
    attributes: dict[str, Any] = {CALL: call, "ivr": screen_pop(run, name, order, state)}
    ref = run.call_ref
    if order.kind == "voicemail":  # the message outlives the call: not the call's contact
        ref = f"{run.call_ref}:voicemail"
        attributes["voicemail"] = {"recording_url": order.recording_url}
    enqueued = await enqueue(
        session,
        NewContact(
            channel="voice",
            queue=order.queue,
            customer_id=run.customer_id,
            customer_match=run.customer_match,
            priority=order.priority,
            skills=order.skills or None,
            attributes=attributes,
            provider=run.provider,
            provider_ref=ref,
            from_address=run.caller,
            to_address=run.dialled,
        ),
    )
    run.contact_id = enqueued.contact_id
    contact = await session.get(Contact, enqueued.contact_id)
    assert contact is not None
    if order.recording_url is not None:
        contact.recording_url = order.recording_url
    if order.kind == "callback" and enqueued.closed_action is None and run.caller:
        await request_callback(session, contact.id, run.caller)
    if enqueued.closed_action is not None:
        contact.attributes = {
            **contact.attributes,
            CALL: {**call, "closed_action": enqueued.closed_action},
        }
    return enqueued.closed_action


async def hung_up(session: AsyncSession, provider: str, ref: str, *, terminal: bool) -> bool:
    """The provider says the call moved on. True when the IVR owns the call (no contact of
    the voice channel to update): then a terminal status ends a run still in the flow."""
    run = await session.scalar(
        select(IvrRun).where(IvrRun.provider == provider, IvrRun.call_ref == ref).with_for_update()
    )
    if run is None:
        return False
    if terminal and run.status == "active":
        state = _engine_state(run)
        run.status = "hung_up"
        record(
            session,
            "ivr.hung_up",
            contact_id=run.contact_id,
            payload={**_base(run, str(run.state.get("flow", ""))), "node": state.node},
        )
    voice_contact = await session.scalar(
        select(Contact.id).where(
            Contact.channel == "voice", Contact.provider == provider, Contact.provider_ref == ref
        )
    )
    return voice_contact is None


async def current(session: AsyncSession, run_id: uuid.UUID, call_ref: str | None) -> Answer:
    """Where a run stands, as its last answer."""
    run = await session.get(IvrRun, run_id)
    if run is None or (call_ref is not None and run.call_ref != call_ref):
        raise NotFound(f"No IVR run {run_id} for this call.", code="unknown_run")
    return _again(run)
