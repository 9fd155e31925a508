from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import BigInteger, Select, bindparam, delete, func, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.consent.service import apply_profile_flags
from app.customers.identity import (
    InvalidEmail,
    InvalidPhone,
    Phone,
    normalize_email,
    normalize_phone,
)
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.schemas import Consent, CustomerCreate, CustomerOut, CustomerUpdate, PhoneOut
from app.customers.value.models import CustomerValue
from app.customers.value.schemas import CustomerValueOut, value_json_sql
from app.errors import InvalidInput, NotFound


def parse_phones(raw_phones: Sequence[str], region: str) -> list[Phone]:
    phones: dict[str, Phone] = {}
    bad: list[str] = []
    for raw in raw_phones:
        try:
            phone = normalize_phone(raw, region)
        except InvalidPhone:
            bad.append(raw)
            continue
        phones.setdefault(phone.e164, phone)
    if bad:
        raise InvalidInput(
            "Not a valid phone number.", details={"invalid_phones": bad}, code="invalid_phone"
        )
    return list(phones.values())


def parse_emails(raw_emails: Sequence[str]) -> list[str]:
    emails: list[str] = []
    bad: list[str] = []
    for raw in raw_emails:
        try:
            email = normalize_email(raw)
        except InvalidEmail:
            bad.append(raw)
            continue
        if email not in emails:
            emails.append(email)
    if bad:
        raise InvalidInput(
            "Not a valid email address.", details={"invalid_emails": bad}, code="invalid_email"
        )
    return emails


async def contact_points_of(
    session: AsyncSession, customer_ids: list[int]
) -> tuple[dict[int, list[PhoneOut]], dict[int, list[str]]]:
    phones: dict[int, list[PhoneOut]] = defaultdict(list)
    emails: dict[int, list[str]] = defaultdict(list)
    if not customer_ids:
        return phones, emails
    for row in await session.scalars(
        select(CustomerPhone)
        .where(CustomerPhone.customer_id.in_(customer_ids))
        .order_by(CustomerPhone.id)
    ):
        phones[row.customer_id].append(
            PhoneOut(e164=row.e164, extension=row.extension, label=row.label)
        )
    for email_row in await session.scalars(
        select(CustomerEmail)
        .where(CustomerEmail.customer_id.in_(customer_ids))
        .order_by(CustomerEmail.id)
    ):
        emails[email_row.customer_id].append(email_row.email)
    return phones, emails


def customer_out(
    customer: Customer,
    phones: list[PhoneOut],
    emails: list[str],
    value: CustomerValueOut | None = None,
) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        name=customer.name,
        phones=phones,
        emails=emails,
        language=customer.language,
        birthday=customer.birthday,
        tags=customer.tags,
        attributes=customer.attributes,
        consent=Consent.model_validate(customer.consent),
        value=value or CustomerValueOut(),
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        erased_at=customer.erased_at,
    )


async def customers_out(session: AsyncSession, customers: Sequence[Customer]) -> list[CustomerOut]:
    ids = [c.id for c in customers]
    phones, emails = await contact_points_of(session, ids)
    values = await values_of(session, ids)
    return [
        customer_out(c, phones.get(c.id, []), emails.get(c.id, []), values.get(c.id))
        for c in customers
    ]


_VALUES_SQL = text(
    f"SELECT i AS id, {value_json_sql('i')}::text AS value FROM unnest(:ids) AS i"  # noqa: S608
)


