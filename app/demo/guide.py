"""What ``contactd serve --demo`` (``make run``) prints: where it serves, the logins, the
demo's numbers, mailboxes and widgets, and the ``contactd try`` command of each channel.
Pure: the caller reads the database and the settings."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

import phonenumbers

from app.demo.loader import DemoLogin
from app.demo.mode import Credentials
from app.entry_points.schemas import EntryPointOut
from app.users.models import Role

TRY_CALLER = "+8613800138000"
TRY_EMAIL_FROM = "wang.xm@example.cn"


def written(e164: str) -> str:
    """A number as people read it: ``+86 400 820 6611``."""
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def guide(
    *,
    url: str,
    logins: Sequence[DemoLogin],
    entry_points: Sequence[EntryPointOut],
    ivr_numbers: Iterable[str],
    credentials: Credentials,
    smtp_host: str,
    command: str = ".venv/bin/contactd",
) -> str:
    """The text, one block per thing to try; empty blocks are left out."""
    ivr = set(ivr_numbers)
    by_channel = {
        channel: [p for p in entry_points if p.channel == channel]
        for channel in ("voice", "email", "chat")
    }
    blocks = [
        f"contactd serves {url} (API docs: {url}/docs)",
        _block(
            "pages:",
            [
                (f"{url}/console", "agent desktop"),
                (f"{url}/wallboard", "supervisor wallboard"),
                (f"{url}/admin", "admin pages"),
                (f"{url}/demo/shop", "demo shop with the chat widget"),
            ],
        ),
        _logins(logins),
        _numbers(by_channel["voice"], ivr, credentials),
        _block(
            f"mailboxes (SMTP on {smtp_host}:{credentials.smtp_port}):",
            [(p.address, p.queue) for p in by_channel["email"]],
        ),
        _block(
            "chat widgets (POST /api/v1/chat/sessions, then /ws/chat):",
            [(p.address, p.queue) for p in by_channel["chat"]],
        ),
        _tries(by_channel, ivr, command),
    ]
    return "\n".join(block for block in blocks if block)


def _block(title: str, rows: Sequence[tuple[str, str]]) -> str:
    if not rows:
        return ""
    width = max(len(left) for left, _ in rows)
    return "\n".join([title, *(f"  {left:<{width}}  {right}" for left, right in rows)])


def _logins(logins: Sequence[DemoLogin]) -> str:
    staff = [(f"{x.username} / {x.password}", x.role.value) for x in logins if x.role != Role.AGENT]
    block = _block("sign in (POST /api/v1/auth/token, or the /docs page):", staff)
    agents = [x for x in logins if x.role == Role.AGENT]
    if not agents:
        return block
    names = textwrap.wrap(", ".join(x.username for x in agents), 88)
    lines = [f"  agents, password {agents[0].password}:", *(f"    {line}" for line in names)]
    return "\n".join([block, *lines])


def _numbers(points: Sequence[EntryPointOut], ivr: set[str], credentials: Credentials) -> str:
    rows = [
        (written(p.address), "IVR menu (1 English / 2 中文)" if p.address in ivr else p.queue)
        for p in sorted(points, key=lambda p: p.address not in ivr)
    ]
    title = (
        "phone numbers (Twilio webhooks signed with "
        f"CONTACTD_TWILIO_AUTH_TOKEN={credentials.twilio_auth_token}; "
        f"CTI events with CONTACTD_CTI_SECRET={credentials.cti_secret}):"
    )
    return _block(title, rows)


def _tries(by_channel: dict[str, list[EntryPointOut]], ivr: set[str], command: str) -> str:
    lines = ["try each channel from another terminal:"]
    if by_channel["voice"]:
        voice = sorted(by_channel["voice"], key=lambda p: p.address not in ivr)[0]
        digits = " --digits 2,2" if voice.address in ivr else ""
        lines.append(
            f'  {command} try call --from {TRY_CALLER} --to "{written(voice.address)}"{digits}'
        )
    if by_channel["email"]:
        to = by_channel["email"][0].address
        lines.append(
            f"  {command} try email --from {TRY_EMAIL_FROM} --to {to} "
            '--subject "订单还没到" --body "我上周下的单还没到。"'
        )
    if by_channel["chat"]:
        lines.append(f"  {command} try chat --widget {by_channel['chat'][0].address}")
    return "\n".join(lines) if len(lines) > 1 else ""
