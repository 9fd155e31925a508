"""Consent, the shell: read and change a customer's consent, and gate outbound touches.

Every outbound path calls ``check_touch`` (or ``admit_touch``) just before it acts, in
the unit of work that acts; a suppressed touch is stored with ``record_suppression``, a
touch made with ``record_touch`` (the frequency cap counts those). Services flush, never
commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.consent.core import (
    CHANNELS,
    ContactPolicy,
    Decision,
    FrequencyCap,
    QuietHours,
    Touch,
    decide,
    may_record,
    purposes_of,
    valid_pair,
    zone_for,
)
from app.consent.models import ConsentHistory, ContactPreferences, CustomerConsent, TouchLog
from app.consent.schemas import (
    ConsentFlags,
    ConsentIn,
    ConsentOut,
    ConsentState,
    Evidence,
    HistoryEntry,
    PreferencesIn,
    QuietHoursOut,
    SuppressionCount,
    SuppressionReport,
)
from app.contacts.models import Contact
from app.customers.models import Customer, CustomerPhone
from app.errors import InvalidInput, NotFound

DEFAULT_POLICY = ContactPolicy()
PROFILE_FLAGS: Mapping[str, tuple[str, str]] = {
    "call_recording": ("voice", "call_recording"),
    "marketing_email": ("email", "marketing"),
    "marketing_sms": ("sms", "marketing"),
}
"""The customer profile's ``consent`` flags and the channel × purpose each mirrors."""
DO_NOT_CALL = "do_not_call"
DO_NOT_CALL_REFUSES = (("voice", "service"), ("voice", "marketing"))
"""The ``do_not_call`` disposition refuses calls (both purposes); email, SMS and
recording consent are left as they are."""
HISTORY_LIMIT = 200


def policy_from_settings(settings: Settings) -> ContactPolicy:
    return ContactPolicy(
        quiet_hours=QuietHours(settings.quiet_hours_start, settings.quiet_hours_end),
        frequency_cap=FrequencyCap(
            settings.marketing_cap_touches, timedelta(days=settings.marketing_cap_days)
        ),
        default_zone=settings.timezone,
    )


async def _customer(session: AsyncSession, customer_id: int, *, lock: bool = False) -> Customer:
    customer = await session.get(Customer, customer_id, with_for_update=lock)
    if customer is None:
        raise NotFound(f"No customer {customer_id}.", details={"customer_id": customer_id})
    return customer


async def _consents(session: AsyncSession, customer_id: int) -> dict[tuple[str, str], str]:
    rows = await session.execute(
        select(CustomerConsent.channel, CustomerConsent.purpose, CustomerConsent.status).where(
            CustomerConsent.customer_id == customer_id
        )
    )
    return {(channel, purpose): status for channel, purpose, status in rows}


async def _preferences(session: AsyncSession, customer_id: int) -> ContactPreferences | None:
    return await session.get(ContactPreferences, customer_id)


async def _first_phone(session: AsyncSession, customer_id: int) -> list[str]:
    phone = await session.scalar(
        select(CustomerPhone.e164)
        .where(CustomerPhone.customer_id == customer_id)
        .order_by(CustomerPhone.id)
        .limit(1)
    )
    return [] if phone is None else [phone]


async def customer_zone(
    session: AsyncSession, customer_id: int, policy: ContactPolicy = DEFAULT_POLICY
) -> str:
    """The zone quiet hours are read in (``app.consent.core.zone_for``)."""
    preferences = await _preferences(session, customer_id)
    own = None if preferences is None else preferences.time_zone
    phones = [] if own else await _first_phone(session, customer_id)
    return zone_for(own, phones, policy.default_zone)


# ---------------------------------------------------------------- reading


async def consent_view(
    session: AsyncSession, customer_id: int, policy: ContactPolicy = DEFAULT_POLICY
) -> ConsentOut:
    """Every channel × purpose (unknown ones included), do-not-contact, the quiet hours in
    the customer's zone, and the newest ``HISTORY_LIMIT`` changes, newest first."""
    await _customer(session, customer_id)
    current = await session.execute(
        select(CustomerConsent, ConsentHistory)
        .join(ConsentHistory, ConsentHistory.id == CustomerConsent.history_id)
        .where(CustomerConsent.customer_id == customer_id)
    )
    known = {(c.channel, c.purpose): h for c, h in current}
    states = [
        _state(channel, purpose, known.get((channel, purpose)))
        for channel in CHANNELS
        for purpose in purposes_of(channel)
    ]
    history = await session.scalars(
        select(ConsentHistory)
        .where(ConsentHistory.customer_id == customer_id)
        .order_by(ConsentHistory.id.desc())
        .limit(HISTORY_LIMIT)
    )
    preferences = await _preferences(session, customer_id)
    quiet = policy.quiet_hours
    return ConsentOut(
        customer_id=customer_id,
        do_not_contact=preferences is not None and preferences.do_not_contact,
        time_zone=None if preferences is None else preferences.time_zone,
        consents=states,
        quiet_hours=QuietHoursOut(
            start=quiet.start,
            end=quiet.end,
            time_zone=await customer_zone(session, customer_id, policy),
            channels=sorted(quiet.channels),
        ),
        history=[HistoryEntry.model_validate(h) for h in history],
    )


