"""``contactd try email``: one message over SMTP to the service's listener."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import getaddresses, make_msgid

import aiosmtplib


class TryEmailError(RuntimeError):
    """The listener refused the message, or could not be reached."""


def compose(sender: str, recipient: str, subject: str, body: str, charset: str) -> bytes:
    """A plain-text message in ``charset`` (``utf-8``, ``gbk``, ...), as a mail client sends."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body, charset=charset)
    return message.as_bytes()


def envelope(raw: bytes, sender: str | None, recipient: str | None) -> tuple[str, list[str]]:
    """The envelope of ``raw``: the given sender and recipient, else its From and To."""
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    mail_from = sender or next((a for _, a in getaddresses([str(headers["From"] or "")])), "")
    rcpt = [recipient] if recipient else [a for _, a in getaddresses([str(headers["To"] or "")])]
    rcpt = [address for address in rcpt if address]
    if not rcpt:
        raise TryEmailError("no recipient: give --to, or a message with a To header")
    return mail_from, rcpt


async def send(raw: bytes, sender: str, recipients: list[str], host: str, port: int) -> str:
    """Deliver over SMTP; the listener's final answer, or TryEmailError."""
    try:
        errors, reply = await aiosmtplib.send(
            raw, sender=sender, recipients=recipients, hostname=host, port=port, timeout=30
        )
    except aiosmtplib.SMTPException as exc:
        raise TryEmailError(f"SMTP {host}:{port}: {exc}") from exc
    except OSError as exc:
        raise TryEmailError(f"SMTP {host}:{port} cannot be reached: {exc}") from exc
    if errors:
        refused = ", ".join(f"{addr} ({code} {text})" for addr, (code, text) in errors.items())
        return f"refused for {refused}; {reply}"
    return reply
