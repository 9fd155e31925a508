"""Proactive care, the shell: the rules, planning a day's touches, and acting on them.

Planning reads the customers a day's rules can reach in a few set-based queries (one per
kind of anchor, unioned, then their facts in one more), hands them to the pure
``app.care.core.plan_day`` and inserts the touches with ``ON CONFLICT DO NOTHING`` on
``(rule_key, customer_id, occurrence)``: planning a day twice, at once on two instances or
after a restart creates each touch once.

Acting claims pending touches ``FOR UPDATE SKIP LOCKED`` and, for each, asks consent
(``admit_touch``) just before it mails or calls, in the same unit of work. Services flush,
never commit.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    extract,
    func,
    literal,
    or_,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app import fastjson
from app.care import core, templates
from app.care.calls import place_care_call
from app.care.models import CareRule, CareTouch
from app.care.schemas import CareRuleOut, CareRuleUpdate, CareRunOut, PlannedTouchOut
from app.channels.email.service import queue_system_mail
from app.channels.models import EntryPoint
from app.config import Settings
from app.consent.core import Touch
from app.consent.service import TouchRef, admit_touch, policy_from_settings
from app.contacts.models import Contact
from app.customers.models import Customer, CustomerEmail
from app.customers.value.models import CustomerValue
from app.database import driver_connection
from app.errors import AppError, InvalidInput, NotFound
from app.orders.models import SALE_STATUSES, Order
from app.queues.models import Queue
from app.routing.service import queue_by_name
from app.skills.service import skill_ids_by_name

BATCH = 100
INSERT_CHUNK = 20_000
LISTED = 1000
CONSENT_CHANNEL = {"email": "email", "call": "voice"}
CLEARABLE = frozenset({"queue", "priority"})
"""The rule fields a change may set to null; null for any other leaves it as it is."""
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


# ---------------------------------------------------------------- rules


async def rules(session: AsyncSession) -> list[CareRule]:
    return list(await session.scalars(select(CareRule).order_by(CareRule.key)))


async def rules_changed_at(session: AsyncSession) -> datetime | None:
    changed: datetime | None = await session.scalar(select(func.max(CareRule.updated_at)))
    return changed


async def update_rule(
    session: AsyncSession, key: str, change: CareRuleUpdate, user_id: int
) -> CareRule:
    """Apply ``change`` to the rule and check the result: templates render in both
    languages (422 ``template_invalid``), an enabled call rule has a queue (422
    ``queue_required``), its queue and skills exist."""
    rule = await session.get(CareRule, key, with_for_update=True)
    if rule is None:
        raise NotFound(f"No care rule {key}.", details={"key": key})
    values = change.model_dump(exclude_unset=True, by_alias=True, mode="json")
    values.pop("send_time", None)
    for name, value in values.items():
        if value is not None or name in CLEARABLE:
            setattr(rule, name, value)
    send_time = change.send_time_of_day()
    if send_time is not None:
        rule.send_time = send_time
    templates.validate(rule.templates, needs_subject=rule.channel == "email")
    if rule.channel == "call" and rule.enabled and rule.queue is None:
        raise InvalidInput(
            "A call rule needs a queue to be switched on.",
            details={"key": key},
            code="queue_required",
        )
    if rule.queue is not None:
        await queue_by_name(session, rule.queue)
    if rule.skills:
        await skill_ids_by_name(session, [s["skill"] for s in rule.skills])
    rule.updated_by, rule.updated_at = user_id, func.now()
    await session.flush()
    await session.refresh(rule)
    return rule


def to_core(rule: CareRule) -> core.Rule:
    audience = rule.audience or {}
    return core.Rule(
        rule.key,
        rule.trigger,
        rule.offset_days,
        core.Audience(
            grades=frozenset(audience.get("grades", ())),
            segments=frozenset(audience.get("segments", ())),
            value_classes=frozenset(audience.get("value_classes", ())),
            vip_only=bool(audience.get("vip_only", False)),
        ),
    )


# ---------------------------------------------------------------- planning a day


def _local_span(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone),
    )


@functools.lru_cache(maxsize=32)
def _holidays_of(country: str, year: int) -> tuple[tuple[date, str], ...]:
    return tuple(holiday_calendars.country_holidays(country, years=[year]).items())


def holidays_around(day: date, country: str) -> dict[date, str]:
    """The public holidays of ``country`` in the years around ``day``."""
    return {
        when: name
        for year in (day.year - 1, day.year, day.year + 1)
        for when, name in _holidays_of(country, year)
    }


def _in_days(column: Any, days: Iterable[date], zone: ZoneInfo) -> ColumnElement[bool]:
    spans = [_local_span(day, zone) for day in sorted(set(days))]
    return or_(*(and_(column >= start, column < end) for start, end in spans))


def _birthday_dates(anchors: Iterable[date]) -> list[tuple[int, int]]:
    """(month, day) of the birthdays celebrated on ``anchors`` (29 February on 28 in
    common years)."""
    found: set[tuple[int, int]] = set()
    for anchor in anchors:
        found.add((anchor.month, anchor.day))
        if (anchor.month, anchor.day) == (2, 28) and core.birthday_in(
            anchor.year, date(2000, 2, 29)
        ) == anchor:
            found.add((2, 29))
    return sorted(found)


def _audience_where(audience: core.Audience, day_start: datetime) -> list[ColumnElement[bool]]:
    """The audience as SQL over ``customer_values`` (the core checks it again)."""
    where: list[ColumnElement[bool]] = []
    if audience.grades:
        where.append(CustomerValue.grade.in_(sorted(audience.grades)))
    if audience.segments:
        where.append(CustomerValue.segments.overlap(sorted(audience.segments)))
    if audience.value_classes:
        where.append(CustomerValue.value_class.in_(sorted(audience.value_classes)))
    if audience.vip_only:
        where.append(CustomerValue.vip_since.is_not(None))
        where.append(or_(CustomerValue.vip_until.is_(None), CustomerValue.vip_until >= day_start))
    return where


def _candidates(
    plan: Sequence[core.Rule],
    day: date,
    zone: ZoneInfo,
    firsts: dict[date, str],
    buyers: Sequence[int],
) -> list[Select[Any]]:
    """The queries of the customer ids the day's rules may reach besides ``buyers`` (those
    with a sale on an anchor day): birthdays in one scan of ``customers``, every anchor on
    ``customer_values`` in one scan of it."""
    anchors: dict[str, list[date]] = {}
    for rule in plan:
        anchors.setdefault(rule.trigger, []).append(core.anchor_day(rule, day))
    queries: list[Select[Any]] = []
    if buyers:
        queries.append(select(func.unnest(literal(list(buyers), ARRAY(BigInteger)))))
    if "birthday" in anchors:
        born = tuple_(extract("month", Customer.birthday), extract("day", Customer.birthday))
        queries.append(
            select(Customer.id).where(
                Customer.birthday.is_not(None), born.in_(_birthday_dates(anchors["birthday"]))
            )
        )
    on_values = [
        _in_days(getattr(CustomerValue, attribute), anchors[trigger], zone)
        for trigger, attribute in core.INSTANT_OF.items()
        if trigger in anchors
    ]
    day_start = _local_span(day, zone)[0]
    for rule in plan:
        if rule.trigger == "holiday" and core.anchor_day(rule, day) in firsts:
            where = _audience_where(rule.audience, day_start)
            if not where:  # everyone
                return [select(Customer.id)]
            on_values.append(and_(*where))
    if on_values:
        queries.append(select(CustomerValue.customer_id).where(or_(*on_values)))
    return queries


async def _sales(
    session: AsyncSession, plan: Sequence[core.Rule], day: date, zone: ZoneInfo
) -> dict[int, list[core.Sale]]:
    """The sales on the anchor days of the day's after-sale rules, by customer."""
    days = [core.anchor_day(rule, day) for rule in plan if rule.trigger == "after_sale"]
    if not days:
        return {}
    rows = await session.execute(
        select(Order.id, Order.customer_id, Order.external_id, Order.placed_at).where(
            Order.status.in_(SALE_STATUSES), _in_days(Order.placed_at, days, zone)
        )
    )
    sales: dict[int, list[core.Sale]] = {}
    for order_id, customer_id, external_id, placed_at in rows:
        sales.setdefault(customer_id, []).append(core.Sale(order_id, external_id, placed_at))
    return sales


