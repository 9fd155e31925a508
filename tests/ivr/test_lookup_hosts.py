"""IVR HTTP lookups reach the lookup base and listed hosts; never, unlisted, an address
inside the network (SSRF)."""

from __future__ import annotations

import httpx
import pytest

from app.ivr.engine import Fetch
from app.ivr.lookup import Lookups, all_global


def _lookups(base: str, *allowed: str) -> tuple[Lookups, list[str]]:
    reached: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        reached.append(str(request.url))
        return httpx.Response(200, json={"status": "shipped"})

    transport = httpx.MockTransport(answer)
    return Lookups(base, transport=transport, allowed_hosts=frozenset(allowed)), reached


def _fetch(url: str) -> Fetch:
    return Fetch(url=url, method="GET", timeout_seconds=1, retries=0)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/admin",
        "http://[::1]/",
        "http://localhost/",
        "http://0.0.0.0/",
    ],
)
async def test_addresses_inside_the_network_are_refused(url: str) -> None:
    lookups, reached = _lookups("https://crm.example.cn")
    result = await lookups.fetch(_fetch(url))
    assert (result.kind, result.value) == ("http_failed", "host_not_allowed")
    assert reached == []


async def test_the_base_and_listed_hosts_are_reached_even_when_private() -> None:
    lookups, reached = _lookups("http://127.0.0.1:8000", "10.0.0.5")
    assert (await lookups.fetch(_fetch("/api/v1/orders/7"))).kind == "http_result"
    assert (await lookups.fetch(_fetch("http://10.0.0.5/orders/7"))).kind == "http_result"
    assert reached == ["http://127.0.0.1:8000/api/v1/orders/7", "http://10.0.0.5/orders/7"]


async def test_with_a_list_no_other_host_is_reached() -> None:
    lookups, reached = _lookups("https://crm.example.cn", "orders.example.cn")
    result = await lookups.fetch(_fetch("https://example.com/"))
    assert (result.kind, result.value) == ("http_failed", "host_not_allowed")
    assert reached == []


def test_only_global_addresses_are_global() -> None:
    assert all_global(["8.8.8.8", "2001:4860:4860::8888"])
    for inside in ("192.168.1.1", "100.64.0.1", "fe80::1%eth0", "::ffff:127.0.0.1", "224.0.0.1"):
        assert not all_global(["8.8.8.8", inside]), inside
    assert not all_global([])