def _state(channel: str, purpose: str, row: ConsentHistory | None) -> ConsentState:
    if row is None:
        return ConsentState(channel=channel, purpose=purpose, status="unknown")
    return ConsentState(
        channel=channel,
        purpose=purpose,
        status=row.status,
        source=row.source,
        recorded_at=row.recorded_at,
        contact_id=row.contact_id,
        form=row.form,
    )


async def consent_flags(session: AsyncSession, customer_id: int) -> ConsentFlags:
    consents = await _consents(session, customer_id)
    preferences = await _preferences(session, customer_id)
    return ConsentFlags(
        do_not_contact=preferences is not None and preferences.do_not_contact,
        refused=sorted(f"{c}/{p}" for (c, p), status in consents.items() if status == "refused"),
    )


# ---------------------------------------------------------------- writing


def _history(
    customer_id: int, evidence: Evidence, actor_id: int | None, **what: str | None
) -> ConsentHistory:
    return ConsentHistory(
        customer_id=customer_id,
        source=evidence.source,
        contact_id=evidence.contact_id,
        form=evidence.form,
        note=evidence.note,
        actor_id=actor_id,
        **what,
    )


async def set_consent(
    session: AsyncSession, customer_id: int, data: ConsentIn, actor_id: int | None
) -> bool:
    """Record ``data`` as the current status of its channel × purpose; False (nothing
    written) when it already is. The profile's mirrored flag follows (``PROFILE_FLAGS``).

    NotFound: no such customer. InvalidInput: an impossible channel × purpose.
    """
    if not valid_pair(data.channel, data.purpose):
        raise InvalidInput(
            f"No {data.purpose} consent for the {data.channel} channel.",
            details={"channel": data.channel, "purpose": data.purpose},
            code="invalid_consent",
        )
    customer = await _customer(session, customer_id, lock=True)  # one writer per customer
    key = (customer_id, data.channel, data.purpose)
    current = await session.get(CustomerConsent, key)
    if (current.status if current else "unknown") == data.status:
        return False
    entry = _history(
        customer_id,
        data,
        actor_id,
        kind="consent",
        channel=data.channel,
        purpose=data.purpose,
        status=data.status,
    )
    session.add(entry)
    await session.flush()
    if data.status == "unknown":
        if current is not None:
            await session.delete(current)
    elif current is None:
        session.add(
            CustomerConsent(
                customer_id=customer_id,
                channel=data.channel,
                purpose=data.purpose,
                status=data.status,
                history_id=entry.id,
            )
        )
    else:
        current.status, current.history_id = data.status, entry.id
    _mirror_profile_flag(customer, data.channel, data.purpose, data.status)
    await session.flush()
    return True


def _mirror_profile_flag(customer: Customer, channel: str, purpose: str, status: str) -> None:
    for flag, pair in PROFILE_FLAGS.items():
        if pair == (channel, purpose):
            flags = {k: v for k, v in customer.consent.items() if k != flag}
            if status != "unknown":
                flags[flag] = status == "granted"
            customer.consent = flags


async def apply_profile_flags(
    session: AsyncSession, customer_id: int, flags: Mapping[str, Any], actor_id: int | None
) -> None:
    """The profile's ``consent`` flags (``call_recording``, ``marketing_email``,
    ``marketing_sms``) as consent changes of source ``profile``; others are ignored."""
    for flag, (channel, purpose) in PROFILE_FLAGS.items():
        value = flags.get(flag)
        if isinstance(value, bool):
            status = "granted" if value else "refused"
            data = ConsentIn(channel=channel, purpose=purpose, status=status, source="profile")
            await set_consent(session, customer_id, data, actor_id)


# The profile's flags of customers who have no consent row yet, as ``profile`` history rows
# and the current state from them: for bulk loads that write ``customers.consent`` directly.
_IMPORT_PROFILE_FLAGS_SQL = text("""
WITH flags(flag, channel, purpose) AS (
    VALUES ('call_recording', 'voice', 'call_recording'),
           ('marketing_email', 'email', 'marketing'),
           ('marketing_sms', 'sms', 'marketing')
),
added AS (
    INSERT INTO consent_history (customer_id, kind, channel, purpose, status, source, recorded_at)
    SELECT c.id, 'consent', f.channel, f.purpose,
           CASE WHEN (c.consent ->> f.flag)::boolean THEN 'granted' ELSE 'refused' END,
           'profile', c.updated_at
    FROM customers c JOIN flags f ON jsonb_typeof(c.consent -> f.flag) = 'boolean'
    WHERE NOT EXISTS (SELECT 1 FROM consent_history h WHERE h.customer_id = c.id)
    RETURNING id, customer_id, channel, purpose, status
)
INSERT INTO customer_consents (customer_id, channel, purpose, status, history_id)
SELECT customer_id, channel, purpose, status, id FROM added
""")


