"""The frames of ``/ws/supervisor`` that are more than the live view (docs/supervisor.md).

The first frame (``auth``) is read by the endpoint itself; every later client frame is
validated with ``CLIENT_FRAME``. ``snapshot`` and ``delta`` are built by the hub
(``app.supervisor.live``); the frames below are sent as they are, in order, never merged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

from app.cases.schemas import CaseSlaNotice

Ref = Annotated[str | None, Field(default=None, max_length=64)]


# ------------------------------------------------------------------ client frames


class Subscribe(BaseModel):
    """Follow these queues (null or absent: every queue); a new ``snapshot`` follows. A
    frame without ``type`` is a subscribe (as it always was)."""

    type: Literal["subscribe"] = "subscribe"
    queues: list[str] | None = Field(default=None, description="None or absent: every queue.")


class ConsultReply(BaseModel):
    """Answer an agent's consult request on a contact: recorded as
    ``contact.consult_answered`` and pushed to the agent's console (``consult_answer``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["consult_reply"]
    contact_id: int
    agent_id: int
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    ref: Ref = None


def _kind(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("type", "subscribe")
    return getattr(value, "type", None)


ClientMessage = Annotated[
    Annotated[Subscribe, Tag("subscribe")] | Annotated[ConsultReply, Tag("consult_reply")],
    Discriminator(_kind),
]
CLIENT_FRAME: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


# ------------------------------------------------------------------ server frames


class ConsultRequest(BaseModel):
    """An agent asks for help (the console's ``consult``). Sent to supervisors of the
    agent's team, supervisors without a team and admins, while they are connected."""

    type: Literal["consult"] = "consult"
    consult_id: int  # the id of the ``contact.consult_requested`` event
    contact_id: int
    agent_id: int
    agent_name: str | None = None
    team: str | None = None
    text: str | None = None
    requested_at: str | None = None  # ISO 8601


class ConsultAnswered(BaseModel):
    """A supervisor answered a consult (sent to everyone who got the request, so a second
    supervisor need not answer too)."""

    type: Literal["consult_answered"] = "consult_answered"
    consult_id: int
    contact_id: int
    agent_id: int
    supervisor_id: int
    supervisor_name: str


class CaseSlaAlarm(CaseSlaNotice):
    """A case reached 80 % (``warning``) or 100 % (``breach``) of an SLA target. Sent to
    the supervisors of the owner's team (owner without a team, or no owner: supervisors
    without a team and admins), once per timer; ``event_id`` tells a repeat after a crash.
    ``escalated``: the case's queue and priority after the breach's escalation, null when
    none applied."""

    type: Literal["case_sla"] = "case_sla"
    owner_id: int | None


class CsatLow(BaseModel):
    """A customer rated a contact 1 or 2: sent to the supervisors of the agent's team
    (agent without a team: supervisors without a team and admins). ``case_id``: the
    complaint case opened or reopened for it, null when the contact has no customer."""

    type: Literal["csat_low"] = "csat_low"
    contact_id: int
    score: int
    channel: str
    agent_id: int | None
    queue: str | None
    customer_id: int | None
    case_id: int | None
    answered_at: str  # ISO 8601


class Result(BaseModel):
    """A client frame was carried out; ``ref`` echoes the frame's."""

    type: Literal["result"] = "result"
    ref: str | None = None
    request: str
    data: dict[str, Any] = {}


class Error(BaseModel):
    """``bad_message`` (malformed or unknown frame, up to five problems in ``details``),
    or a refused request: ``not_found``, ``unknown_agent``, ``forbidden``,
    ``no_such_consult``, ``internal_error``."""

    type: Literal["error"] = "error"
    ref: str | None = None
    code: str
    message: str = ""
    details: Any = None
