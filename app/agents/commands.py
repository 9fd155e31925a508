"""What the agent asks for over the console: each frame is one short unit of work through
the existing services, then (for routing commands) a short wait for the router."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents import protocol as p
from app.cases import service as cases
from app.cases.access import authorize_case
from app.cases.schemas import CaseCreate, CaseOut, CaseUpdate, NoteIn
from app.channels.chat import service as chat
from app.channels.email import service as email
from app.channels.email.schemas import EmailReplyIn
from app.consent.service import apply_disposition
from app.contacts.events import record
from app.contacts.models import Contact
from app.customers.access import LIVE_STATES
from app.customers.history import add_note, check_disposition, history_page
from app.customers.service import get_customer
from app.customers.views import authorize_view
from app.database import after_commit
from app.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.outbound.attempts import settle as settle_outbound
from app.routing import service as routing
from app.routing.models import RoutingInbox
from app.supervisor.consult import consult_topics
from app.surveys import service as surveys
from app.users.models import Role, User

Reply = p.Result | p.HistoryPage
RouterCommand = Callable[[AsyncSession, User], Awaitable[RoutingInbox | None]]


class Commands:
    def __init__(self, app: FastAPI, agent_id: int) -> None:
        self.app = app
        self.agent_id = agent_id

    async def run(self, frame: Any) -> Callable[[int], Reply] | None:
        """Carry the frame out; the reply, to be numbered by the line (None: no reply)."""
        handler = getattr(self, f"_{frame.type}")
        result: Callable[[int], Reply] | None = await handler(frame)
        return result

    # ------------------------------------------------------------ helpers

    async def _user(self, session: AsyncSession) -> User:
        user = await session.get(User, self.agent_id)
        if user is None or not user.is_active:
            raise Unauthorized("Your account is disabled.")
        return user

    async def _router(self, command: RouterCommand) -> str:
        async with self.app.state.db.unit_of_work() as session:
            row = await command(session, await self._user(session))
        return await self._wait(row)

    async def _wait(self, row: RoutingInbox | None) -> str:
        if row is None:
            return "applied"
        distributor = self.app.state.distributor
        result = None if distributor is None else await distributor.wait_processed(row.id)
        if result is None:
            return "pending"
        if not result.get("ok"):
            raise Conflict(
                result.get("message", "The router refused the request."),
                code=result.get("error", "refused"),
                details={"request_id": row.id},
            )
        return "applied"

    @staticmethod
    def _done(frame: Any, status: str = "applied", **data: Any) -> Callable[[int], Reply]:
        return lambda seq: p.Result(
            seq=seq, ref=frame.ref, request=frame.type, status=status, data=data
        )

    async def _own_contact(self, session: AsyncSession, contact_id: int, user: User) -> Contact:
        contact = await session.get(Contact, contact_id, with_for_update=True)
        if contact is None:
            raise NotFound(f"No contact {contact_id}.", details={"contact_id": contact_id})
        if contact.agent_id != user.id and not Role(user.role).at_least(Role.SUPERVISOR):
            raise Forbidden(
                f"Contact {contact_id} is not yours.", details={"contact_id": contact_id}
            )
        return contact

    # ------------------------------------------------------------ routing

    async def _set_state(self, frame: p.SetState) -> Callable[[int], Reply]:
        status = await self._router(
            lambda s, u: routing.set_agent_state(s, u, frame.state, frame.reason, actor_id=u.id)
        )
        return self._done(frame, status)

    async def _accept(self, frame: p.Accept) -> Callable[[int], Reply]:
        status = await self._router(
            lambda s, u: routing.answer_offer(s, frame.contact_id, u, accept=True)
        )
        return self._done(frame, status, contact_id=frame.contact_id)

    async def _reject(self, frame: p.Reject) -> Callable[[int], Reply]:
        status = await self._router(
            lambda s, u: routing.answer_offer(s, frame.contact_id, u, accept=False)
        )
        return self._done(frame, status, contact_id=frame.contact_id)

    async def _end_contact(self, frame: p.EndContact) -> Callable[[int], Reply]:
        check_disposition(frame.disposition)
        status = await self._router(
            lambda s, u: surveys.end_contact(s, frame.contact_id, u, frame.disposition)
        )
        return self._done(frame, status, contact_id=frame.contact_id)

    async def _transfer(self, frame: p.Transfer) -> Callable[[int], Reply]:
        status = await self._router(
            lambda s, u: routing.transfer(
                s, frame.contact_id, u, to_queue=frame.to_queue, to_agent_id=frame.to_agent_id
            )
        )
        return self._done(frame, status, contact_id=frame.contact_id)

    async def _wrap_up(self, frame: p.WrapUp) -> Callable[[int], Reply]:
        check_disposition(frame.disposition)
        async with self.app.state.db.unit_of_work() as session:
            user = await self._user(session)
            contact = await self._own_contact(session, frame.contact_id, user)
            row = None
            if contact.state == "assigned":
                row = await surveys.end_contact(session, contact.id, user, frame.disposition)
            elif contact.state in ("wrap_up", "ended"):
                contact.disposition = frame.disposition
                await apply_disposition(session, contact, frame.disposition, user.id)
                await settle_outbound(session, contact, frame.disposition, datetime.now(UTC))
            else:
                raise Conflict(
                    f"Contact {contact.id} is {contact.state}.",
                    details={"state": contact.state},
                    code="not_assigned",
                )
            if frame.note:
                await add_note(session, contact.id, user.id, frame.note)
            record(
                session,
                "contact.disposition_set",
                contact_id=contact.id,
                actor_id=user.id,
                payload={"disposition": frame.disposition},
            )
        status = await self._wait(row)
        if status == "applied":
            status = await self._router(lambda s, u: routing.end_wrap_up(s, u))
        return self._done(frame, status, contact_id=frame.contact_id)

    # ------------------------------------------------------------ conversations

    async def _send_chat(self, frame: p.SendChat) -> Callable[[int], Reply]:
        settings = self.app.state.settings
        async with self.app.state.db.unit_of_work() as session:
            message, duplicate = await chat.post_agent_message(
                session,
                self.app.state.bus,
                frame.contact_id,
                await self._user(session),
                frame.text,
                frame.client_id,
                settings.chat_max_message_chars,
            )
        return self._done(
            frame, contact_id=frame.contact_id, message_seq=message.seq, duplicate=duplicate
        )

    async def _typing(self, frame: p.Typing) -> None:
        async with self.app.state.db.unit_of_work() as session:
            await chat.agent_typing(
                session,
                self.app.state.bus,
                frame.contact_id,
                await self._user(session),
                frame.is_typing,
            )

    async def _reply_email(self, frame: p.ReplyEmail) -> Callable[[int], Reply]:
        reply = EmailReplyIn(body=frame.body, body_html=frame.body_html, cc=frame.cc)
        async with self.app.state.db.unit_of_work() as session:
            message, outbound = await email.queue_reply(
                session,
                frame.contact_id,
                await self._user(session),
                reply,
                self.app.state.settings,
                bus=self.app.state.bus,
            )
        return self._done(
            frame, contact_id=frame.contact_id, message_id=message.id, outbound_id=outbound.id
        )

    async def _add_note(self, frame: p.AddNote) -> Callable[[int], Reply]:
        async with self.app.state.db.unit_of_work() as session:
            user = await self._user(session)
            await self._own_contact(session, frame.contact_id, user)
            note = await add_note(session, frame.contact_id, user.id, frame.text)
        return self._done(frame, contact_id=frame.contact_id, note_id=note.id)

    async def _consult(self, frame: p.Consult) -> Callable[[int], Reply]:
        """Recorded as ``contact.consult_requested``; after commit the request goes to
        ``supervisors:{team}`` (the agent's team's supervisors) and to ``supervisors``
        (supervisors without a team and admins, who see every team's requests); see
        ``app.supervisor.consult``."""
        bus = self.app.state.bus
        async with self.app.state.db.unit_of_work() as session:
            user = await self._user(session)
            await self._own_contact(session, frame.contact_id, user)
            event = record(
                session,
                "contact.consult_requested",
                contact_id=frame.contact_id,
                actor_id=user.id,
                payload={"team": user.team},
                text=frame.text,
            )
            await session.flush()
            await session.refresh(event)
            ask = {
                "type": "consult",
                "consult_id": event.id,
                "agent_id": user.id,
                "agent_name": user.display_name,
                "team": user.team,
                "contact_id": frame.contact_id,
                "text": frame.text,
                "requested_at": event.occurred_at.isoformat(),
            }
            topics = consult_topics(user.team)

            async def publish() -> None:
                for topic in topics:
                    await bus.publish(topic, ask)

            after_commit(session, publish)
        return self._done(frame, contact_id=frame.contact_id, consult_id=event.id, topic=topics[0])

    # ------------------------------------------------------------ customer 360

    async def _get_history(self, frame: p.GetHistory) -> Callable[[int], Reply]:
        async with self.app.state.db.unit_of_work() as session:
            user = await self._user(session)
            await get_customer(session, frame.customer_id)
            await authorize_view(
                session,
                self.app.state.db,
                user,
                frame.customer_id,
                "history",
                via_contact=frame.via_contact,
            )
            items, next_cursor = await history_page(
                session, frame.customer_id, frame.cursor, frame.limit
            )
        return lambda seq: p.HistoryPage(
            seq=seq,
            ref=frame.ref,
            customer_id=frame.customer_id,
            items=items,
            next_cursor=next_cursor,
        )

    # ------------------------------------------------------------ cases

    async def _open_case(self, frame: p.OpenCase) -> Callable[[int], Reply]:
        async with self.app.state.db.unit_of_work() as session:
            user = await self._user(session)
            contact = await self._own_contact(session, frame.contact_id, user)
            if contact.state not in LIVE_STATES:
                raise Conflict(
                    f"Contact {contact.id} is {contact.state}.",
                    details={"state": contact.state},
                    code="not_offered_or_held",
                )
            if contact.customer_id is None:
                raise Conflict(
                    f"Contact {contact.id} has no customer yet; link or create one first.",
                    details={"contact_id": contact.id},
                    code="no_customer",
                )
            data = CaseCreate(
                customer_id=contact.customer_id,
                type=frame.case_type,
                subject=frame.subject,
                priority=frame.priority,
                origin=contact.channel,
                owner_id=user.id,
                queue=await cases.queue_names_by_id(session, contact.queue_id),
                contact_ids=[contact.id],
            )
            case = await cases.create_case(session, data, user.id)
            out = await cases.case_out(session, case)
        return self._case_done(frame, out)

    async def _link_case(self, frame: p.LinkCase) -> Callable[[int], Reply]:
        async with self.app.state.db.unit_of_work() as session:
            await self._case(session, frame.case_id)
            case = await cases.link_contact(session, frame.case_id, frame.contact_id, self.agent_id)
            out = await cases.case_out(session, case)
        return self._case_done(frame, out)

    async def _set_case_state(self, frame: p.SetCaseState) -> Callable[[int], Reply]:
        change = CaseUpdate(state=frame.state, reason=frame.reason)
        async with self.app.state.db.unit_of_work() as session:
            await self._case(session, frame.case_id)
            case = await cases.update_case(session, frame.case_id, change, self.agent_id)
            out = await cases.case_out(session, case)
        return self._case_done(frame, out)

    async def _add_case_note(self, frame: p.AddCaseNote) -> Callable[[int], Reply]:
        note = NoteIn(body=frame.text, kind=frame.kind)
        async with self.app.state.db.unit_of_work() as session:
            await self._case(session, frame.case_id)
            row = await cases.add_note(session, frame.case_id, note, self.agent_id)
        return self._done(frame, case_id=frame.case_id, note_id=row.id)

    async def _case(self, session: AsyncSession, case_id: int) -> None:
        """The agent may work the case (audited like the HTTP API)."""
        user = await self._user(session)
        case = await cases.get_case(session, case_id)
        await authorize_case(session, self.app.state.db, user, case, "case")

    def _case_done(self, frame: Any, out: CaseOut) -> Callable[[int], Reply]:
        sla = {k: None if v is None else v.model_dump(mode="json") for k, v in out.sla.items()}
        return self._done(
            frame,
            case_id=out.id,
            state=out.state,
            policy=out.policy,
            contact_ids=out.contact_ids,
            sla=sla,
        )
