"""What the voice channel runs beside the API: connecting answered calls to their agents,
and offering CTI callers the callback or voicemail their queue's escalation step made due.

The router publishes ``{"type": "assigned", "contact_id", "agent_id"}`` on ``channel:voice``
once an agent has accepted a call. For a Twilio call the live call is updated through the
REST API to dial the agent's client (``agent-<username>``); for a CTI call a ``bridge``
command goes to the PBX. Each bridge runs as its own task: a short unit of work to read
what to connect, the provider request (retries, breaker) with no transaction open, and a
second unit of work recording ``call.bridged`` or ``call.bridge_failed``.

``{"type": "step_action_due", "contact_id", "action"}`` is handled the same way: for a CTI
call still waiting with that offer standing, an ``offer_step_action`` command goes to the
PBX, which plays it and sends ``call.step_action_taken`` if the caller takes it; recorded as
``call.step_action_offered`` or ``call.step_action_offer_failed``. (A Twilio caller hears
the offer from the hold loop, which asks for it on every turn.)
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.voice import cti, twilio, twiml
from app.channels.voice.controls import MONITOR_MODES, Control, LiveCall, is_monitoring
from app.channels.voice.provider import CtiCommands, TwilioCalls
from app.channels.voice.service import call_info, standing_offer
from app.config import Settings
from app.consent.service import recording_allowed
from app.contacts.events import record
from app.contacts.models import Contact
from app.database import Database
from app.outbound.dialer import Dialer
from app.resilience.breaker import CircuitBreaker
from app.resilience.client import (
    Delivery,
    DeliveryFailed,
    ResilientClient,
    RetryPolicy,
    http_client,
)
from app.routing import inbox
from app.users.models import User

TOPIC = "channel:voice"
DRAIN_SECONDS = 10.0
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BridgeTarget:
    contact_id: int
    agent_id: int
    agent_username: str
    provider: str
    call_ref: str
    account_sid: str | None
    record: bool = False  # record the bridged call (configured, and consent allows it)


async def bridge_target(
    session: AsyncSession, contact_id: int, agent_id: int, *, record_calls: bool = False
) -> BridgeTarget | None:
    """What to connect, or None (recorded why) when there is nothing to connect any more.

    ``record_calls`` (``CONTACTD_VOICE_RECORD_CALLS``): record the bridged call unless the
    customer refused ``voice`` × ``call_recording`` (read in this unit of work)."""
    contact = await session.get(Contact, contact_id, with_for_update=True)
    if contact is None or contact.provider not in (twilio.PROVIDER, cti.PROVIDER):
        return None  # a voice contact created through the API: no live call to connect
    if contact.provider_ref is None:
        return None
    reason = None
    if contact.state != "assigned" or contact.agent_id != agent_id:
        reason = "no_longer_assigned"
    elif cti.call_over(contact):
        reason = "call_ended"  # the caller hung up while the agent was accepting
        await inbox.submit(session, "contact.end", {"contact_id": contact.id})
    if reason is not None:
        record(
            session,
            "call.bridge_skipped",
            contact_id=contact_id,
            agent_id=agent_id,
            payload={"reason": reason},
        )
        return None
    username = await session.scalar(select(User.username).where(User.id == agent_id))
    if username is None:
        return None
    account = call_info(contact).get("account_sid")
    return BridgeTarget(
        contact_id=contact.id,
        agent_id=agent_id,
        agent_username=username,
        provider=contact.provider or "",
        call_ref=contact.provider_ref,
        account_sid=account if isinstance(account, str) else None,
        record=record_calls and await recording_allowed(session, contact.customer_id),
    )


class VoiceRuntime:
    def __init__(
        self,
        db: Database,
        twilio_calls: TwilioCalls,
        cti_commands: CtiCommands,
        *,
        record_calls: bool = False,
        public_base_url: str | None = None,
        hold_music_url: str = twiml.DEFAULT_HOLD_MUSIC_URL,
    ) -> None:
        self.db = db
        self.twilio = twilio_calls
        self.cti = cti_commands
        self.record_calls = record_calls
        self.hold_music_url = hold_music_url
        self.public_base_url = public_base_url  # None: no post-call survey
        self.dialer = Dialer(
            db,
            twilio_calls,
            cti_commands,
            public_base_url=public_base_url or "",
            record_calls=record_calls,
        )
        self._tasks: dict[asyncio.Task[None], int] = {}

    @classmethod
    def from_settings(
        cls, db: Database, http: httpx.AsyncClient, settings: Settings
    ) -> VoiceRuntime:
        token = settings.twilio_auth_token
        secret = settings.cti_secret
        twilio_calls = TwilioCalls(
            ResilientClient(http, name="twilio", breaker=CircuitBreaker()),
            settings.twilio_api_base_url,
            None if token is None else token.get_secret_value(),
            settings.twilio_account_sid,
        )
        cti_commands = CtiCommands(
            ResilientClient(http, name="cti", breaker=CircuitBreaker()),
            settings.cti_command_url,
            None if secret is None else secret.get_secret_value(),
        )
        return cls(
            db,
            twilio_calls,
            cti_commands,
            record_calls=settings.voice_record_calls,
            public_base_url=settings.public_base_url,
            hold_music_url=settings.voice_hold_music_url,
        )

    async def listen(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            message = await queue.get()
            kind = message.get("type")
            try:
                contact_id = int(message["contact_id"])
                if kind == "assigned":
                    work = self.bridge(contact_id, int(message["agent_id"]))
                elif kind == "step_action_due":
                    work = self.offer_step_action(contact_id, str(message["action"]))
                else:
                    continue
            except (KeyError, TypeError, ValueError):
                log.error("voice_bad_bus_message", message_type=kind)
                continue
            self._spawn(work, contact_id)

    def _spawn(self, work: Coroutine[Any, Any, None], contact_id: int) -> None:
        task = asyncio.create_task(work, name=f"voice-{contact_id}")
        self._tasks[task] = contact_id
        task.add_done_callback(lambda done: self._tasks.pop(done, None))

    async def bridge(self, contact_id: int, agent_id: int) -> None:
        """Connect the accepted call to its agent. An outbound call, or a callback whose
        caller has hung up, is placed now instead (``app.outbound.dialer``)."""
        try:
            if await self.dialer.dial(contact_id, agent_id):
                return
            async with self.db.unit_of_work() as session:
                target = await bridge_target(
                    session, contact_id, agent_id, record_calls=self.record_calls
                )
            if target is None:
                return
            kind, payload = await self._connect(target)
            async with self.db.unit_of_work() as session:
                record(session, kind, contact_id=contact_id, agent_id=agent_id, payload=payload)
            if kind == "call.bridge_failed":
                log.error("voice_bridge_failed", contact_id=contact_id, reason=payload["reason"])
            else:
                log.info("voice_bridged", contact_id=contact_id, provider=target.provider)
        except Exception:
            log.exception("voice_bridge_crashed", contact_id=contact_id)

    async def _connect(self, target: BridgeTarget) -> tuple[str, dict[str, Any]]:
        base = {"provider": target.provider, "agent_id": target.agent_id}
        try:
            if target.provider == twilio.PROVIDER:
                delivery = await self._dial_agent(target)
            else:
                delivery = await self.cti.send(bridge_command(target))
        except DeliveryFailed as exc:
            return "call.bridge_failed", {**base, "reason": exc.reason, "attempts": exc.attempts}
        return "call.bridged", {**base, "attempts": delivery.attempts}

    async def _dial_agent(self, target: BridgeTarget) -> Delivery:
        account = target.account_sid or self.twilio.account_sid
        if account is None:
            raise DeliveryFailed("twilio: the call's AccountSid is unknown", 0)
        base = self.public_base_url
        after = None if base is None else twilio.survey_url(base, target.contact_id)
        document = twiml.dial_client(
            f"agent-{target.agent_username}", record=target.record, after=after
        )
        return await self.twilio.update_twiml(account, target.call_ref, document)

    async def send_control(self, call: LiveCall, control: Control, by: User) -> Delivery:
        """One call control (``app.channels.voice.controls``) to the call's provider."""
        if call.provider != twilio.PROVIDER:
            return await self.cti.send(control_command(call, control, by))
        if control == "resume":
            target = BridgeTarget(
                call.contact_id,
                call.agent_id,
                call.agent_username,
                call.provider,
                call.call_ref,
                call.account_sid,
                call.record,
            )
            return await self._dial_agent(target)
        account = call.account_sid or self.twilio.account_sid
        if control != "hold" or account is None:
            raise DeliveryFailed(f"twilio: cannot {control} this call", 0)
        document = twiml.on_hold(call.language, self.hold_music_url)
        return await self.twilio.update_twiml(account, call.call_ref, document)

    async def offer_step_action(self, contact_id: int, action: str) -> None:
        try:
            async with self.db.unit_of_work() as session:
                command = await step_action_command(session, contact_id, action)
            if command is None:
                return
            try:
                delivery = await self.cti.send(command)
            except DeliveryFailed as exc:
                kind = "call.step_action_offer_failed"
                payload: dict[str, Any] = {"reason": exc.reason, "attempts": exc.attempts}
            else:
                kind, payload = "call.step_action_offered", {"attempts": delivery.attempts}
            async with self.db.unit_of_work() as session:
                record(session, kind, contact_id=contact_id, payload={"action": action, **payload})
            log.info("voice_step_action_offer", contact_id=contact_id, outcome=kind)
        except Exception:
            log.exception("voice_step_action_crashed", contact_id=contact_id)

    async def drain(self, seconds: float) -> None:
        """Let bridges in flight finish; after ``seconds`` cancel them, saying which."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(list(self._tasks), timeout=seconds)
        for task in pending:
            log.error("voice_task_cancelled_at_shutdown", contact_id=self._tasks.get(task))
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def control_command(call: LiveCall, control: Control, by: User) -> dict[str, Any]:
    """The CTI command for a call control (see docs/voice.md): ``hold``, ``resume``,
    ``monitor`` with the mode, ``stop_monitoring``."""
    command: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": "monitor" if control in MONITOR_MODES else control,
        "call_id": call.call_ref,
        "contact_id": call.contact_id,
        "agent": {"id": call.agent_id, "username": call.agent_username},
    }
    if control in MONITOR_MODES:
        command["mode"] = control
    if is_monitoring(control):
        command["supervisor"] = {"id": by.id, "username": by.username}
    command["timestamp"] = datetime.now(UTC).isoformat()
    return command


def bridge_command(target: BridgeTarget) -> dict[str, Any]:
    """The CTI ``bridge`` command: connect the PBX's call to the agent (see docs/voice.md)."""
    return {
        "id": str(uuid.uuid4()),
        "type": "bridge",
        "call_id": target.call_ref,
        "contact_id": target.contact_id,
        "agent": {"id": target.agent_id, "username": target.agent_username},
        "record": target.record,
        "timestamp": datetime.now(UTC).isoformat(),
    }


