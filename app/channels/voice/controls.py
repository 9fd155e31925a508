"""Call controls during a conversation: the agent puts the caller on hold and takes them
back; a supervisor listens in, whispers to the agent (the caller does not hear) or barges
in (both hear), and stops.

Each control is one provider request made with no transaction open: a unit of work reads
the live call and checks that the control can be done now (``check_control``, pure), the
request goes out through the provider's client (retries, breaker), and a second unit of
work records the outcome on the contact (``call.control_sent`` or ``call.control_failed``).

* **Twilio** calls are bridged with ``<Dial><Client>``: hold replaces the caller's TwiML
  with the hold prompt and music (the agent's leg ends), resume dials the agent's client
  again as the bridge did; contactd records ``call.held`` / ``call.resumed`` itself.
  Listening, whispering and barging need a conference bridge, which these calls do not
  have: 409 ``not_supported_by_provider``.
* **CTI** calls: a ``hold``, ``resume``, ``monitor`` (with the mode) or ``stop_monitoring``
  command to the PBX (docs/voice.md). The PBX reports holds with its own ``call.held`` /
  ``call.resumed`` events, which keep ``attributes.call.on_hold`` and the hold time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.channels.voice import cti, twilio
from app.channels.voice.service import call_info, update_call_info, update_hold
from app.consent.service import recording_allowed
from app.contacts.access import authorize_contact
from app.contacts.events import record
from app.contacts.models import Contact
from app.database import Database
from app.errors import AppError, Conflict, NotFound
from app.resilience.client import Delivery, DeliveryFailed
from app.users.models import User

Control = Literal["hold", "resume", "listen", "whisper", "barge", "stop_monitoring"]
MonitorMode = Literal["listen", "whisper", "barge"]
MONITOR_MODES: tuple[MonitorMode, ...] = ("listen", "whisper", "barge")


@dataclass(frozen=True, slots=True)
class ControlSpec:
    """One control: its name (the path's last segment), who may use it, what it does."""

    name: Control
    supervisors_only: bool
    summary: str


CONTROLS: tuple[ControlSpec, ...] = (
    ControlSpec("hold", False, "Put the caller on hold (hold prompt and music)"),
    ControlSpec("resume", False, "Take the caller off hold: they are connected to the agent again"),
    ControlSpec("listen", True, "Listen to the call (neither side hears the supervisor)"),
    ControlSpec("whisper", True, "Speak to the agent only (the caller does not hear)"),
    ControlSpec("barge", True, "Join the call: the caller and the agent both hear"),
    ControlSpec("stop_monitoring", True, "Leave a call the supervisor listens to or joined"),
)


def is_monitoring(control: Control) -> bool:
    """A supervisor's control: a monitor mode, or leaving one."""
    return control in MONITOR_MODES or control == "stop_monitoring"


class ProviderUnavailable(AppError):
    """502: the telephony provider did not take the command (it was not done)."""

    status_code = 502
    code = "provider_unavailable"


@dataclass(frozen=True, slots=True)
class LiveCall:
    """A call in conversation with its agent, as a control needs it."""

    contact_id: int
    provider: str  # twilio.PROVIDER or cti.PROVIDER
    call_ref: str
    account_sid: str | None
    agent_id: int
    agent_username: str
    language: str
    on_hold: bool
    monitoring: str | None  # the mode a supervisor monitors in, if one does
    record: bool  # a Twilio resume records the new leg (configured, and consent allows it)


@dataclass(frozen=True, slots=True)
class ControlDone:
    contact_id: int
    control: Control
    provider: str
    attempts: int


def check_control(control: Control, call: LiveCall) -> None:
    """Raise Conflict when ``control`` cannot be done on ``call`` now (pure)."""
    if is_monitoring(control) and call.provider == twilio.PROVIDER:
        raise Conflict(
            "Listening, whispering and barging need the PBX's conference bridge; "
            "Twilio calls are connected to the agent's client directly.",
            details={"provider": call.provider, "control": control},
            code="not_supported_by_provider",
        )
    if control == "hold" and call.on_hold:
        raise Conflict("The caller is on hold already.", code="already_on_hold")
    if control == "resume" and not call.on_hold:
        raise Conflict("The caller is not on hold.", code="not_on_hold")
    if control == "stop_monitoring" and call.monitoring is None:
        raise Conflict("Nobody monitors this call.", code="not_monitored")


async def live_call(session: AsyncSession, contact: Contact, *, record_calls: bool) -> LiveCall:
    """The contact's live call, or Conflict saying why there is none to control."""
    if contact.channel != "voice":
        raise Conflict("Only calls have call controls.", code="not_a_call")
    if contact.provider not in (twilio.PROVIDER, cti.PROVIDER) or contact.provider_ref is None:
        raise Conflict(
            "This call has no live leg at a provider (it was created through the API).",
            code="no_live_call",
        )
    if cti.call_over(contact):
        raise Conflict("The call has ended.", code="call_ended")
    if contact.state != "assigned" or contact.agent_id is None:
        raise Conflict(
            "The call is not connected to an agent.",
            details={"state": contact.state},
            code="call_not_connected",
        )
    username = await session.scalar(select(User.username).where(User.id == contact.agent_id))
    info = call_info(contact)
    account = info.get("account_sid")
    monitoring = info.get("monitoring")
    return LiveCall(
        contact_id=contact.id,
        provider=contact.provider,
        call_ref=contact.provider_ref,
        account_sid=account if isinstance(account, str) else None,
        agent_id=contact.agent_id,
        agent_username=username or "",
        language=str(info.get("language", "zh-CN")),
        on_hold=info.get("on_hold") is True,
        monitoring=monitoring.get("mode") if isinstance(monitoring, dict) else None,
        record=record_calls and await recording_allowed(session, contact.customer_id),
    )


class CallSender(Protocol):
    """What sends a control to the provider (``VoiceRuntime``)."""

    @property
    def record_calls(self) -> bool: ...

    async def send_control(self, call: LiveCall, control: Control, by: User) -> Delivery: ...


async def control_call(
    db: Database, sender: CallSender, user: User, contact_id: int, spec: ControlSpec
) -> ControlDone:
    """Do ``spec`` on the contact's call for ``user`` (see the module docstring).

    NotFound: no such contact. Forbidden (audited): an agent's control of a call that is
    not theirs. Conflict: no live call to control, or not in a state for it.
    ProviderUnavailable: the provider did not take it (recorded as ``call.control_failed``).
    """
    async with db.unit_of_work() as session:
        contact = await session.get(Contact, contact_id)
        if contact is None:
            raise NotFound(f"Contact {contact_id} not found.", code="contact_not_found")
        await authorize_contact(session, user, contact, f"call_{spec.name}")
        call = await live_call(session, contact, record_calls=sender.record_calls)
        check_control(spec.name, call)
    try:
        delivery = await sender.send_control(call, spec.name, user)
    except DeliveryFailed as exc:
        async with db.unit_of_work() as session:
            payload = {"control": spec.name, "reason": exc.reason, "attempts": exc.attempts}
            record(
                session,
                "call.control_failed",
                contact_id=contact_id,
                actor_id=user.id,
                payload=payload,
            )
        raise ProviderUnavailable(
            "The telephony provider did not take the command; try again.",
            details={"reason": exc.reason},
        ) from exc
    async with db.unit_of_work() as session:
        await _record_sent(session, call, spec.name, user, delivery)
    return ControlDone(contact_id, spec.name, call.provider, delivery.attempts)


async def _record_sent(
    session: AsyncSession, call: LiveCall, control: Control, user: User, delivery: Delivery
) -> None:
    contact = await session.get(Contact, call.contact_id, with_for_update=True)
    assert contact is not None  # contacts are never deleted
    payload = {"control": control, "provider": call.provider, "attempts": delivery.attempts}
    record(session, "call.control_sent", contact_id=contact.id, actor_id=user.id, payload=payload)
    if control in MONITOR_MODES:
        update_call_info(contact, monitoring={"mode": control, "supervisor_id": user.id})
    elif control == "stop_monitoring":
        update_call_info(contact, monitoring=None)
    elif call.provider == twilio.PROVIDER:  # the PBX reports its holds; Twilio does not
        kind = "call.held" if control == "hold" else "call.resumed"
        at = datetime.now(UTC).isoformat()
        record(
            session,
            kind,
            contact_id=contact.id,
            actor_id=user.id,
            payload={"provider": call.provider, "at": at},
        )
        await session.flush()
        await update_hold(session, contact)