async def customer_facts(
    session: AsyncSession,
    plan: Sequence[core.Rule],
    day: date,
    zone: ZoneInfo,
    firsts: dict[date, str],
) -> list[core.CustomerFacts]:
    """The facts of every customer the day's rules may reach (a superset: the core decides)."""
    sales = await _sales(session, plan, day, zone)
    queries = _candidates(plan, day, zone, firsts, sorted(sales))
    if not queries:
        return []
    ids = union(*queries).subquery()
    rows = await session.execute(
        select(
            Customer.id,
            Customer.birthday,
            CustomerValue.vip_since,
            CustomerValue.vip_until,
            CustomerValue.last_sale_at,
            CustomerValue.grade,
            CustomerValue.segments,
            func.coalesce(CustomerValue.value_class, literal("normal")),
            func.coalesce(CustomerValue.status, literal("prospect")),
        )
        .join(ids, ids.c[0] == Customer.id)
        .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
        .where(Customer.erased_at.is_(None))
    )
    return [
        core.CustomerFacts(
            customer_id=row[0],
            birthday=row[1],
            sales=tuple(sales.get(row[0], ())),
            vip_since=row[2],
            vip_until=row[3],
            last_sale_at=row[4],
            grade=row[5],
            segments=frozenset(row[6] or ()),
            value_class=row[7],
            status=row[8],
        )
        for row in rows
    ]


