"""``contactd try call|email|chat``. Each reads the same settings as the service
(``CONTACTD_TWILIO_AUTH_TOKEN``, ``CONTACTD_SMTP_PORT``, ...; what is unset is the demo's)
and talks to ``--url`` (default ``CONTACTD_PUBLIC_BASE_URL``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import httpx
import typer
from pydantic import ValidationError

from app.channels.chat.schemas import SessionCreate
from app.config import Settings
from app.customers.identity import InvalidPhone, normalize_phone
from app.demo.guide import TRY_CALLER, TRY_EMAIL_FROM
from app.demo.mode import credentials
from app.tryout import call as calls
from app.tryout import chat as chats
from app.tryout import mail

try_app = typer.Typer(
    help="Try each channel against a running contactd, with no provider.", no_args_is_help=True
)
Url = Annotated[
    str | None,
    typer.Option(help="The service to try (default: CONTACTD_PUBLIC_BASE_URL)."),
]


def _base_url(url: str | None, settings: Settings) -> str:
    return (url or settings.public_base_url).rstrip("/")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _e164(raw: str, region: str) -> str:
    try:
        return normalize_phone(raw, region).e164
    except InvalidPhone as exc:
        raise _fail(f"{raw!r} is not a phone number", 2) from exc


@try_app.command("call")
def try_call(
    to: Annotated[str, typer.Option("--to", help="The number dialled.")],
    caller: Annotated[str, typer.Option("--from", help="The caller's number.")] = TRY_CALLER,
    digits: Annotated[str, typer.Option(help="Keys pressed at each menu, e.g. 2,4.")] = "",
    hold_turns: Annotated[
        int, typer.Option(min=0, help="Turns of the hold loop to wait before hanging up.")
    ] = 1,
    url: Url = None,
) -> None:
    """Call a number as Twilio would carry the call; print what the caller hears."""
    settings = Settings()
    base = _base_url(url, settings)
    region = settings.default_region
    pressed = [d.strip() for d in digits.split(",") if d.strip()]

    async def run() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            caller_side = calls.Caller(
                base, credentials(settings), _e164(caller, region), _e164(to, region), http
            )
            await calls.hold_call(caller_side, pressed, hold_turns, typer.echo)

    try:
        asyncio.run(run())
    except (calls.TryCallError, httpx.HTTPError) as exc:
        raise _fail(str(exc) or type(exc).__name__) from exc


@try_app.command("email")
def try_email(
    message_file: Annotated[
        Path | None, typer.Argument(help="An .eml file to send as it is.", exists=True)
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Recipient (a mailbox).")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="Sender.")] = None,
    subject: Annotated[str, typer.Option(help="Subject (without a file).")] = "contactd try",
    body: Annotated[str, typer.Option(help="Text (without a file).")] = "你好，这是一封测试邮件。",
    charset: Annotated[str, typer.Option(help="Charset of the text: utf-8, gbk, ...")] = "utf-8",
    smtp_port: Annotated[
        int | None, typer.Option(help="SMTP port (default: CONTACTD_SMTP_PORT, or the demo's).")
    ] = None,
    url: Url = None,
) -> None:
    """Send an email to the service's SMTP listener (on --url's host)."""
    settings = Settings()
    host = urlsplit(_base_url(url, settings)).hostname or settings.smtp_hostname
    port = smtp_port or credentials(settings).smtp_port
    try:
        if message_file is not None:
            raw = message_file.read_bytes()
        else:
            if to is None:
                raise _fail("give --to (or a message file)", 2)
            raw = mail.compose(sender or TRY_EMAIL_FROM, to, subject, body, charset)
        envelope_from, recipients = mail.envelope(raw, sender, to)
        reply = asyncio.run(mail.send(raw, envelope_from, recipients, host, port))
    except (mail.TryEmailError, LookupError, UnicodeError) as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"sent to {', '.join(recipients)} over SMTP {host}:{port}: {reply}")


async def _stdin_lines() -> AsyncIterator[str]:
    while line := await asyncio.to_thread(sys.stdin.readline):
        yield line


@try_app.command("chat")
def try_chat(
    widget: Annotated[str, typer.Option(help="The chat widget's key.")] = "default",
    name: Annotated[str | None, typer.Option(help="The visitor's name.")] = None,
    email: Annotated[str | None, typer.Option(help="The visitor's email.")] = None,
    language: Annotated[str | None, typer.Option(help="The visitor's language.")] = None,
    url: Url = None,
) -> None:
    """Chat as a visitor: each line typed is sent; end of input (Ctrl-D) leaves."""
    settings = Settings()
    try:
        data = SessionCreate(widget=widget, name=name, email=email, language=language)
    except ValidationError as exc:
        raise _fail(str(exc), 2) from exc
    typer.echo("type a line and Enter to send it; Ctrl-D leaves the chat", err=True)
    try:
        asyncio.run(chats.visit(_base_url(url, settings), data, _stdin_lines(), typer.echo))
    except (chats.TryChatError, httpx.HTTPError, OSError) as exc:
        raise _fail(str(exc) or type(exc).__name__) from exc