async def import_profile_flags(session: AsyncSession) -> None:
    """Consent rows from the profile flags of every customer without consent history."""
    await session.execute(_IMPORT_PROFILE_FLAGS_SQL)


async def set_preferences(
    session: AsyncSession, customer_id: int, data: PreferencesIn, actor_id: int | None
) -> bool:
    """Change do-not-contact and/or the time zone (fields given only); a changed
    do-not-contact flag is a history row. False when nothing changed."""
    await _customer(session, customer_id, lock=True)
    preferences = await _preferences(session, customer_id)
    if preferences is None:
        preferences = ContactPreferences(customer_id=customer_id, do_not_contact=False)
        session.add(preferences)
    changed = False
    given = data.model_fields_set
    if data.do_not_contact is not None and data.do_not_contact != preferences.do_not_contact:
        preferences.do_not_contact = data.do_not_contact
        status = "on" if data.do_not_contact else "off"
        session.add(_history(customer_id, data, actor_id, kind="do_not_contact", status=status))
        changed = True
    if "time_zone" in given and data.time_zone != preferences.time_zone:
        preferences.time_zone = data.time_zone
        changed = True
    await session.flush()
    return changed


async def apply_disposition(
    session: AsyncSession, contact: Contact, disposition: str | None, actor_id: int | None
) -> bool:
    """A ``do_not_call`` disposition refuses the customer's voice consents at once, in
    the caller's unit of work, with the contact as evidence. False: not that disposition,
    or the contact has no customer (nothing to record)."""
    if disposition != DO_NOT_CALL or contact.customer_id is None:
        return False
    for channel, purpose in DO_NOT_CALL_REFUSES:
        data = ConsentIn(
            channel=channel,
            purpose=purpose,
            status="refused",
            source="disposition",
            contact_id=contact.id,
            note="do_not_call",
        )
        await set_consent(session, contact.customer_id, data, actor_id)
    return True


_MERGE_SQL = (
    "UPDATE consent_history SET customer_id = :into WHERE customer_id = :dup",
    "UPDATE touch_log SET customer_id = :into WHERE customer_id = :dup",
    # a refusal of the duplicate wins over a grant; what only the duplicate has follows
    """UPDATE customer_consents t SET status = 'refused', history_id = d.history_id
       FROM customer_consents d
       WHERE t.customer_id = :into AND d.customer_id = :dup AND d.channel = t.channel
         AND d.purpose = t.purpose AND d.status = 'refused' AND t.status = 'granted'""",
    """INSERT INTO customer_consents (customer_id, channel, purpose, status, history_id)
       SELECT :into, channel, purpose, status, history_id FROM customer_consents
       WHERE customer_id = :dup ON CONFLICT DO NOTHING""",
    """INSERT INTO contact_preferences (customer_id, do_not_contact, time_zone)
       SELECT :into, do_not_contact, time_zone FROM contact_preferences WHERE customer_id = :dup
       ON CONFLICT (customer_id) DO UPDATE
       SET do_not_contact = contact_preferences.do_not_contact OR excluded.do_not_contact,
           time_zone = coalesce(contact_preferences.time_zone, excluded.time_zone)""",
)


async def move_consent(session: AsyncSession, into: Customer, from_id: int) -> None:
    """A merge: the duplicate's consent history and touches follow; for each channel ×
    purpose a refusal wins, and do-not-contact set on either stays set. The profile flags
    of ``into`` follow its consent."""
    for statement in _MERGE_SQL:
        await session.execute(text(statement), {"into": into.id, "dup": from_id})
    consents = await _consents(session, into.id)
    flags = {k: v for k, v in into.consent.items() if k not in PROFILE_FLAGS}
    for flag, pair in PROFILE_FLAGS.items():
        if pair in consents:
            flags[flag] = consents[pair] == "granted"
    if flags != into.consent:
        into.consent = flags
        await session.flush()
        await session.refresh(into)  # its updated_at, set by the database


# ---------------------------------------------------------------- gating touches


async def _marketing_times(
    session: AsyncSession, customer_id: int, since: datetime
) -> list[datetime]:
    rows = await session.scalars(
        select(TouchLog.occurred_at).where(
            TouchLog.customer_id == customer_id,
            TouchLog.outcome == "made",
            TouchLog.purpose == "marketing",
            TouchLog.occurred_at > since,
        )
    )
    return list(rows)


