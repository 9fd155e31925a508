"""The provider client: retries with backoff, what is not retried, and the breaker."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest

from app.channels.voice.cti_signature import verify
from app.channels.voice.provider import CtiCommands, TwilioCalls
from app.resilience.breaker import BreakerState, CircuitBreaker
from app.resilience.client import DeliveryFailed, ResilientClient, RetryPolicy

Handler = Callable[[httpx.Request], httpx.Response]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scripted(outcomes: list[int | Exception], seen: list[httpx.Request]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        outcome = outcomes.pop(0) if outcomes else 200
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome, json={})

    return handle


def make_client(
    outcomes: list[int | Exception],
    seen: list[httpx.Request],
    sleeps: list[float],
    clock: Clock,
    breaker: CircuitBreaker | None = None,
) -> ResilientClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(scripted(outcomes, seen)))
    return ResilientClient(
        http,
        name="twilio",
        policy=RetryPolicy(attempts=3, backoff_seconds=0.5, backoff_factor=2),
        breaker=breaker or CircuitBreaker(failure_threshold=5, cool_down_seconds=30),
        clock=clock,
        sleep=sleep,
    )


async def test_retries_server_errors_with_backoff_until_success() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    client = make_client([503, httpx.ConnectError("refused"), 200], seen, sleeps, Clock())
    delivery = await client.post("http://provider/x", content=b"a=1", headers={})
    assert (delivery.status_code, delivery.attempts) == (200, 3)
    assert len(seen) == 3
    assert sleeps == [0.5, 1.0]
    assert client.breaker.consecutive_failures == 0


async def test_gives_up_after_the_last_attempt() -> None:
    seen: list[httpx.Request] = []
    client = make_client([500, 502, 504, 200], seen, [], Clock())
    with pytest.raises(DeliveryFailed) as failed:
        await client.post("http://provider/x", content=b"", headers={})
    assert failed.value.attempts == 3
    assert failed.value.reason == "twilio: HTTP 504"
    assert len(seen) == 3


@pytest.mark.parametrize("status", [400, 401, 404])
async def test_a_definite_answer_is_not_retried(status: int) -> None:
    seen: list[httpx.Request] = []
    client = make_client([status], seen, [], Clock())
    with pytest.raises(DeliveryFailed) as failed:
        await client.post("http://provider/x", content=b"", headers={})
    assert failed.value.attempts == 1
    assert len(seen) == 1
    assert client.breaker.consecutive_failures == 0


async def test_429_is_retried() -> None:
    seen: list[httpx.Request] = []
    client = make_client([429, 200], seen, [], Clock())
    assert (await client.post("http://provider/x", content=b"", headers={})).attempts == 2


@pytest.mark.parametrize(
    "outcome", [503, 500, httpx.ReadTimeout("no answer"), httpx.RemoteProtocolError("cut")]
)
async def test_a_creating_request_that_may_have_been_done_is_not_repeated(
    outcome: int | Exception,
) -> None:
    seen: list[httpx.Request] = []
    client = make_client([outcome, 200], seen, [], Clock())
    with pytest.raises(DeliveryFailed) as failed:
        await client.request("POST", "http://provider/Calls.json", creates=True)
    assert failed.value.attempts == 1
    assert "not repeated" in failed.value.reason
    assert len(seen) == 1
    assert client.breaker.consecutive_failures == 1


@pytest.mark.parametrize("outcome", [429, httpx.ConnectError("refused"), httpx.ConnectTimeout("")])
async def test_a_creating_request_that_never_got_there_is_repeated(
    outcome: int | Exception,
) -> None:
    seen: list[httpx.Request] = []
    client = make_client([outcome, 200], seen, [], Clock())
    response, attempts = await client.request("POST", "http://provider/Calls.json", creates=True)
    assert (response.status_code, attempts, len(seen)) == (200, 2, 2)


async def test_open_breaker_refuses_without_calling_then_probes_after_cool_down() -> None:
    seen: list[httpx.Request] = []
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cool_down_seconds=30)
    client = make_client([500, 500, 500], seen, [], clock, breaker)
    with pytest.raises(DeliveryFailed):
        await client.post("http://provider/x", content=b"", headers={})
    assert breaker.state(clock.now) is BreakerState.OPEN

    with pytest.raises(DeliveryFailed) as refused:
        await client.post("http://provider/x", content=b"", headers={})
    assert refused.value.reason == "twilio: circuit open"
    assert refused.value.attempts == 0
    assert len(seen) == 3  # nothing more went out

    clock.now += 30
    delivery = await client.post("http://provider/x", content=b"", headers={})
    assert delivery.attempts == 1
    assert breaker.state(clock.now) is BreakerState.CLOSED


async def test_twilio_update_sends_twiml_with_basic_auth() -> None:
    seen: list[httpx.Request] = []
    client = make_client([], seen, [], Clock())
    calls = TwilioCalls(client, "http://provider/", "tok", "ACparent")
    await calls.update_twiml("ACsub", "CA1", "<Response><Hangup /></Response>")
    request = seen[0]
    assert str(request.url) == "http://provider/2010-04-01/Accounts/ACsub/Calls/CA1.json"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"ACparent:tok").decode()
    assert dict(parse_qsl(request.content.decode())) == {"Twiml": "<Response><Hangup /></Response>"}


async def test_twilio_without_token_fails_without_calling() -> None:
    seen: list[httpx.Request] = []
    calls = TwilioCalls(make_client([], seen, [], Clock()), "http://provider", None)
    with pytest.raises(DeliveryFailed, match="AUTH_TOKEN"):
        await calls.update_twiml("AC1", "CA1", "<Response />")
    assert seen == []


async def test_cti_commands_are_signed_json() -> None:
    seen: list[httpx.Request] = []
    commands = CtiCommands(
        make_client([], seen, [], Clock()), "http://pbx/commands", "s3cret", clock=lambda: 1234
    )
    await commands.send({"type": "bridge", "call_id": "c1"})
    request = seen[0]
    assert json.loads(request.content) == {"type": "bridge", "call_id": "c1"}
    assert verify("s3cret", request.headers["x-cti-signature"], request.content, now=1234) == 1234


async def test_cti_without_command_url_fails_clearly() -> None:
    commands = CtiCommands(make_client([], [], [], Clock()), None, "s3cret")
    with pytest.raises(DeliveryFailed, match="CTI_COMMAND_URL"):
        await commands.send({"type": "bridge"})
