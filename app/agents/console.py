"""The console hub: turns what the bus says about an agent into numbered console events,
building the screen-pop when an offer arrives.

Everything the console shows arrives on the agent's own topic ``agent:{id}``: the router's
offers and state changes, chat lines, emails on threads the agent holds, supervisors'
answers to consults. Producers publish there after their commit; the line numbers each.

The pop is built in a short unit of work of its own after the router's commit, so an
offer that was rolled back is never shown.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any, Literal

import structlog
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents import protocol as p
from app.agents.presence import AgentLine, ConsoleSettings, FrameMaker, Lines
from app.audit.service import View, record_view
from app.contacts.models import Contact, ContactEvent
from app.customers.enrichment import CrmEnricher
from app.customers.history import DISPOSITIONS
from app.customers.screen_pop import build_screen_pop
from app.database import Database
from app.errors import AppError, NotFound
from app.events.bus import EventBus
from app.routing import service as routing
from app.routing.config_service import active_version
from app.routing.models import AgentPresence
from app.users.models import User

log = structlog.get_logger(__name__)

LIVE_STATES = ("offered", "assigned", "wrap_up")


@dataclasses.dataclass(frozen=True)
class ConsoleAttached:
    """On ``agent:{id}``: the agent's console attached on ``instance``; every other instance
    lets go of the agent (closes its socket as taken over, runs no grace period)."""

    agent_id: int
    instance: str
    type: Literal["console_attached"] = "console_attached"

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _deadline(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _shown(line: AgentLine, contact_id: int, deadline: float | None) -> bool:
    """Whether this offer (the contact and its deadline: a new offer of the same contact has
    a new deadline) was shown on the line already."""
    if contact_id not in line.offers_shown:
        return False
    before = line.offers_shown[contact_id]
    if before is None or deadline is None:
        return before is deadline
    return abs(before - deadline) < 0.5


class ConsoleHub:
    def __init__(self, app: FastAPI, settings: ConsoleSettings | None = None) -> None:
        self.app = app
        self.settings = settings or ConsoleSettings()
        self.lines = Lines(self)
        self.enricher = CrmEnricher(
            self.settings.crm_url, timeout=self.settings.crm_timeout_seconds
        )

    @property
    def db(self) -> Database:
        db: Database = self.app.state.db
        return db

    def listen(
        self, agent_id: int, listener: Callable[[dict[str, Any]], None]
    ) -> Callable[[], None]:
        bus: EventBus = self.app.state.bus
        return bus.listen(f"agent:{agent_id}", listener)

    def welcome(self, agent_id: int) -> Any:
        def make(seq: int, resumed: bool) -> p.Welcome:
            return p.Welcome(
                seq=seq,
                agent_id=agent_id,
                resumed=resumed,
                dispositions=list(DISPOSITIONS),
                heartbeat_seconds=self.settings.heartbeat_seconds,
            )

        return make

    # ------------------------------------------------------------ bus → console

    @property
    def instance(self) -> str:
        instance: str = getattr(self.app.state, "instance", "")
        return instance

    async def announce_attached(self, agent_id: int) -> None:
        """Tell the other instances that this one holds the agent's console now."""
        bus: EventBus = self.app.state.bus
        await bus.publish(f"agent:{agent_id}", ConsoleAttached(agent_id, self.instance).payload())

    async def deliver(self, line: AgentLine, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "console_attached":
            if message.get("instance") != self.instance:
                await line.moved_elsewhere()
            return
        if kind == "bus_resync":
            if line.connected:
                await self.reconcile(line)
            return
        if kind == "offer" and line.away and not line.connected:
            await self.turn_down(line.agent_id, int(message["contact_id"]))
            return
        if kind == "chat_typing":
            await line.control(
                lambda seq: p.VisitorTyping(
                    seq=seq,
                    contact_id=int(message["contact_id"]),
                    is_typing=bool(message.get("is_typing")),
                )
            )
            return
        if kind == "offer":
            contact_id, deadline = int(message["contact_id"]), message.get("deadline")
            if not _shown(line, contact_id, _deadline(deadline)):
                await self.send_offer(line, contact_id, deadline)
            return
        frame = _plain_frame(message)
        if frame is None:
            log.debug("console_event_ignored", kind=kind)
            return
        await line.emit(frame)

    async def send_offer(self, line: AgentLine, contact_id: int, deadline: Any) -> None:
        line.offers_shown[contact_id] = _deadline(deadline)
        pop, error, trace = await self.pop_for(line.agent_id, contact_id)
        await line.emit(
            lambda seq: p.Offer(
                seq=seq,
                contact_id=contact_id,
                deadline=deadline if isinstance(deadline, int | float) else None,
                pop=pop,
                pop_error=error,
                trace=trace,
            )
        )

    async def pop_for(
        self, agent_id: int, contact_id: int
    ) -> tuple[Any, str | None, p.RoutingTrace | None]:
        """The pop of a contact offered to the agent, audited, with the router's trace of
        the offer; (None, why, None) if it is not offered to the agent."""
        try:
            async with self.db.unit_of_work() as session:
                pop = await build_screen_pop(
                    session, contact_id, self.enricher, offered_to=agent_id
                )
                if pop is None:
                    return None, "no_longer_offered", None
                view = View(
                    actor_id=agent_id,
                    action="screen_pop",
                    customer_id=None if pop.customer is None else pop.customer.id,
                    via="contact",
                    contact_id=contact_id,
                )
                record_view(session, view)
                return pop, None, await offer_trace(session, contact_id, agent_id)
        except NotFound:
            return None, "no_longer_offered", None
        except Exception:
            log.exception("screen_pop_failed", contact_id=contact_id)
            return None, "pop_unavailable", None

    async def reconcile_if_due(self, line: AgentLine) -> None:
        """Every ``heartbeat_seconds`` of a connected console: ``reconcile``."""
        if time.monotonic() - line.reconciled_at >= self.settings.heartbeat_seconds:
            await self.reconcile(line)

    async def reconcile(self, line: AgentLine) -> None:
        """Show the offers PostgreSQL holds for the agent that the console was not shown
        (their bus message was lost), and forget those no longer out."""
        line.reconciled_at = time.monotonic()
        async with self.db.sessionmaker() as session:
            rows = await session.execute(
                select(Contact.id, Contact.offer_deadline).where(
                    Contact.agent_id == line.agent_id, Contact.state == "offered"
                )
            )
            offered = {
                contact_id: None if until is None else until.timestamp()
                for contact_id, until in rows
            }
        for gone in line.offers_shown.keys() - offered.keys():
            del line.offers_shown[gone]
        for contact_id, deadline in sorted(offered.items()):
            if not _shown(line, contact_id, deadline):
                await self.send_offer(line, contact_id, deadline)

    async def snapshot(self, line: AgentLine, resync: bool) -> None:
        async with self.db.unit_of_work() as session:
            agent = await session.get(User, line.agent_id)
            presence = await session.get(AgentPresence, line.agent_id)
            _, document = await active_version(session)
            rows = await session.scalars(
                select(Contact)
                .where(Contact.agent_id == line.agent_id, Contact.state.in_(LIVE_STATES))
                .order_by(Contact.id)
            )
            contacts = [
                p.LiveContact(
                    contact_id=c.id,
                    channel=c.channel,
                    state=c.state,
                    offer_deadline=c.offer_deadline,
                )
                for c in rows
            ]
        await line.emit(
            lambda seq: p.Snapshot(
                seq=seq,
                resync=resync,
                contacts=contacts,
                agent_name="" if agent is None else agent.display_name,
                state="offline" if presence is None else presence.state,
                reason=None if presence is None else presence.reason,
                state_since=None if presence is None else presence.since,
                not_ready_reasons=list(document.not_ready_reasons),
            )
        )
        for live in contacts:
            if live.state == "offered":
                deadline = live.offer_deadline.timestamp() if live.offer_deadline else None
                await self.send_offer(line, live.contact_id, deadline)
        line.reconciled_at = time.monotonic()

    # ------------------------------------------------------------ lost sockets

    async def grace_expired(self, agent_id: int) -> None:
        """The console stayed away: its pending offers are rejected through the router (they
        go back to the queue) and assigned contacts stay the agent's. With nothing assigned
        the agent is also logged out of routing, so no new offers come; otherwise offers
        that still come are turned down as they arrive (``AgentLine.away``)."""
        try:
            async with self.db.unit_of_work() as session:
                agent = await session.get(User, agent_id)
                if agent is None:
                    return
                held = list(
                    await session.scalars(
                        select(Contact).where(
                            Contact.agent_id == agent_id, Contact.state.in_(LIVE_STATES)
                        )
                    )
                )
                rows = [
                    await routing.answer_offer(session, c.id, agent, accept=False)
                    for c in held
                    if c.state == "offered"
                ]
                if all(c.state == "offered" for c in held):
                    rows.append(
                        await routing.set_agent_state(
                            session, agent, "offline", None, actor_id=agent_id
                        )
                    )
            await self._wait_all([row.id for row in rows])
        except Exception:
            log.exception("console_grace_failed", agent_id=agent_id)

    async def turn_down(self, agent_id: int, contact_id: int) -> None:
        try:
            async with self.db.unit_of_work() as session:
                agent = await session.get(User, agent_id)
                if agent is None:
                    return
                row = await routing.answer_offer(session, contact_id, agent, accept=False)
            await self._wait_all([row.id])
        except AppError:
            return  # withdrawn or taken meanwhile
        except Exception:
            log.exception("console_turn_down_failed", agent_id=agent_id)

    async def _wait_all(self, request_ids: list[int]) -> None:
        distributor = self.app.state.distributor
        if distributor is not None:
            for request_id in request_ids:
                await distributor.wait_processed(request_id)

    async def close(self) -> None:
        await self.lines.stop_all()
        await self.enricher.aclose()


async def offer_trace(
    session: AsyncSession, contact_id: int, agent_id: int
) -> p.RoutingTrace | None:
    """The trace of the router's latest offer of the contact to the agent (the
    ``contact.offered`` event it wrote in the same commit as the offer)."""
    payload = await session.scalar(
        select(ContactEvent.payload)
        .where(
            ContactEvent.contact_id == contact_id,
            ContactEvent.agent_id == agent_id,
            ContactEvent.kind == "contact.offered",
        )
        .order_by(ContactEvent.id.desc())
        .limit(1)
    )
    trace = None if payload is None else payload.get("trace")
    return None if trace is None else p.RoutingTrace.model_validate(trace)


CASE_SLA_FIELDS = frozenset(p.CaseSla.model_fields) - {"seq", "type"}


def _plain_frame(message: dict[str, Any]) -> FrameMaker | None:
    match message.get("type"):
        case "offer_withdrawn":
            return lambda seq: p.OfferWithdrawn(
                seq=seq, contact_id=message["contact_id"], reason=str(message.get("reason"))
            )
        case "assigned":
            return lambda seq: p.Assigned(seq=seq, contact_id=message["contact_id"])
        case "state":
            return lambda seq: p.StateChanged(
                seq=seq,
                state=message["state"],
                reason=message.get("reason"),
                previous=message.get("previous"),
            )
        case "chat_message":
            return _inbound_message(message)
        case "chat_ended":
            return lambda seq: p.ChatEnded(
                seq=seq, contact_id=message["contact_id"], by=str(message.get("by"))
            )
        case "case_sla":
            return lambda seq: p.CaseSla(
                seq=seq, **{k: v for k, v in message.items() if k in CASE_SLA_FIELDS}
            )
        case "consult_answer":
            return lambda seq: p.ConsultAnswer(
                seq=seq,
                contact_id=message["contact_id"],
                consult_id=message["consult_id"],
                supervisor_id=message["supervisor_id"],
                supervisor_name=str(message.get("supervisor_name") or ""),
                text=message["text"],
            )
    return None


def _inbound_message(message: dict[str, Any]) -> FrameMaker:
    """A customer's message: a chat line (chat service) or an email on a thread the agent
    holds (email service, on ``agent:{id}`` after commit; see ``email.service._tell_agent``).
    """
    channel = "email" if message.get("channel") == "email" else "chat"
    return lambda seq: p.ChatMessage(
        seq=seq,
        contact_id=message["contact_id"],
        message_seq=message["seq"],
        text=message["text"],
        channel=channel,
        message_id=message.get("message_id"),
        subject=message.get("subject"),
        from_address=message.get("from_address"),
        from_name=message.get("from_name"),
        truncated=bool(message.get("truncated", False)),
        attachments=int(message.get("attachments") or 0),
        automatic=message.get("automatic"),
        reopened=bool(message.get("reopened", False)),
        attachment=message.get("attachment"),
    )