async def check_touch(
    session: AsyncSession,
    customer_id: int,
    channel: str,
    purpose: str,
    now: datetime,
    *,
    policy: ContactPolicy = DEFAULT_POLICY,
) -> Decision:
    """May this touch reach the customer at ``now``? (``app.consent.core.decide``)

    NotFound: no such customer. InvalidInput: a channel or purpose touches do not have.
    """
    if channel not in CHANNELS or purpose not in ("service", "marketing"):
        raise InvalidInput(
            "A touch is a voice, sms or email touch for service or marketing.",
            details={"channel": channel, "purpose": purpose},
            code="invalid_touch",
        )
    await _customer(session, customer_id)
    preferences = await _preferences(session, customer_id)
    cap = policy.frequency_cap
    return decide(
        Touch(channel, purpose),  # type: ignore[arg-type]
        await _consents(session, customer_id),
        preferences is not None and preferences.do_not_contact,
        policy.quiet_hours,
        await customer_zone(session, customer_id, policy),
        cap,
        await _marketing_times(session, customer_id, now - cap.window),
        now,
    )


@dataclass(frozen=True, slots=True)
class TouchRef:
    """Which outbound path touches, about what: ``TouchRef("care", "care_touch:12")``."""

    origin: str
    ref: str | None = None


def record_touch(
    session: AsyncSession, customer_id: int, touch: Touch, now: datetime, by: TouchRef
) -> None:
    """A touch made (the frequency cap counts marketing ones)."""
    session.add(
        TouchLog(
            customer_id=customer_id,
            channel=touch.channel,
            purpose=touch.purpose,
            outcome="made",
            origin=by.origin,
            ref=by.ref,
            occurred_at=now,
        )
    )


def record_suppression(
    session: AsyncSession,
    customer_id: int,
    touch: Touch,
    decision: Decision,
    now: datetime,
    by: TouchRef,
) -> None:
    """A touch the rules held back, with the reason and when it would be allowed."""
    if decision.allowed or decision.reason is None:
        raise ValueError("only a refused decision is a suppression")
    session.add(
        TouchLog(
            customer_id=customer_id,
            channel=touch.channel,
            purpose=touch.purpose,
            outcome="suppressed",
            reason=decision.reason,
            next_allowed_at=decision.next_allowed_at,
            origin=by.origin,
            ref=by.ref,
            occurred_at=now,
        )
    )


async def admit_touch(
    session: AsyncSession,
    customer_id: int,
    touch: Touch,
    now: datetime,
    by: TouchRef,
    *,
    policy: ContactPolicy = DEFAULT_POLICY,
) -> Decision:
    """``check_touch``, then the touch recorded as made (allowed: the caller acts in this
    unit of work) or as suppressed (not allowed: the caller does not act)."""
    decision = await check_touch(
        session, customer_id, touch.channel, touch.purpose, now, policy=policy
    )
    if decision.allowed:
        record_touch(session, customer_id, touch, now, by)
    else:
        record_suppression(session, customer_id, touch, decision, now, by)
    await session.flush()
    return decision


async def recording_allowed(session: AsyncSession, customer_id: int | None) -> bool:
    """May the voice channel record this customer's call (``core.may_record``)? A caller
    we do not know has refused nothing."""
    if customer_id is None:
        return True
    return may_record(await _consents(session, customer_id))


# ---------------------------------------------------------------- suppressions


async def suppressions_page(
    session: AsyncSession, customer_id: int, before_id: int | None, limit: int
) -> list[TouchLog]:
    await _customer(session, customer_id)
    query = (
        select(TouchLog)
        .where(TouchLog.customer_id == customer_id, TouchLog.outcome == "suppressed")
        .order_by(TouchLog.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(TouchLog.id < before_id)
    return list(await session.scalars(query))


async def suppression_report(
    session: AsyncSession, since: datetime, until: datetime
) -> SuppressionReport:
    """Suppressed touches in ``[since, until)`` by reason, channel, purpose and origin."""
    count = func.count().label("n")
    rows = await session.execute(
        select(TouchLog.reason, TouchLog.channel, TouchLog.purpose, TouchLog.origin, count)
        .where(
            TouchLog.outcome == "suppressed",
            TouchLog.occurred_at >= since,
            TouchLog.occurred_at < until,
        )
        .group_by(TouchLog.reason, TouchLog.channel, TouchLog.purpose, TouchLog.origin)
        .order_by(count.desc(), TouchLog.reason)
    )
    counts = [
        SuppressionCount(reason=r, channel=c, purpose=p, origin=o, count=n)
        for r, c, p, o, n in rows
    ]
    return SuppressionReport(
        since=since, until=until, total=sum(c.count for c in counts), rows=counts
    )