async def values_of(session: AsyncSession, customer_ids: list[int]) -> dict[int, CustomerValueOut]:
    """Each customer's value as the API shows it (the same JSON the screen-pop reads)."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        _VALUES_SQL.bindparams(bindparam("ids", type_=ARRAY(BigInteger))), {"ids": customer_ids}
    )
    return {row.id: CustomerValueOut.model_validate_json(row.value) for row in rows}


async def _replace_phones(session: AsyncSession, customer_id: int, phones: list[Phone]) -> None:
    await session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == customer_id))
    session.add_all(
        CustomerPhone(customer_id=customer_id, e164=p.e164, extension=p.extension) for p in phones
    )


async def _replace_emails(session: AsyncSession, customer_id: int, emails: list[str]) -> None:
    await session.execute(delete(CustomerEmail).where(CustomerEmail.customer_id == customer_id))
    session.add_all(CustomerEmail(customer_id=customer_id, email=e) for e in emails)


async def create_customer(session: AsyncSession, data: CustomerCreate, region: str) -> CustomerOut:
    phones = parse_phones(data.phones, region)
    emails = parse_emails(data.emails)
    customer = Customer(
        name=data.name,
        language=data.language,
        birthday=data.birthday,
        tags=data.tags,
        attributes=data.attributes,
        consent=data.consent.model_dump(exclude_none=True),
    )
    session.add(customer)
    await session.flush()
    await _replace_phones(session, customer.id, phones)
    await _replace_emails(session, customer.id, emails)
    await apply_profile_flags(session, customer.id, customer.consent, None)
    await session.flush()
    await session.refresh(customer)
    return (await customers_out(session, [customer]))[0]


async def get_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.", details={"customer_id": customer_id})
    return customer


async def list_customers(
    session: AsyncSession,
    *,
    after_id: int | None,
    limit: int,
    name: str | None,
    phone: str | None,
    email: str | None,
    region: str,
    grade: str | None = None,
    vip: bool | None = None,
    value_class: str | None = None,
    segment: str | None = None,
) -> list[Customer]:
    query = select(Customer).order_by(Customer.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Customer.id > after_id)
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Customer.name.ilike(f"%{escaped}%"))
    if phone:
        e164 = parse_phones([phone], region)[0].e164
        query = query.where(
            Customer.id.in_(select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164))
        )
    if email:
        address = parse_emails([email])[0]
        query = query.where(
            Customer.id.in_(select(CustomerEmail.customer_id).where(CustomerEmail.email == address))
        )
    return list(await session.scalars(_value_filters(query, grade, vip, value_class, segment)))


def _value_filters(
    query: Select[Customer],
    grade: str | None,
    vip: bool | None,
    value_class: str | None,
    segment: str | None,
) -> Select[Customer]:
    """Filters on the customer's latest evaluation; a customer never evaluated is a
    prospect: no grade, no VIP, class normal, in no segment."""
    conditions = []
    if grade:
        conditions.append(CustomerValue.grade == grade)
    if vip is not None:
        conditions.append(func.coalesce(CustomerValue.vip_until > func.now(), False).is_(vip))
    if value_class:
        conditions.append(func.coalesce(CustomerValue.value_class, "normal") == value_class)
    if segment:
        conditions.append(CustomerValue.segments.contains([segment]))
    if not conditions:
        return query
    joined = query.outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
    return joined.where(*conditions)


async def update_customer(
    session: AsyncSession, customer_id: int, data: CustomerUpdate, region: str
) -> CustomerOut:
    customer = await get_customer(session, customer_id)
    phones = None if data.phones is None else parse_phones(data.phones, region)
    emails = None if data.emails is None else parse_emails(data.emails)
    for field in ("name", "language", "birthday", "tags", "attributes"):
        value = getattr(data, field)
        if value is not None:
            setattr(customer, field, value)
    if data.consent is not None:
        flags = data.consent.model_dump(exclude_none=True)
        customer.consent = {**customer.consent, **flags}
        await apply_profile_flags(session, customer_id, flags, None)
    if phones is not None:
        await _replace_phones(session, customer_id, phones)
    if emails is not None:
        await _replace_emails(session, customer_id, emails)
    await session.flush()
    await session.refresh(customer)
    return (await customers_out(session, [customer]))[0]


async def find_by_phone_or_email(
    session: AsyncSession, *, e164: str | None = None, email: str | None = None
) -> list[int]:
    """Customer ids reachable at this phone or email: the matching channels build on this."""
    conditions = []
    if e164:
        conditions.append(
            Customer.id.in_(select(CustomerPhone.customer_id).where(CustomerPhone.e164 == e164))
        )
    if email:
        conditions.append(
            Customer.id.in_(select(CustomerEmail.customer_id).where(CustomerEmail.email == email))
        )
    if not conditions:
        return []
    return list(
        await session.scalars(
            select(Customer.id)
            .where(or_(*conditions), Customer.erased_at.is_(None))
            .order_by(Customer.id)
        )
    )
