"""CSAT surveys, the shell: offered when a contact ends (chat, email, voice), answered once,
read per contact and reported per group. Everything runs in the caller's unit of work
(flushed, never committed here); pushes go out after the commit.

The offers need the survey settings and the link key, which the app shares with every
session (``SURVEYS_KEY``, like the router's doorbell); a session without them (a tool, a
unit test) offers no survey.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Text, cast, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases import service as cases
from app.cases.core.states import OPEN_STATES, State, on_customer_wrote
from app.cases.models import Case
from app.cases.schemas import CaseCreate, CaseUpdate
from app.cases.settings_service import current_settings
from app.channels.email.service import queue_system_mail
from app.config import Settings
from app.contacts.access import authorize_contact
from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.value.models import CustomerValue
from app.database import after_commit
from app.errors import AppError, Conflict, NotFound
from app.events.bus import EventBus
from app.queues.models import Queue
from app.routing.models import RoutingInbox
from app.routing.service import end_contact as end_routed
from app.supervisor.consult import consult_topics
from app.supervisor.protocol import CsatLow
from app.surveys.core.answer import is_low, refusal
from app.surveys.core.figures import CsatFigures, figures
from app.surveys.core.token import LINK_LIFETIME, TokenError, link_token, verify
from app.surveys.models import SURVEY_CHANNELS, CsatSurvey
from app.surveys.schemas import CsatOut, GroupBy
from app.users.models import User

SURVEYS_KEY = "contactd.surveys"
VOICE_SURVEY_LIFETIME = timedelta(minutes=10)  # the caller is still on the line
COMPLAINT = "complaint"
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SurveyContext:
    """What offering a survey needs beyond the session: the settings and the link key."""

    settings: Settings
    secret: bytes


def link_secret(settings: Settings, jwt_secret: str) -> bytes:
    """``CONTACTD_CSAT_SECRET``, or a key derived from the JWT secret (distinct from it)."""
    if settings.csat_secret is not None:
        return settings.csat_secret.get_secret_value().encode()
    return hmac.new(jwt_secret.encode(), b"contactd csat links", hashlib.sha256).digest()


def context_of(session: AsyncSession) -> SurveyContext | None:
    found = session.info.get(SURVEYS_KEY)
    return found if isinstance(found, SurveyContext) else None


class NoSurvey(NotFound):
    code = "no_survey"


class AlreadyRated(Conflict):
    code = "already_rated"


class SurveyExpired(AppError):
    status_code = 410
    code = "survey_expired"


class InvalidLink(NotFound):
    code = "invalid_token"


def utc_now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------ offering


async def _grade(session: AsyncSession, customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    grade: str | None = await session.scalar(
        select(CustomerValue.grade).where(CustomerValue.customer_id == customer_id)
    )
    return grade


async def offer(
    session: AsyncSession, contact: Contact, now: datetime, lifetime: timedelta
) -> CsatSurvey | None:
    """The contact's survey, offered now for ``lifetime``: None when the contact had no
    agent or was offered one before (one survey per contact, whatever the retries)."""
    if contact.agent_id is None or contact.channel not in SURVEY_CHANNELS:
        return None
    inserted = await session.scalar(
        insert(CsatSurvey)
        .values(
            contact_id=contact.id,
            channel=contact.channel,
            customer_id=contact.customer_id,
            agent_id=contact.agent_id,
            queue_id=contact.queue_id,
            grade=await _grade(session, contact.customer_id),
            offered_at=now,
            expires_at=now + lifetime,
        )
        .on_conflict_do_nothing(index_elements=[CsatSurvey.contact_id])
        .returning(CsatSurvey.id)
    )
    if inserted is None:
        return None
    record(
        session,
        "csat.offered",
        contact_id=contact.id,
        payload={"channel": contact.channel, "expires_at": (now + lifetime).isoformat()},
    )
    return await session.get(CsatSurvey, inserted)


async def offer_chat(session: AsyncSession, contact: Contact) -> CsatSurvey | None:
    """The agent ended the chat: the visitor may rate it for the configured seconds."""
    context = context_of(session)
    if context is None or context.settings.csat_chat_survey_seconds == 0:
        return None
    lifetime = timedelta(seconds=context.settings.csat_chat_survey_seconds)
    return await offer(session, contact, utc_now(), lifetime)


async def offer_voice(session: AsyncSession, contact: Contact) -> CsatSurvey | None:
    """The agent's leg of the call ended with the caller still on the line."""
    return await offer(session, contact, utc_now(), VOICE_SURVEY_LIFETIME)


def survey_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/csat/{token}"


