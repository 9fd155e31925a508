"""Placing an accepted outbound call through the voice provider: Twilio's ``Calls`` create
(the customer's leg, bridged on answer to the agent's client) or a CTI ``dial`` command.

Like the inbound bridge (``app.channels.voice.runtime``): a short unit of work reads what
to place (``service.dial_plan``, consent checked again), the provider request runs with no
transaction open, a second unit of work records the outcome."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog

from app.channels.voice import twilio, twiml
from app.channels.voice.provider import CtiCommands, TwilioCalls
from app.contacts.models import Contact
from app.database import Database
from app.outbound import service
from app.resilience.client import DeliveryFailed

log = structlog.get_logger(__name__)
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")


def status_callback_url(base: str, contact_id: int) -> str:
    return f"{base.rstrip('/')}/webhooks/twilio/outbound/status?contact={contact_id}"


def twilio_form(plan: service.DialPlan, public_base_url: str) -> list[tuple[str, str]]:
    """The ``Calls`` create parameters: to the customer, from our caller id, the agent's
    client dialled once the customer answers, every status reported back."""
    if plan.caller_id is None:
        raise DeliveryFailed("outbound: CONTACTD_OUTBOUND_CALLER_ID is not set", 0)
    document = twiml.dial_client(f"agent-{plan.agent_username}", record=plan.record)
    form = [
        ("To", plan.to),
        ("From", plan.caller_id),
        ("Twiml", document),
        ("StatusCallback", status_callback_url(public_base_url, plan.contact_id)),
        ("StatusCallbackMethod", "POST"),
    ]
    return form + [("StatusCallbackEvent", event) for event in STATUS_EVENTS]


def dial_command(plan: service.DialPlan) -> dict[str, Any]:
    """The CTI ``dial`` command (docs/outbound.md): the PBX calls ``to`` from ``from`` and
    connects the agent; its events name the call by ``call_id``."""
    return {
        "id": str(uuid.uuid4()),
        "type": "dial",
        "call_id": plan.call_ref,
        "contact_id": plan.contact_id,
        "to": plan.to,
        "from": plan.caller_id,
        "agent": {"id": plan.agent_id, "username": plan.agent_username},
        "record": plan.record,
        "timestamp": datetime.now(UTC).isoformat(),
    }


class Dialer:
    def __init__(
        self,
        db: Database,
        twilio_calls: TwilioCalls,
        cti_commands: CtiCommands,
        *,
        public_base_url: str,
        record_calls: bool = False,
    ) -> None:
        self.db = db
        self.twilio = twilio_calls
        self.cti = cti_commands
        self.public_base_url = public_base_url
        self.record_calls = record_calls

    async def dial(self, contact_id: int, agent_id: int) -> bool:
        """Place the accepted contact's call (once), recording how it went; False when
        accepting it places no call (``service.places_call``: an inbound call to bridge)."""
        async with self.db.unit_of_work() as session:
            contact = await session.get(Contact, contact_id, with_for_update=True)
            if contact is None or not service.places_call(contact):
                return False
            plan = await service.dial_plan(
                session, contact, agent_id, datetime.now(UTC), record_calls=self.record_calls
            )
        if plan is None:
            return True
        call_sid, failure, attempts = None, None, 1
        try:
            call_sid = await self._place(plan)
        except DeliveryFailed as exc:
            failure, attempts = exc.reason, exc.attempts
        async with self.db.unit_of_work() as session:
            await service.dial_outcome(
                session,
                contact_id,
                agent_id,
                provider=plan.provider,
                call_sid=call_sid,
                failure=failure,
                attempts=attempts,
                now=datetime.now(UTC),
            )
        log.info("outbound_dialled", contact_id=contact_id, failed=failure is not None)
        return True

    async def _place(self, plan: service.DialPlan) -> str | None:
        if plan.provider == twilio.PROVIDER:
            account = self.twilio.account_sid
            if account is None:
                raise DeliveryFailed("twilio: CONTACTD_TWILIO_ACCOUNT_SID is not set", 0)
            return await self.twilio.create_call(account, twilio_form(plan, self.public_base_url))
        await self.cti.send(dial_command(plan))
        return None
