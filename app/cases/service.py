"""Cases, the shell: create, change, note, link and list, each in the caller's unit of work
(flushed, never committed here). Every change appends to ``case_events`` and brings the
case's SLA timers in step (``clock.refresh_timers``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases import clock
from app.cases.core.policy import choose_policy
from app.cases.core.states import (
    OPEN_STATES,
    InvalidTransition,
    State,
    check_transition,
    on_customer_wrote,
)
from app.cases.models import Case, CaseContact, CaseEvent, CaseNote, CaseSlaTimer
from app.cases.schemas import CaseCreate, CaseEventOut, CaseOut, CaseUpdate, NoteIn, NoteOut
from app.cases.settings_schemas import CasesSettings
from app.cases.settings_service import current_settings, settings_in_force
from app.contacts.models import Contact
from app.customers.models import Customer
from app.customers.value.models import CustomerValue
from app.customers.value.service import rescore_customers
from app.errors import Conflict, InvalidInput, NotFound
from app.queues.models import Queue
from app.users.models import User

LIVE_CHANNELS = ("voice", "chat")


def _now() -> datetime:
    return datetime.now(UTC)


def record_event(
    session: AsyncSession,
    case: Case,
    kind: str,
    at: datetime,
    actor_id: int | None,
    payload: dict[str, Any],
) -> CaseEvent:
    """Append one event to the case's log (written on the next flush)."""
    event = CaseEvent(
        case_id=case.id, kind=kind, occurred_at=at, actor_id=actor_id, payload=payload
    )
    session.add(event)
    return event


# ------------------------------------------------------------------ lookups


async def get_case(session: AsyncSession, case_id: int, *, lock: bool = False) -> Case:
    case = await session.get(Case, case_id, with_for_update=lock, populate_existing=lock)
    if case is None:
        raise NotFound(f"No case {case_id}.", details={"case_id": case_id})
    return case


async def queue_id_of(session: AsyncSession, name: str | None) -> int | None:
    if name is None:
        return None
    found = await session.scalar(select(Queue.id).where(Queue.name == name))
    if found is None:
        raise InvalidInput(f"No queue '{name}'.", details={"queue": name}, code="unknown_queue")
    return found


async def queue_names(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Queue.id, Queue.name).where(Queue.id.in_(wanted)))
    return dict(rows.all())


async def queue_names_by_id(session: AsyncSession, queue_id: int | None) -> str | None:
    return (await queue_names(session, [queue_id])).get(queue_id or 0)


async def queue_name_of(session: AsyncSession, case: Case) -> str | None:
    return await queue_names_by_id(session, case.queue_id)


async def _check_owner(session: AsyncSession, owner_id: int | None) -> None:
    if owner_id is None:
        return
    owner = await session.get(User, owner_id)
    if owner is None or not owner.is_active:
        raise InvalidInput(
            f"No active user {owner_id}.", details={"owner_id": owner_id}, code="unknown_owner"
        )


def _check_type(settings: CasesSettings, case_type: str) -> None:
    if case_type not in settings.type_names():
        raise InvalidInput(
            f"Unknown case type '{case_type}'.",
            details={"type": case_type, "allowed": settings.type_names()},
            code="unknown_case_type",
        )


async def _grade_and_vip(
    session: AsyncSession, customer_id: int, now: datetime
) -> tuple[str | None, bool]:
    row = (
        await session.execute(
            select(CustomerValue.grade, CustomerValue.vip_until).where(
                CustomerValue.customer_id == customer_id
            )
        )
    ).first()
    if row is None:
        return None, False
    grade, vip_until = row
    return grade, vip_until is not None and vip_until > now


# ------------------------------------------------------------------ creating