async def plan(
    session: AsyncSession, day: date, settings: Settings
) -> tuple[list[core.PlannedTouch], dict[str, CareRule]]:
    """The day's touches by the enabled rules, and those rules by key."""
    enabled = {rule.key: rule for rule in await rules(session) if rule.enabled}
    plan_rules = [to_core(rule) for rule in enabled.values()]
    found = holidays_around(day, settings.care_holiday_country)
    facts = await customer_facts(
        session, plan_rules, day, settings.zone, core.first_holiday_days(found)
    )
    return core.plan_day(day, settings.zone, plan_rules, facts, found), enabled


# the day's touches as arrays, one statement however many: a multi-row VALUES of thousands
# of rows costs more to build than to run
_INSERT_TOUCHES = """
INSERT INTO care_touches (rule_key, customer_id, occurrence, day, due_at, context)
SELECT t.rule_key, t.customer_id, t.occurrence, $1, t.due_at, t.context::jsonb
FROM unnest($2::text[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[])
    AS t(rule_key, customer_id, occurrence, due_at, context)
ON CONFLICT ON CONSTRAINT uq_care_touches_occurrence DO NOTHING
"""


async def create_day(
    session: AsyncSession, day: date, settings: Settings
) -> tuple[list[core.PlannedTouch], int]:
    """Insert the day's touches that do not exist yet: (the day's plan, how many were new)."""
    touches, enabled = await plan(session, day, settings)
    due = {
        key: datetime.combine(day, rule.send_time, settings.zone) for key, rule in enabled.items()
    }
    created = 0
    for start in range(0, len(touches), INSERT_CHUNK):
        chunk = touches[start : start + INSERT_CHUNK]
        status = await (await driver_connection(session)).execute(
            _INSERT_TOUCHES,
            day,
            [t.rule_key for t in chunk],
            [t.customer_id for t in chunk],
            [t.occurrence for t in chunk],
            [due[t.rule_key] for t in chunk],
            [fastjson.dumps(dict(t.context)) for t in chunk],
        )
        created += int(status.split()[-1])
    return touches, created


# ---------------------------------------------------------------- acting


async def _email_of(session: AsyncSession, customer_id: int) -> str | None:
    address: str | None = await session.scalar(
        select(CustomerEmail.email)
        .where(CustomerEmail.customer_id == customer_id)
        .order_by(CustomerEmail.id)
        .limit(1)
    )
    return address


