"""Customers: Chinese and international names, phones in every format people type."""

from __future__ import annotations

import httpx
import pytest

from app.customers.identity import InvalidPhone, normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164", "extension"),
    [
        ("138 0013 8000", "+8613800138000", None),
        ("+86 138-0013-8000", "+8613800138000", None),
        ("0086 13800138000", "+8613800138000", None),
        ("(010) 6552 9988", "+861065529988", None),
        ("021-6123-4567 ext. 89", "+862161234567", "89"),
        ("+1 (415) 867-5309", "+14158675309", None),
        ("+44 20 7946 0958", "+442079460958", None),
    ],
)
def test_phone_normalization(raw: str, e164: str, extension: str | None) -> None:
    phone = normalize_phone(raw, "CN")
    assert (phone.e164, phone.extension) == (e164, extension)


@pytest.mark.parametrize("raw", ["", "12345", "not a number", "+86 999", "1" * 80])
def test_phone_rejections(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(raw, "CN")


def test_email_normalization() -> None:
    assert normalize_email("  Wang.XiaoMing@Example.CN ") == "wang.xiaoming@example.cn"


async def test_create_and_find_customer_by_any_phone_format(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await client.post(
        "/api/v1/customers",
        json={
            "name": "王小明",
            "phones": ["138 0013 8000", "+86 (10) 6552-9988"],
            "emails": ["Wang.XM@Example.cn"],
            "language": "zh-CN",
            "consent": {"call_recording": True},
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["name"] == "王小明"
    assert [p["e164"] for p in customer["phones"]] == ["+8613800138000", "+861065529988"]
    assert customer["emails"] == ["wang.xm@example.cn"]
    assert customer["consent"]["call_recording"] is True
    assert customer["consent"]["marketing_email"] is None
    assert customer["value"]["status"] == "prospect"  # no order yet
    assert customer["value"]["grade"] is None
    assert customer["value"]["vip"] == {"active": False, "since": None, "until": None}

    by_phone = await client.get(
        "/api/v1/customers", params={"phone": "0086-138-0013-8000"}, headers=admin
    )
    assert [c["id"] for c in by_phone.json()["items"]] == [customer["id"]]
    by_email = await client.get(
        "/api/v1/customers", params={"email": "WANG.xm@example.CN"}, headers=admin
    )
    assert [c["id"] for c in by_email.json()["items"]] == [customer["id"]]
    by_name = await client.get("/api/v1/customers", params={"name": "小明"}, headers=admin)
    assert [c["name"] for c in by_name.json()["items"]] == ["王小明"]
    vip = await client.get("/api/v1/customers", params={"vip": "true"}, headers=admin)
    assert vip.json()["items"] == []
    normal = await client.get("/api/v1/customers", params={"value_class": "normal"}, headers=admin)
    assert [c["id"] for c in normal.json()["items"]] == [customer["id"]]


async def test_invalid_phone_is_422_and_nothing_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/customers", json={"name": "Emma Wilson", "phones": ["+1 555"]}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"invalid_phones": ["+1 555"]}
    assert (await client.get("/api/v1/customers", headers=admin)).json()["items"] == []


async def test_update_customer_replaces_contact_points(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = (
        await client.post(
            "/api/v1/customers",
            json={"name": "Carlos Mendes", "phones": ["+34 612 345 678"]},
            headers=admin,
        )
    ).json()
    updated = await client.patch(
        f"/api/v1/customers/{created['id']}",
        json={"phones": ["+49 30 901820"], "consent": {"marketing_email": False}},
        headers=admin,
    )
    assert updated.status_code == 200, updated.text
    assert [p["e164"] for p in updated.json()["phones"]] == ["+4930901820"]
    assert updated.json()["consent"]["marketing_email"] is False


async def test_agents_cannot_search_customers(
    client: httpx.AsyncClient, agent: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/customers", headers=agent)).status_code == 403