async def create_case(
    session: AsyncSession, data: CaseCreate, actor_id: int | None, now: datetime | None = None
) -> Case:
    """A new case (state ``new``) with the SLA policy that matches its type and the
    customer's grade / VIP, and its contacts linked."""
    now = now or _now()
    version, settings = await settings_in_force(session)
    _check_type(settings, data.type)
    if await session.get(Customer, data.customer_id) is None:
        raise InvalidInput(
            f"No customer {data.customer_id}.",
            details={"customer_id": data.customer_id},
            code="unknown_customer",
        )
    queue_id = await queue_id_of(session, data.queue)
    await _check_owner(session, data.owner_id)
    grade, vip = await _grade_and_vip(session, data.customer_id, now)
    chosen = choose_policy(settings.core_policies(), data.type, grade, vip)
    policy = None if chosen is None else settings.policy(chosen.name)
    case = Case(
        customer_id=data.customer_id,
        type=data.type,
        state="new",
        priority=data.priority,
        origin=data.origin,
        subject=data.subject,
        owner_id=data.owner_id,
        queue_id=queue_id,
        created_by=actor_id,
        policy=None if policy is None else policy.model_dump(mode="json"),
        settings_version=version,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    await session.flush()
    created = {
        "type": data.type,
        "origin": data.origin,
        "priority": data.priority,
        "owner_id": data.owner_id,
        "queue": data.queue,
        "policy": None if policy is None else policy.name,
        "grade": grade,
        "vip": vip,
    }
    record_event(session, case, "created", now, actor_id, created)
    for contact_id in dict.fromkeys(data.contact_ids):
        await _link(session, case, contact_id, actor_id, now)
    await clock.refresh_timers(session, case, data.queue, settings, now)
    await _segments_follow(session, case, was_open=False, now=now)
    return case


async def _segments_follow(
    session: AsyncSession, case: Case, *, was_open: bool, now: datetime
) -> None:
    """A case that opened or left the open states changes its customer's ``open_cases``
    segment fact: the customer is rescored at once, as for a new order."""
    if (case.state in OPEN_STATES) != was_open:
        await session.flush()
        await rescore_customers(session, [case.customer_id], now=now)


# ------------------------------------------------------------------ changing


def _set_state(
    session: AsyncSession,
    case: Case,
    wanted: State,
    actor_id: int | None,
    now: datetime,
    reason: str | None = None,
) -> None:
    current: State = case.state  # type: ignore[assignment]
    try:
        check_transition(current, wanted)
    except InvalidTransition as exc:
        raise Conflict(
            str(exc),
            details={"state": current, "wanted": wanted, "allowed": exc.allowed},
            code="invalid_transition",
        ) from exc
    move_state(session, case, wanted, actor_id, now, reason)


def move_state(
    session: AsyncSession,
    case: Case,
    wanted: State,
    actor_id: int | None,
    now: datetime,
    reason: str | None,
) -> None:
    """Record and apply ``case.state → wanted`` (not checked: the caller decided)."""
    change = {"from": case.state, "to": wanted, "reason": reason}
    record_event(session, case, "state_changed", now, actor_id, change)
    case.state = wanted
    if wanted == "resolved":
        case.resolved_at = now
    elif wanted == "closed":
        case.closed_at = now
    case.updated_at = now


async def update_case(
    session: AsyncSession,
    case_id: int,
    data: CaseUpdate,
    actor_id: int | None,
    now: datetime | None = None,
) -> Case:
    """Apply the fields ``data`` sets (state, priority, owner, queue), each recorded; an
    invalid state change is a 409 and nothing is stored."""
    now = now or _now()
    fields = data.model_fields_set
    case = await get_case(session, case_id, lock=True)
    was_open = case.state in OPEN_STATES
    settings = await current_settings(session)
    if "queue" in fields:
        queue_id = await queue_id_of(session, data.queue)
        if queue_id != case.queue_id:
            before = await queue_name_of(session, case)
            change = {"from": before, "to": data.queue}
            record_event(session, case, "queue_changed", now, actor_id, change)
            case.queue_id = queue_id
    if "owner_id" in fields and data.owner_id != case.owner_id:
        await _check_owner(session, data.owner_id)
        owners = {"from": case.owner_id, "to": data.owner_id}
        record_event(session, case, "owner_changed", now, actor_id, owners)
        case.owner_id = data.owner_id
    if data.priority is not None and data.priority != case.priority:
        priorities = {"from": case.priority, "to": data.priority}
        record_event(session, case, "priority_changed", now, actor_id, priorities)
        case.priority = data.priority
    if data.state is not None and data.state != case.state:
        _set_state(session, case, data.state, actor_id, now, data.reason)
    case.updated_at = now
    await clock.refresh_timers(session, case, await queue_name_of(session, case), settings, now)
    await _segments_follow(session, case, was_open=was_open, now=now)
    return case


async def add_note(
    session: AsyncSession, case_id: int, note: NoteIn, author_id: int, now: datetime | None = None
) -> CaseNote:
    """A note on an open case; a ``reply`` note is a response to the customer."""
    now = now or _now()
    case = await get_case(session, case_id, lock=True)
    if case.state == "closed":
        raise Conflict(f"Case {case.id} is closed.", details={"state": case.state}, code="closed")
    row = CaseNote(case_id=case.id, author_id=author_id, kind=note.kind, body=note.body)
    row.created_at = now
    session.add(row)
    await session.flush()
    added = {"note_id": row.id, "kind": note.kind}
    record_event(session, case, "note_added", now, author_id, added)
    case.updated_at = now
    settings = await current_settings(session)
    await clock.refresh_timers(session, case, await queue_name_of(session, case), settings, now)
    return row


# ------------------------------------------------------------------ linking contacts


async def _link(
    session: AsyncSession, case: Case, contact_id: int, actor_id: int | None, now: datetime
) -> bool:
    """Link the contact (False: it was linked already). An inbound contact is the customer
    writing: a pending case opens again, a recently resolved one is reopened."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise InvalidInput(
            f"No contact {contact_id}.", details={"contact_id": contact_id}, code="unknown_contact"
        )
    if contact.customer_id not in (None, case.customer_id):
        raise InvalidInput(
            f"Contact {contact_id} belongs to another customer.",
            details={"contact_id": contact_id},
            code="other_customer",
        )
    linked = await session.get(CaseContact, (case.id, contact_id))
    if linked is not None:
        return False
    if contact.direction == "inbound":
        await _customer_wrote(session, case, actor_id, now)
    session.add(CaseContact(case_id=case.id, contact_id=contact_id, linked_by=actor_id))
    conversation = contact.channel in LIVE_CHANNELS and contact.answered_at is not None
    linked_contact = {
        "contact_id": contact_id,
        "channel": contact.channel,
        "direction": contact.direction,
        "conversation": conversation,
    }
    record_event(session, case, "contact_linked", now, actor_id, linked_contact)
    await session.flush()
    return True


async def _customer_wrote(
    session: AsyncSession, case: Case, actor_id: int | None, now: datetime
) -> None:
    settings = await current_settings(session)
    outcome = on_customer_wrote(
        case.state,  # type: ignore[arg-type]
        case.resolved_at,
        now,
        settings.reopen_within,
    )
    if outcome.refused is not None:
        raise Conflict(
            f"Case {case.id} takes no new messages ({outcome.refused}); open a new case.",
            details={"state": case.state, "reason": outcome.refused},
            code=outcome.refused,
        )
    if outcome.state is not None:
        move_state(session, case, outcome.state, actor_id, now, "customer_wrote")


async def link_contact(
    session: AsyncSession,
    case_id: int,
    contact_id: int,
    actor_id: int | None,
    now: datetime | None = None,
) -> Case:
    now = now or _now()
    case = await get_case(session, case_id, lock=True)
    was_open = case.state in OPEN_STATES
    if await _link(session, case, contact_id, actor_id, now):
        case.updated_at = now
        settings = await current_settings(session)
        queue = await queue_name_of(session, case)
        await clock.refresh_timers(session, case, queue, settings, now)
        await _segments_follow(session, case, was_open=was_open, now=now)
    return case


async def cases_of_contact(session: AsyncSession, contact_id: int) -> list[int]:
    rows = await session.scalars(
        select(CaseContact.case_id).where(CaseContact.contact_id == contact_id)
    )
    return list(rows)


# ------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class CaseFilter:
    customer_id: int | None = None
    type: str | None = None
    state: str | None = None
    owner_id: int | None = None
    queue: str | None = None
    breached: bool | None = None


def _breached_now() -> Any:
    return exists().where(
        CaseSlaTimer.case_id == Case.id,
        CaseSlaTimer.level == "breach",
        CaseSlaTimer.due_at <= func.now(),
    )


def _filtered(query: Select[Case], found: CaseFilter) -> Select[Case]:
    if found.customer_id is not None:
        query = query.where(Case.customer_id == found.customer_id)
    if found.type is not None:
        query = query.where(Case.type == found.type)
    if found.state is not None:
        query = query.where(Case.state == found.state)
    if found.owner_id is not None:
        query = query.where(Case.owner_id == found.owner_id)
    if found.queue is not None:
        query = query.where(Case.queue_id.in_(select(Queue.id).where(Queue.name == found.queue)))
    if found.breached is not None:
        query = query.where(_breached_now() if found.breached else ~_breached_now())
    return query


async def list_cases(
    session: AsyncSession, found: CaseFilter, before_id: int | None, limit: int
) -> list[Case]:
    """Newest first, ``limit + 1`` rows (the extra one says there is a next page)."""
    query = select(Case).order_by(Case.id.desc()).limit(limit + 1)
    if before_id is not None:
        query = query.where(Case.id < before_id)
    return list(await session.scalars(_filtered(query, found)))


async def _contact_ids(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {i: [] for i in case_ids}
    rows = await session.execute(
        select(CaseContact.case_id, CaseContact.contact_id)
        .where(CaseContact.case_id.in_(case_ids))
        .order_by(CaseContact.linked_at, CaseContact.contact_id)
    )
    for case_id, contact_id in rows:
        found[case_id].append(contact_id)
    return found


async def cases_out(
    session: AsyncSession, cases: Sequence[Case], now: datetime | None = None
) -> list[CaseOut]:
    """The cases as the API shows them, their SLA measured at ``now``."""
    now = now or _now()
    ids = [c.id for c in cases]
    settings = await current_settings(session)
    events = await clock.events_of(session, ids)
    contacts = await _contact_ids(session, ids)
    names = await queue_names(session, [c.queue_id for c in cases])
    out = []
    for case in cases:
        queue = names.get(case.queue_id or 0)
        status = clock.status_of(case, events[case.id], settings, queue, now)
        out.append(
            CaseOut(
                id=case.id,
                customer_id=case.customer_id,
                type=case.type,
                state=case.state,
                priority=case.priority,
                origin=case.origin,
                subject=case.subject,
                owner_id=case.owner_id,
                queue=queue,
                policy=None if case.policy is None else case.policy.get("name"),
                contact_ids=contacts[case.id],
                created_at=case.created_at,
                updated_at=case.updated_at,
                resolved_at=case.resolved_at,
                closed_at=case.closed_at,
                sla=clock.sla_out(status),
                breached=status is not None and status.breached(),
            )
        )
    return out


async def case_out(session: AsyncSession, case: Case) -> CaseOut:
    return (await cases_out(session, [case]))[0]


async def timeline(session: AsyncSession, case_id: int) -> list[CaseEventOut]:
    """The case's events in order, each note's text beside its ``note_added`` event."""
    events = (await clock.events_of(session, [case_id]))[case_id]
    notes = {
        n.id: n for n in await session.scalars(select(CaseNote).where(CaseNote.case_id == case_id))
    }
    out = []
    for event in events:
        note = notes.get(event.payload.get("note_id", 0)) if event.kind == "note_added" else None
        out.append(
            CaseEventOut(
                id=event.id,
                kind=event.kind,
                occurred_at=event.occurred_at,
                actor_id=event.actor_id,
                data=event.payload,
                note=None if note is None else NoteOut.model_validate(note, from_attributes=True),
            )
        )
    return out


async def refresh_open_cases(session: AsyncSession, now: datetime | None = None) -> int:
    """Bring every open case's timers in step with the settings in force (after a change
    of calendars); how many cases."""
    now = now or _now()
    settings = await current_settings(session)
    cases = list(await session.scalars(select(Case).where(Case.state != "closed")))
    names = await queue_names(session, [c.queue_id for c in cases])
    for case in cases:
        await clock.refresh_timers(session, case, names.get(case.queue_id or 0), settings, now)
    return len(cases)
