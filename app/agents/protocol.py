"""The agent console protocol (``/ws/agent``): every frame as a pydantic model.

Client frames are validated with ``CLIENT_FRAME``; server frames are built from the models
below, so ``docs/agent-console.md`` can be generated from them (see ``protocol_schemas``).
Any client frame may carry ``ref`` (the client's own id for it); the server's ``result`` or
``error`` for that frame echoes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.cases.schemas import CaseSlaNotice
from app.channels.chat.protocol import AttachmentRef
from app.customers.history_schemas import HistoryItem, ScreenPop

Ref = Annotated[str | None, Field(default=None, max_length=64)]


class ClientFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref = None


class Hello(ClientFrame):
    """The first frame: the JWT (from ``/api/v1/auth/token``) and the last ``seq`` the
    client saw, or null on a fresh start."""

    type: Literal["hello"]
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    last_seq: int | None = None


class ClientPing(ClientFrame):
    type: Literal["ping"]


class ClientPong(ClientFrame):
    """The answer to the server's ``ping``."""

    type: Literal["pong"]


class SetState(ClientFrame):
    type: Literal["set_state"]
    state: Literal["available", "not_ready", "offline"]
    reason: Annotated[str | None, Field(max_length=64)] = None


class Accept(ClientFrame):
    type: Literal["accept"]
    contact_id: int


class Reject(ClientFrame):
    type: Literal["reject"]
    contact_id: int


class SendChat(ClientFrame):
    type: Literal["send_chat"]
    contact_id: int
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    client_id: Annotated[str | None, Field(max_length=64)] = None


class ReplyEmail(ClientFrame):
    type: Literal["reply_email"]
    contact_id: int
    body: Annotated[str, Field(min_length=1, max_length=200_000)]
    body_html: Annotated[str | None, Field(max_length=500_000)] = None
    cc: Annotated[list[str], Field(max_length=20)] = []


class AddNote(ClientFrame):
    type: Literal["add_note"]
    contact_id: int
    text: Annotated[str, Field(min_length=1, max_length=10_000)]


class EndContact(ClientFrame):
    """Finish the work on an assigned contact: wrap-up starts."""

    type: Literal["end_contact"]
    contact_id: int
    disposition: Annotated[str | None, Field(max_length=64)] = None


class WrapUp(ClientFrame):
    """Set the disposition (one of ``welcome.dispositions``), optionally add a note, and end
    the wrap-up (ending the contact first if it is still assigned)."""

    type: Literal["wrap_up"]
    contact_id: int
    disposition: Annotated[str, Field(max_length=64)]
    note: Annotated[str | None, Field(min_length=1, max_length=10_000)] = None


class Transfer(ClientFrame):
    type: Literal["transfer"]
    contact_id: int
    to_queue: Annotated[str | None, Field(max_length=100)] = None
    to_agent_id: int | None = None


class Consult(ClientFrame):
    """Ask the supervisors of my team for help with a contact. Supervisors of the agent's
    team, supervisors without a team and admins connected to ``/ws/supervisor`` get it;
    an answer comes back as a ``consult_answer`` event."""

    type: Literal["consult"]
    contact_id: int
    text: Annotated[str | None, Field(max_length=2000)] = None


class Typing(ClientFrame):
    """The agent is (or stopped) typing on a chat they hold: the visitor's widget shows it.
    Nothing is stored and no ``result`` comes back (only an ``error`` when refused); send
    it at most every few seconds while typing."""

    type: Literal["typing"]
    contact_id: int
    is_typing: bool


class GetHistory(ClientFrame):
    """A page of a customer's history (access-checked and audited like the HTTP API)."""

    type: Literal["get_history"]
    customer_id: int
    via_contact: int | None = None
    cursor: Annotated[str | None, Field(max_length=200)] = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class OpenCase(ClientFrame):
    """Open a case from a contact offered to or held by the agent: the contact's customer,
    the agent as owner, the contact's queue, the contact linked. The result's ``data``
    has ``case_id``, ``state``, ``policy`` and the ``sla`` due times."""

    type: Literal["open_case"]
    contact_id: int
    case_type: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    subject: Annotated[str, Field(max_length=500)] = ""
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


