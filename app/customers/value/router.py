"""Customer value over HTTP: the rules document, evaluations, segments, blocking, changes."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status

from app.audit.service import View, record_view
from app.auth.dependencies import AdminUser, SupervisorUser
from app.customers.service import values_of
from app.customers.value import service
from app.customers.value.schemas import (
    BlockRequest,
    CustomerValueOut,
    EvaluationOut,
    RulesPublish,
    RulesVersionOut,
    SegmentOut,
    ValueChangeOut,
)
from app.dependencies import SessionDep

router = APIRouter(tags=["customer value"])
RULES = "/api/v1/customer-value/rules"


@router.get(RULES, response_model=RulesVersionOut, summary="The value rules in force")
async def get_rules(session: SessionDep, _: SupervisorUser) -> RulesVersionOut:
    version, document = await service.rules_document(session)
    return RulesVersionOut(version=version, document=document)


@router.get(
    f"{RULES}/versions", response_model=list[RulesVersionOut], summary="Published rule versions"
)
async def list_rules(session: SessionDep, _: SupervisorUser) -> list[RulesVersionOut]:
    rows = await service.rules_versions(session)
    return [RulesVersionOut.model_validate(row, from_attributes=True) for row in rows]


@router.put(
    RULES,
    response_model=RulesVersionOut,
    summary="Publish new value rules (a new version; they apply from the next evaluation)",
)
async def publish_rules(
    session: SessionDep, user: AdminUser, body: RulesPublish
) -> RulesVersionOut:
    row = await service.publish_rules(session, body.document, user.id, body.comment)
    return RulesVersionOut.model_validate(row, from_attributes=True)


@router.post(
    "/api/v1/customer-value/evaluations",
    response_model=EvaluationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Evaluate every customer now (value classes ranked anew)",
)
async def evaluate_now(session: SessionDep, _: AdminUser) -> EvaluationOut:
    report = await service.run_full_evaluation(session, as_of=datetime.now(UTC), once_per_day=False)
    assert report is not None  # once_per_day=False always evaluates
    return EvaluationOut(
        as_of=report.as_of,
        customers=report.customers,
        changes=report.changes,
        rules_version=report.rules_version,
    )


@router.get("/api/v1/segments", response_model=list[SegmentOut], summary="Segments and sizes")
async def list_segments(session: SessionDep, _: SupervisorUser) -> list[SegmentOut]:
    _version, document = await service.rules_document(session)
    counts = await service.segment_sizes(session)
    return [
        SegmentOut(name=rule.name, description=rule.description, members=counts.get(rule.name, 0))
        for rule in document.segments
    ]


@router.get(
    "/api/v1/customers/{customer_id}/value/changes",
    response_model=list[ValueChangeOut],
    summary="Every change of the customer's grade, status, VIP and value class, newest first",
)
async def value_changes(
    session: SessionDep, user: SupervisorUser, customer_id: int
) -> list[ValueChangeOut]:
    await service.require_customer(session, customer_id)
    record_view(
        session, View(actor_id=user.id, action="value", customer_id=customer_id, via="search")
    )
    rows = await service.value_changes(session, customer_id)
    return [ValueChangeOut.model_validate(row, from_attributes=True) for row in rows]


@router.put(
    "/api/v1/customers/{customer_id}/block",
    response_model=CustomerValueOut,
    summary="Block an abusive customer (status blocked, no VIP); the reason is recorded",
)
async def block(
    session: SessionDep, _: AdminUser, customer_id: int, body: BlockRequest
) -> CustomerValueOut:
    return await _set_blocked(session, customer_id, body.reason)


@router.delete(
    "/api/v1/customers/{customer_id}/block",
    response_model=CustomerValueOut,
    summary="Unblock a customer: graded again from their orders",
)
async def unblock(session: SessionDep, _: AdminUser, customer_id: int) -> CustomerValueOut:
    return await _set_blocked(session, customer_id, None)


async def _set_blocked(
    session: SessionDep, customer_id: int, reason: str | None
) -> CustomerValueOut:
    await service.require_customer(session, customer_id)
    await service.set_blocked(session, customer_id, reason, now=datetime.now(UTC))
    return (await values_of(session, [customer_id]))[customer_id]