def survey_mail(url: str) -> str:
    return (
        "感谢您联系我们。请为本次服务评分（1–5 分），链接 14 天内有效：\n"
        f"{url}\n\n"
        "Thank you for contacting us. Please rate our service from 1 to 5 (the link is valid "
        "for 14 days):\n"
        f"{url}\n"
    )


async def offer_email(session: AsyncSession, contact_id: int) -> CsatSurvey | None:
    """The agent ended an email conversation: a follow-up mail carries the survey's signed
    link. Nothing is offered when the customer has no address to mail."""
    context = context_of(session)
    contact = await session.get(Contact, contact_id)
    if context is None or contact is None or contact.channel != "email":
        return None
    now = utc_now()
    if await session.scalar(select(CsatSurvey.id).where(CsatSurvey.contact_id == contact_id)):
        return None
    token = link_token(contact.id, now, context.secret)
    body = survey_mail(survey_url(context.settings, token))
    try:
        await queue_system_mail(session, contact, body, context.settings, "csat_survey")
    except Conflict:  # no customer address: nobody to ask
        return None
    return await offer(session, contact, now, LINK_LIFETIME)


async def end_contact(
    session: AsyncSession, contact_id: int, user: User, disposition: str | None
) -> RoutingInbox:
    """``routing.service.end_contact``, then the email survey for an email contact."""
    row = await end_routed(session, contact_id, user, disposition)
    await offer_email(session, contact_id)
    return row


# ------------------------------------------------------------------ answering


def link_contact(session: AsyncSession, token: str, now: datetime | None = None) -> int:
    """The contact a survey link names: 404 ``invalid_token`` for a forged or malformed
    link (or when this instance has no link key), 410 ``token_expired`` after 14 days."""
    context = context_of(session)
    if context is None:
        raise InvalidLink("This survey link is not valid.")
    try:
        return verify(token, context.secret, now or utc_now()).contact_id
    except TokenError as exc:
        if exc.code == "token_expired":
            raise SurveyExpired(str(exc), code="token_expired") from exc
        raise InvalidLink(str(exc)) from exc


async def open_survey(session: AsyncSession, contact_id: int, now: datetime) -> CsatSurvey | None:
    """The contact's survey when it takes an answer at ``now``."""
    survey = await session.scalar(select(CsatSurvey).where(CsatSurvey.contact_id == contact_id))
    if survey is None or refusal(survey.answered_at, survey.expires_at, now) is not None:
        return None
    return survey


