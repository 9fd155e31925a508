"""HTTP and websocket endpoints of the chat channel.

The visitor (no account) starts a session over HTTP and talks over ``/ws/chat``; the agent
uses the REST endpoints under ``/api/v1/contacts/{id}``. See docs/chat.md.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, WebSocket, status

from app.auth.dependencies import AgentUser, SupervisorUser
from app.channels.chat import admission, service
from app.channels.chat.connection import VisitorSocket
from app.channels.chat.runtime import ChatRuntime, chat_runtime
from app.channels.chat.schemas import (
    AgentMessageIn,
    ChatEndOut,
    MessageOut,
    PurgeRequest,
    PurgeResult,
    SessionCreate,
    SessionCreated,
    TypingIn,
)
from app.channels.models import Message
from app.config import Settings
from app.dependencies import SessionDep, SettingsDep, get_database
from app.events.bus import EventBus
from app.ratelimit.service import client_address
from app.routing.core.model import ContactStatus, rounded_wait
from app.validation import INT4_MAX

router = APIRouter(tags=["chat"])

FIRST_POSITION_WAIT_SECONDS = 1.0


def _bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


@router.post(
    "/api/v1/chat/sessions",
    response_model=SessionCreated,
    status_code=status.HTTP_201_CREATED,
    summary="A website visitor starts a chat (public: the chat widget calls it)",
    responses={
        429: {
            "description": "Too many chats started from this address or widget, or too many"
            " anonymous chats waiting: retry after `Retry-After`."
        }
    },
)
async def start_session(
    request: Request, settings: SettingsDep, data: SessionCreate
) -> SessionCreated:
    db = get_database(request)
    address = client_address(request, settings.forwarded_for_header)
    await admission.admit(db, data.widget, address, settings)
    async with db.unit_of_work() as session:
        await admission.check_waiting(session, data, settings)
        started = await service.start_chat(session, _bus(request), data, settings)
    runtime = chat_runtime(request.app)
    if started.closed_action is not None:
        return SessionCreated(
            session_id=started.session_id,
            token=started.token,
            contact_id=started.contact_id,
            position=None,
            expected_wait_seconds=None,
            closed_action=started.closed_action,
            ended=True,
        )
    runtime.expect_visitor(started.session_id, started.contact_id)
    position, expected = await _first_position(request, runtime, started)
    return SessionCreated(
        session_id=started.session_id,
        token=started.token,
        contact_id=started.contact_id,
        position=position,
        expected_wait_seconds=expected,
    )


async def _first_position(
    request: Request, runtime: ChatRuntime, started: service.StartedChat
) -> tuple[int | None, float | None]:
    """Once the router has placed the contact (a few ms when it runs here)."""
    distributor = getattr(request.app.state, "distributor", None)
    if distributor is None or started.request_id is None:
        return None, None
    await distributor.wait_processed(started.request_id, FIRST_POSITION_WAIT_SECONDS)
    found = runtime.position(started.contact_id)
    if found is None:
        return None, None
    if found.status is not ContactStatus.WAITING:
        return 0, 0.0
    return found.position, rounded_wait(found.expected_wait_seconds)


@router.post(
    "/api/v1/chat/purge",
    response_model=PurgeResult,
    summary="Take a widget's waiting spam chats out of line (supervisors)",
    tags=["supervisor"],
)
async def purge(
    request: Request, session: SessionDep, user: SupervisorUser, data: PurgeRequest
) -> PurgeResult:
    return PurgeResult(ended=await admission.purge_waiting(session, _bus(request), data, user))


@router.websocket("/ws/chat")
async def visitor_socket(websocket: WebSocket) -> None:
    settings: Settings = websocket.app.state.settings
    await VisitorSocket(websocket, chat_runtime(websocket.app), settings).serve()


# ------------------------------------------------------------------ the agent's side


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        seq=message.seq,
        direction=message.direction,
        author=message.author,
        text=message.body,
        agent_id=message.agent_id,
        agent_name=message.meta.get("agent_name"),
        event=message.meta.get("event"),
        created_at=message.created_at,
        attachment=message.meta.get("attachment"),
    )


@router.get(
    "/api/v1/contacts/{contact_id}/messages",
    response_model=list[MessageOut],
    summary="The transcript, in order (the contact's agent or a supervisor)",
    tags=["contacts"],
)
async def transcript(
    session: SessionDep,
    user: AgentUser,
    contact_id: int,
    after_seq: Annotated[int, Query(ge=0, le=INT4_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[MessageOut]:
    messages = await service.transcript(session, contact_id, user, after_seq, limit)
    return [message_out(m) for m in messages]


@router.post(
    "/api/v1/contacts/{contact_id}/messages",
    response_model=MessageOut,
    status_code=status.HTTP_201_CREATED,
    summary="The agent writes to the visitor (the assigned agent or a supervisor)",
    tags=["agent actions"],
)
async def post_message(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    user: AgentUser,
    contact_id: int,
    data: AgentMessageIn,
) -> MessageOut:
    message, duplicate = await service.post_agent_message(
        session,
        _bus(request),
        contact_id,
        user,
        data.text,
        data.client_id,
        settings.chat_max_message_chars,
    )
    if duplicate:
        response.status_code = status.HTTP_200_OK
    return message_out(message)


@router.post(
    "/api/v1/contacts/{contact_id}/typing",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Tell the visitor the agent is typing",
    tags=["agent actions"],
)
async def typing(
    request: Request, session: SessionDep, user: AgentUser, contact_id: int, data: TypingIn
) -> None:
    await service.agent_typing(session, _bus(request), contact_id, user, data.is_typing)


@router.post(
    "/api/v1/contacts/{contact_id}/chat/end",
    response_model=ChatEndOut,
    summary="End the chat from the agent's side (the visitor is told)",
    tags=["agent actions"],
)
async def end_chat(
    request: Request, session: SessionDep, user: AgentUser, contact_id: int
) -> ChatEndOut:
    outcome = await service.end_chat(session, _bus(request), contact_id, "agent", user=user)
    assert outcome is not None  # only_while_waiting is not asked here
    return ChatEndOut(
        contact_id=outcome.contact_id,
        ended_at=outcome.ended_at,
        ended_by=outcome.ended_by,
        routing=outcome.routing,
    )