class LinkCase(ClientFrame):
    """Link a contact to a case (a customer's new message on an open case opens it again,
    on a case resolved within the reopen period reopens it)."""

    type: Literal["link_case"]
    case_id: int
    contact_id: int


class SetCaseState(ClientFrame):
    """Change a case's state; a change the state machine does not allow is an error
    ``invalid_transition`` with the allowed states in ``details``."""

    type: Literal["set_case_state"]
    case_id: int
    state: Literal["new", "open", "pending_customer", "resolved", "closed", "reopened"]
    reason: Annotated[str | None, Field(max_length=64)] = None


class AddCaseNote(ClientFrame):
    """A note on a case; ``kind`` ``reply`` records a response to the customer."""

    type: Literal["add_case_note"]
    case_id: int
    text: Annotated[str, Field(min_length=1, max_length=10_000)]
    kind: Literal["internal", "reply"] = "internal"


ClientMessage = Annotated[
    Hello
    | ClientPing
    | ClientPong
    | SetState
    | Accept
    | Reject
    | SendChat
    | ReplyEmail
    | AddNote
    | EndContact
    | WrapUp
    | Transfer
    | Consult
    | GetHistory
    | OpenCase
    | LinkCase
    | SetCaseState
    | AddCaseNote
    | Typing,
    Field(discriminator="type"),
]
CLIENT_FRAME: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


# ------------------------------------------------------------------ server frames


class ServerFrame(BaseModel):
    """``seq`` orders the agent's events. Events (everything but ``welcome``, ``ping``,
    ``pong``, ``taken_over`` and ``typing``) take the next number and are kept for resuming;
    those five control frames carry the latest event's number and never advance it."""

    seq: int


class Welcome(ServerFrame):
    type: Literal["welcome"] = "welcome"
    agent_id: int
    resumed: bool  # true: the missed events follow; false: a ``snapshot`` follows
    dispositions: list[str]
    heartbeat_seconds: float


class ServerPing(ServerFrame):
    type: Literal["ping"] = "ping"


class ServerPong(ServerFrame):
    type: Literal["pong"] = "pong"
    ref: str | None = None


class TakenOver(ServerFrame):
    """Another login of the same agent took over; this socket closes (code 4409)."""

    type: Literal["taken_over"] = "taken_over"


class LiveContact(BaseModel):
    contact_id: int
    channel: str
    state: str  # offered | assigned | wrap_up
    offer_deadline: datetime | None


class Snapshot(ServerFrame):
    """What the agent holds now: sent after a fresh login or when the missed events are no
    longer kept (``resync``). Offers in it come as ``offer`` events right after. It also
    carries what a console shows before any event: the agent's name, routing state (and
    since when), and the reasons ``set_state`` accepts for ``not_ready``."""

    type: Literal["snapshot"] = "snapshot"
    resync: bool
    contacts: list[LiveContact]
    agent_name: str = ""
    state: str = "offline"  # offline | available | not_ready | on_contact | wrap_up
    reason: str | None = None
    state_since: datetime | None = None
    not_ready_reasons: list[str] = []


class TraceCandidate(BaseModel):
    agent_id: int
    score: list[float] | None  # the strategy's sort key (higher first); null when skipped
    skipped_because: str | None = None  # e.g. "no capacity", "rejected recently"


class TraceRequirement(BaseModel):
    skill: str
    level: int


class TraceBoost(BaseModel):
    tag: str
    points: int


class RoutingTrace(BaseModel):
    """Why the router offered the contact to this agent: the queue, its strategy, the
    escalation step whose requirements applied, the rule that picked the agent, the value
    tags that raised the contact's priority, and every agent it weighed."""

    queue: str
    strategy: str
    step: int
    rule: str
    requirements: list[TraceRequirement]
    priority_boosts: list[TraceBoost] = []
    candidates: list[TraceCandidate]


class Offer(ServerFrame):
    type: Literal["offer"] = "offer"
    contact_id: int
    deadline: float | None  # epoch seconds; null: no deadline
    pop: ScreenPop | None  # null only if the pop could not be built (see ``pop_error``)
    pop_error: str | None = None
    trace: RoutingTrace | None = None  # "why me": the router's decision (null if not found)


