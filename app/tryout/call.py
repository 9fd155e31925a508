"""``contactd try call``: a call held with the service as Twilio holds one — signed
webhooks, the caller's key presses, the hold loop — printing what the caller hears."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError, fromstring

import httpx

from app.channels.voice.twilio_signature import compute_signature
from app.demo.guide import written
from app.demo.mode import Credentials

TwiMLNext = Literal["gather", "redirect", "record", "hangup", "end"]
HOLD_PATH = "/webhooks/twilio/hold"
MAX_TURNS = 30  # a flow that never ends still ends the try


class TryCallError(RuntimeError):
    """The service answered something a provider could not go on with."""


@dataclass(frozen=True, slots=True)
class Turn:
    """One TwiML answer: what the caller hears, then what Twilio does next."""

    heard: tuple[str, ...]
    next: TwiMLNext
    url: str | None = None  # where the next request goes (gather, redirect, record)


def parse_turn(document: str) -> Turn:
    """Read a TwiML document the way Twilio executes it, verb by verb."""
    try:
        root = fromstring(document)  # noqa: S314 - from the service being tried
    except ParseError as exc:
        raise TryCallError(f"the answer is not TwiML: {document[:200]!r}") from exc
    heard: list[str] = []
    for verb in root:
        if verb.tag == "Gather":
            heard.extend(_heard(prompt) for prompt in verb)
            return Turn(tuple(heard), "gather", verb.attrib.get("action"))
        if verb.tag == "Redirect":
            return Turn(tuple(heard), "redirect", (verb.text or "").strip())
        if verb.tag == "Record":
            heard.append("(the caller may leave a message after the tone)")
            return Turn(tuple(heard), "record", verb.attrib.get("action"))
        if verb.tag == "Hangup":
            return Turn(tuple(heard), "hangup")
        heard.append(_heard(verb))
    return Turn(tuple(heard), "end")


def _heard(verb: Element) -> str:
    if verb.tag == "Say":
        return f"[{verb.attrib.get('language', '?')}] {(verb.text or '').strip()}"
    if verb.tag == "Play":
        return f"(music: {(verb.text or '').strip()})"
    if verb.tag == "Dial":
        return "(connected to an agent)"
    return f"({verb.tag})"


@dataclass(slots=True)
class Caller:
    """The provider's side of one call: signs every request as Twilio does."""

    base_url: str
    credentials: Credentials
    caller: str
    called: str
    http: httpx.AsyncClient
    call_sid: str = field(default_factory=lambda: f"CA{uuid.uuid4().hex}")

    def _params(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.call_sid,
            "AccountSid": self.credentials.twilio_account_sid,
            "From": self.caller,
            "To": self.called,
            **extra,
        }

    async def post(self, url: str, params: dict[str, str]) -> httpx.Response:
        signature = compute_signature(self.credentials.twilio_auth_token, url, params.items())
        return await self.http.post(url, data=params, headers={"X-Twilio-Signature": signature})

    async def turn(self, url: str, **extra: str) -> Turn:
        response = await self.post(url, self._params(**extra))
        if response.status_code != 200:
            raise TryCallError(f"{url} answered {response.status_code}: {response.text[:300]}")
        return parse_turn(response.text)

    async def hang_up(self) -> None:
        url = f"{self.base_url}/webhooks/twilio/status"
        response = await self.post(url, self._params(CallStatus="completed", CallDuration="1"))
        if response.status_code >= 300:
            raise TryCallError(f"{url} answered {response.status_code}: {response.text[:300]}")


async def hold_call(
    caller: Caller, digits: list[str], hold_turns: int, say: Callable[[str], None]
) -> None:
    """Call, press ``digits`` at each gather in turn (a timeout once they run out), follow
    redirects and ``hold_turns`` turns of the hold loop, then hang up."""
    say(f"calling {written(caller.called)} from {written(caller.caller)} at {caller.base_url}")
    turn = await caller.turn(
        f"{caller.base_url}/webhooks/twilio/voice", CallStatus="ringing", Direction="inbound"
    )
    presses, held = iter(digits), 0
    for _ in range(MAX_TURNS):
        for line in turn.heard:
            say(f"  hears {line}")
        if turn.next in ("hangup", "end") or turn.url is None:
            say("  the service ends the call")
            return
        if turn.next == "record":
            break
        if turn.next == "redirect" and urlsplit(turn.url).path == HOLD_PATH:
            if held == hold_turns:
                break
            held += 1
            say(f"  on hold (turn {held})")
        turn = await caller.turn(turn.url, **_answer(turn, presses, say))
    say("  the caller hangs up")
    await caller.hang_up()


def _answer(turn: Turn, presses: Iterator[str], say: Callable[[str], None]) -> dict[str, str]:
    if turn.next != "gather":
        return {"CallStatus": "in-progress"}
    pressed = next(presses, None)
    if pressed is None:
        say("  presses nothing (timeout)")
        return {"CallStatus": "in-progress"}
    say(f"  presses {pressed}")
    return {"CallStatus": "in-progress", "Digits": pressed}