async def step_action_command(
    session: AsyncSession, contact_id: int, action: str
) -> dict[str, Any] | None:
    """The CTI ``offer_step_action`` command (see docs/voice.md), or None when there is no
    CTI caller to offer ``action`` to: the call is not the PBX's, is over, or the offer no
    longer stands (answered, taken, the contact requeued below the step)."""
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.provider != cti.PROVIDER or contact.provider_ref is None:
        return None
    if cti.call_over(contact) or await standing_offer(session, contact) != action:
        return None
    language = str(call_info(contact).get("language", "zh-CN"))
    prompts = twiml.prompts_for(language)
    return {
        "id": str(uuid.uuid4()),
        "type": "offer_step_action",
        "call_id": contact.provider_ref,
        "contact_id": contact.id,
        "action": action,
        "language": language,
        "prompt": prompts.offer_voicemail if action == "voicemail" else prompts.offer_callback,
        "timestamp": datetime.now(UTC).isoformat(),
    }


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    timeout = RetryPolicy().timeout_seconds
    async with (
        http_client(timeout=timeout) as http,
        app.state.bus.subscribe(TOPIC) as queue,
    ):
        voice = VoiceRuntime.from_settings(app.state.db, http, settings)
        app.state.voice = voice
        listener = asyncio.create_task(voice.listen(queue), name="voice-channel")
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await voice.drain(DRAIN_SECONDS)