async def _answerable(
    session: AsyncSession, contact_id: int, now: datetime, *, lock: bool
) -> CsatSurvey:
    query = select(CsatSurvey).where(CsatSurvey.contact_id == contact_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    survey = await session.scalar(query)
    if survey is None:
        raise NoSurvey(
            "No survey was offered for this contact.", details={"contact_id": contact_id}
        )
    refused = refusal(survey.answered_at, survey.expires_at, now)
    if refused == "already_rated":
        raise AlreadyRated("This contact has been rated already.")
    if refused == "survey_expired":
        raise SurveyExpired("This survey has expired.")
    return survey


async def check_open(session: AsyncSession, contact_id: int) -> None:
    """Raise what ``answer`` would refuse with (404, 409, 410), storing nothing."""
    await _answerable(session, contact_id, utc_now(), lock=False)


async def answer(
    session: AsyncSession,
    bus: EventBus | None,
    contact_id: int,
    score: int,
    comment: str | None,
    now: datetime | None = None,
) -> CsatSurvey:
    """Record the customer's one answer. 404 ``no_survey`` (none offered), 409
    ``already_rated``, 410 ``survey_expired``: nothing is stored then. A score of 1 or 2
    opens or reopens a complaint case and alerts supervisors after the commit."""
    now = now or utc_now()
    survey = await _answerable(session, contact_id, now, lock=True)
    survey.score = score
    survey.comment = (comment.strip() or None) if comment is not None else None
    survey.answered_at = now
    await session.flush()
    record(
        session,
        "csat.answered",
        contact_id=contact_id,
        payload={"channel": survey.channel, "score": score},
    )
    if is_low(score):
        await _low_score(session, bus, survey, now)
    log.info("csat_answered", contact_id=contact_id, channel=survey.channel, score=score)
    return survey


async def _latest_complaint(session: AsyncSession, customer_id: int) -> Case | None:
    return await session.scalar(
        select(Case)
        .where(Case.customer_id == customer_id, Case.type == COMPLAINT)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
    )


async def _complaint_case(session: AsyncSession, survey: CsatSurvey, now: datetime) -> int | None:
    """The customer's latest complaint case, linked to the contact (reopened if it was
    resolved within the reopen period), or a new one of origin ``csat`` in the contact's
    queue. None: no customer, or no ``complaint`` case type configured."""
    if survey.customer_id is None:
        return None
    settings = await current_settings(session)
    if COMPLAINT not in settings.type_names():
        return None
    latest = await _latest_complaint(session, survey.customer_id)
    if latest is not None and latest.state != "closed":
        state: State = latest.state  # type: ignore[assignment]
        reopen = on_customer_wrote(state, latest.resolved_at, now, settings.reopen_within)
        if state in OPEN_STATES or reopen.state == "reopened":
            if latest.state == "resolved":
                change = CaseUpdate(state="reopened", reason="csat_low")
                await cases.update_case(session, latest.id, change, None, now)
            await cases.link_contact(session, latest.id, survey.contact_id, None, now)
            return latest.id
    queue = await cases.queue_names_by_id(session, survey.queue_id)
    created = await cases.create_case(
        session,
        CaseCreate(
            customer_id=survey.customer_id,
            type=COMPLAINT,
            subject=f"CSAT {survey.score}/5 on contact {survey.contact_id}",
            origin="csat",
            queue=queue,
            contact_ids=[survey.contact_id],
        ),
        None,
        now,
    )
    return created.id


async def _low_score(
    session: AsyncSession, bus: EventBus | None, survey: CsatSurvey, now: datetime
) -> None:
    survey.case_id = await _complaint_case(session, survey, now)
    await session.flush()
    if bus is None:
        return
    agent = None if survey.agent_id is None else await session.get(User, survey.agent_id)
    alert = CsatLow(
        contact_id=survey.contact_id,
        score=survey.score or 0,
        channel=survey.channel,
        agent_id=survey.agent_id,
        queue=await cases.queue_names_by_id(session, survey.queue_id),
        customer_id=survey.customer_id,
        case_id=survey.case_id,
        answered_at=now.isoformat(),
    ).model_dump(mode="json")
    topics = consult_topics(None if agent is None else agent.team)

    async def publish() -> None:
        for topic in topics:
            await bus.publish(topic, alert)

    after_commit(session, publish)


# ------------------------------------------------------------------ reading


async def survey_out(session: AsyncSession, survey: CsatSurvey) -> CsatOut:
    return CsatOut(
        contact_id=survey.contact_id,
        channel=survey.channel,
        agent_id=survey.agent_id,
        queue=await cases.queue_names_by_id(session, survey.queue_id),
        grade=survey.grade,
        score=survey.score,
        comment=survey.comment,
        offered_at=survey.offered_at,
        answered_at=survey.answered_at,
        expires_at=survey.expires_at,
        case_id=survey.case_id,
    )


async def contact_csat(session: AsyncSession, contact_id: int, user: User) -> CsatOut:
    """The contact's survey, for its agent or a supervisor (403 for another agent)."""
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
    await authorize_contact(session, user, contact, "csat")
    survey = await session.scalar(select(CsatSurvey).where(CsatSurvey.contact_id == contact_id))
    if survey is None:
        raise NoSurvey(
            "No survey was offered for this contact.", details={"contact_id": contact_id}
        )
    return await survey_out(session, survey)


def _group_column(group_by: GroupBy) -> Any:
    match group_by:
        case "agent":
            return cast(CsatSurvey.agent_id, Text)
        case "queue":
            return Queue.name
        case "grade":
            return CsatSurvey.grade
        case "channel":
            return CsatSurvey.channel


def _expanded(rows: list[tuple[str, int, int]]) -> Iterator[tuple[str, int]]:
    for group, score, count in rows:
        for _ in range(count):
            yield group, score


async def report(
    session: AsyncSession, group_by: GroupBy, since: datetime | None, until: datetime | None
) -> list[CsatFigures]:
    """Figures per group of the surveys offered in ``[since, until)``: ``agent`` groups by
    the agent's user id. A survey without a value for the group (no agent, queue or grade)
    counts under ``none``."""
    key = func.coalesce(_group_column(group_by), "none").label("group")
    base = select(key).select_from(CsatSurvey).outerjoin(Queue, Queue.id == CsatSurvey.queue_id)
    if since is not None:
        base = base.where(CsatSurvey.offered_at >= since)
    if until is not None:
        base = base.where(CsatSurvey.offered_at < until)
    offered_rows = await session.execute(base.add_columns(func.count()).group_by(key))
    offered = {str(group): int(count) for group, count in offered_rows.all()}
    answered = (
        base.add_columns(CsatSurvey.score, func.count())
        .where(CsatSurvey.score.is_not(None))
        .group_by(key, CsatSurvey.score)
    )
    scores = [(str(g), int(s), int(c)) for g, s, c in (await session.execute(answered)).all()]
    return figures(offered, _expanded(scores))