class VisitorTyping(ServerFrame):
    """The chat visitor started or stopped typing. A control frame: it carries the latest
    event's number, is not kept and is not replayed on resume."""

    type: Literal["typing"] = "typing"
    contact_id: int
    is_typing: bool


class OfferWithdrawn(ServerFrame):
    type: Literal["offer_withdrawn"] = "offer_withdrawn"
    contact_id: int
    reason: str


class Assigned(ServerFrame):
    type: Literal["assigned"] = "assigned"
    contact_id: int


class StateChanged(ServerFrame):
    type: Literal["state"] = "state"
    state: str
    reason: str | None = None
    previous: str | None = None


class ChatMessage(ServerFrame):
    """A message from the customer on a contact the agent holds: a visitor's chat line
    (``channel`` chat, contact assigned), or an email that arrived on the thread (``channel``
    email, contact assigned or in wrap-up). For an email, ``text`` is the plain-text body cut
    to 4,000 characters (``truncated`` says so; the whole message and its attachments are at
    ``GET /api/v1/contacts/{contact_id}/email-messages``), ``automatic`` names an auto-reply
    or bounce (null for a person's mail), and ``reopened`` says the contact was in wrap-up
    and this email put it back in the queue. A file a chat visitor sent has ``attachment``
    (``text`` is its name; download at ``GET /api/v1/attachments/{id}``)."""

    type: Literal["chat_message"] = "chat_message"
    contact_id: int
    message_seq: int  # the message's number in the contact's transcript / thread
    text: str
    channel: Literal["chat", "email"] = "chat"
    message_id: int | None = None  # emails: the stored message's id
    subject: str | None = None
    from_address: str | None = None
    from_name: str | None = None
    truncated: bool = False
    attachments: int = 0
    automatic: str | None = None
    reopened: bool = False
    attachment: AttachmentRef | None = None  # chat: the visitor sent this file


class ChatEnded(ServerFrame):
    type: Literal["chat_ended"] = "chat_ended"
    contact_id: int
    by: str


class ConsultAnswer(ServerFrame):
    """A supervisor's answer to the agent's ``consult`` (sent from ``/ws/supervisor``)."""

    type: Literal["consult_answer"] = "consult_answer"
    contact_id: int
    consult_id: int  # the id of the agent's ``contact.consult_requested`` event
    supervisor_id: int
    supervisor_name: str
    text: str


class CaseSla(ServerFrame, CaseSlaNotice):
    """A case the agent owns reached 80 % (``warning``) or 100 % (``breach``) of an SLA
    target. ``escalated``: the case's queue and priority after a breach's escalation, null
    when none applied."""

    type: Literal["case_sla"] = "case_sla"


class Result(ServerFrame):
    """A client frame was carried out. ``status``: applied (committed and applied by the
    router), pending (committed; the router has not confirmed yet)."""

    type: Literal["result"] = "result"
    ref: str | None = None
    request: str  # the client frame's type
    status: Literal["applied", "pending"] = "applied"
    data: dict[str, Any] = {}


class HistoryPage(ServerFrame):
    type: Literal["history"] = "history"
    ref: str | None = None
    customer_id: int
    items: list[HistoryItem]
    next_cursor: str | None


class Error(ServerFrame):
    type: Literal["error"] = "error"
    ref: str | None = None
    code: str
    message: str
    details: Any = None


SERVER_FRAMES: tuple[type[ServerFrame], ...] = (
    Welcome,
    ServerPing,
    ServerPong,
    TakenOver,
    Snapshot,
    Offer,
    OfferWithdrawn,
    Assigned,
    StateChanged,
    ChatMessage,
    ChatEnded,
    VisitorTyping,
    ConsultAnswer,
    CaseSla,
    Result,
    HistoryPage,
    Error,
)
CLIENT_FRAMES: tuple[type[ClientFrame], ...] = (
    Hello,
    ClientPing,
    ClientPong,
    SetState,
    Accept,
    Reject,
    SendChat,
    ReplyEmail,
    AddNote,
    EndContact,
    WrapUp,
    Transfer,
    Consult,
    Typing,
    GetHistory,
    OpenCase,
    LinkCase,
    SetCaseState,
    AddCaseNote,
)