async def _sender_of(session: AsyncSession, rule: CareRule) -> EntryPoint | None:
    """The support address care mail goes out from: the rule's queue's if it has one."""
    queue_id = await session.scalar(select(Queue.id).where(Queue.name == rule.queue))
    point: EntryPoint | None = await session.scalar(
        select(EntryPoint)
        .where(EntryPoint.channel == "email")
        .order_by((EntryPoint.queue_id == queue_id).desc().nulls_last(), EntryPoint.id)
        .limit(1)
    )
    return point


async def _send_email(
    session: AsyncSession,
    touch: CareTouch,
    sender: EntryPoint,
    address: str,
    settings: Settings,
    now: datetime,
) -> int:
    """The rendered mail as an outbound email contact, queued in the outbox (the email
    sender delivers it after commit, with its retries)."""
    rendered = touch.rendered or {}
    subject = str(rendered.get("subject") or "")
    contact = Contact(
        channel="email",
        direction="outbound",
        state="ended",
        customer_id=touch.customer_id,
        customer_match="provided",
        queue_id=sender.queue_id,
        from_address=address,
        to_address=sender.address,
        subject=subject,
        ended_at=now,
        attributes={"care_touch_id": touch.id},
    )
    session.add(contact)
    await session.flush()
    message, _ = await queue_system_mail(
        session, contact, str(rendered.get("body") or ""), settings, "care"
    )
    message.meta = {**message.meta, "subject": f"{subject} [#{contact.id}]"}
    return contact.id


def _finish(touch: CareTouch, outcome: str, now: datetime, reason: str | None = None) -> str:
    touch.outcome, touch.reason, touch.acted_at = outcome, reason, now
    return outcome


async def _act(
    session: AsyncSession,
    touch: CareTouch,
    rule: CareRule,
    customer: Customer,
    now: datetime,
    settings: Settings,
) -> str:
    """Mail or call for one claimed touch, consent asked just before; the outcome."""
    if not rule.enabled:
        return _finish(touch, "skipped", now, "rule_disabled")
    if customer.erased_at is not None:
        return _finish(touch, "skipped", now, "erased")
    context = {
        **touch.context,
        "customer": {"name": customer.name, "id": customer.id},
        "day": touch.day.isoformat(),
    }
    try:
        touch.rendered = templates.render(rule.templates, customer.language, context).as_json()
    except Exception:  # a template valid when saved may still fail on a customer's data
        return _finish(touch, "failed", now, "template_error")
    address = sender = None
    if rule.channel == "email":
        address, sender = await _email_of(session, customer.id), await _sender_of(session, rule)
        if address is None or sender is None:
            return _finish(touch, "failed", now, "no_email" if address is None else "no_sender")
    try:
        # a refusal from the outbox or routing undoes the touch log entry with the rest
        async with session.begin_nested():
            outcome, reason, contact_id = await _gate_and_act(
                session, touch, rule, (sender, address), now, settings
            )
    except AppError as exc:
        return _finish(touch, "failed", now, exc.code)
    touch.contact_id = contact_id
    return _finish(touch, outcome, now, reason)


async def _gate_and_act(
    session: AsyncSession,
    touch: CareTouch,
    rule: CareRule,
    mail: tuple[EntryPoint | None, str | None],
    now: datetime,
    settings: Settings,
) -> tuple[str, str | None, int | None]:
    """Consent, then the mail or the call: (outcome, reason, contact). A call asks consent
    in ``app.outbound`` (once: a second ask would count the marketing cap twice)."""
    if rule.channel == "call":
        placed = await place_care_call(session, touch, rule, now)
        if placed.contact_id is None:
            return "suppressed", placed.suppressed_reason, None
        return "called", None, placed.contact_id
    decision = await admit_touch(
        session,
        touch.customer_id,
        Touch(CONSENT_CHANNEL[rule.channel], rule.purpose),  # type: ignore[arg-type]
        now,
        TouchRef("care", f"care_touch:{touch.id}"),
        policy=policy_from_settings(settings),
    )
    if not decision.allowed:
        return "suppressed", decision.reason, None
    sender, address = mail
    assert sender is not None  # both checked for an email rule
    assert address is not None
    return "emailed", None, await _send_email(session, touch, sender, address, settings, now)


async def expire_past(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Skip (``expired``) the touches still pending from a day before today: a greeting or
    a day-7 call is not made days late when the scheduler was down. How many."""
    today = now.astimezone(settings.zone).date()
    result = await session.execute(
        update(CareTouch)
        .where(
            CareTouch.outcome == "pending",
            CareTouch.due_at < _local_span(today, settings.zone)[0],
            CareTouch.day < today,
        )
        .values(outcome="skipped", reason="expired", acted_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def dispatch(
    session: AsyncSession, now: datetime, settings: Settings, *, day: date | None = None
) -> Counter[str]:
    """Act on one batch of pending touches: those due by ``now``, or (``day`` given) the
    day's, due or not. Outcomes counted."""
    query = (
        select(CareTouch, CareRule, Customer)
        .join(CareRule, CareRule.key == CareTouch.rule_key)
        .join(Customer, Customer.id == CareTouch.customer_id)
        .where(CareTouch.outcome == "pending")
    )
    query = (
        query.where(CareTouch.day == day)
        if day is not None
        else query.where(CareTouch.due_at <= now)
    )
    claimed = (
        await session.execute(
            query.order_by(CareTouch.due_at, CareTouch.id)
            .limit(BATCH)
            .with_for_update(of=CareTouch, skip_locked=True)
        )
    ).all()
    outcomes: Counter[str] = Counter()
    for touch, rule, customer in claimed:
        outcomes[await _act(session, touch, rule, customer, now, settings)] += 1
    await session.flush()
    return outcomes


async def run_day(
    session: AsyncSession, day: date, settings: Settings, now: datetime, *, dry_run: bool
) -> CareRunOut:
    """A day by hand: its plan (dry run), or its touches created and acted on now.
    422 ``date_out_of_range`` outside the years care plans (``FIRST_DAY``..``LAST_DAY``)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            "Care plans days from 2000 to 2099.",
            details={"date": day.isoformat()},
            code="date_out_of_range",
        )
    outcomes: Counter[str] = Counter()
    if dry_run:
        touches, created = (await plan(session, day, settings))[0], 0
    else:
        touches, created = await create_day(session, day, settings)
        while True:
            batch = await dispatch(session, now, settings, day=day)
            outcomes.update(batch)
            if sum(batch.values()) < BATCH:
                break
    return CareRunOut(
        date=day,
        dry_run=dry_run,
        planned=len(touches),
        created=created,
        touches=[
            PlannedTouchOut(rule_key=t.rule_key, customer_id=t.customer_id, occurrence=t.occurrence)
            for t in touches[:LISTED]
        ],
        outcomes=dict(outcomes),
    )


# ---------------------------------------------------------------- reading touches


async def require_customer(session: AsyncSession, customer_id: int) -> None:
    if await session.get(Customer, customer_id) is None:
        raise NotFound(f"No customer {customer_id}.", details={"customer_id": customer_id})


async def touches_page(
    session: AsyncSession,
    *,
    customer_id: int | None = None,
    day: date | None = None,
    rule: str | None = None,
    outcome: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[CareTouch]:
    """Touches newest first, filtered; ``limit + 1`` rows to tell a next page."""
    query = select(CareTouch).order_by(CareTouch.id.desc()).limit(limit + 1)
    for column, value in (
        (CareTouch.customer_id, customer_id),
        (CareTouch.day, day),
        (CareTouch.rule_key, rule),
        (CareTouch.outcome, outcome),
    ):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(CareTouch.id < before_id)
    return list(await session.scalars(query))


def to_out(rule: CareRule) -> CareRuleOut:
    """The rule as the API shows it (``send_time`` as ``HH:MM``)."""
    columns = {c.key: getattr(rule, c.key) for c in CareRule.__table__.columns}
    return CareRuleOut.model_validate({**columns, "send_time": rule.send_time.strftime("%H:%M")})
