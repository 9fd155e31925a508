"""``contactd import orders`` run as an operator would, on a real PostgreSQL: matching by
id, phone and email, unknown customers created, bad rows reported and written beside the
file, encodings, exit codes, re-runs that import nothing twice and an interrupted run
resumed."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.customers.models import Customer
from app.orders.importer import import_orders
from app.orders.models import Order

HEADER = (
    "order_id,customer_id,customer_phone,customer_email,customer_name,placed_at,status,"
    "items,amount,currency"
)
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def invoke(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["import", "orders", *args],
        env={"CONTACTD_DATABASE_URL": database_url, "CONTACTD_LOG_LEVEL": "WARNING"},
    )
    return result.exit_code, result.output


async def run(database_url: str, *args: str) -> tuple[int, str]:
    return await asyncio.to_thread(invoke, database_url, *args)


def write(tmp_path: Path, lines: list[str], name: str = "orders.csv", **kw: Any) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", **kw)
    return path


async def new_customer(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, **extra: Any
) -> int:
    response = await client.post("/api/v1/customers", json={"name": name, **extra}, headers=admin)
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id


async def orders_of(client: httpx.AsyncClient, admin: dict[str, str], cid: int) -> list[str]:
    page = await client.get(f"/api/v1/customers/{cid}/orders", headers=admin)
    assert page.status_code == 200, page.text
    return sorted(o["order_id"] for o in page.json()["items"])


async def count(app: FastAPI, model: Any) -> int:
    async with app.state.db.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_rows_match_by_id_phone_and_email_and_unknown_customers_are_created(
    clean_db: str, client: httpx.AsyncClient, admin: dict[str, str], tmp_path: Path
) -> None:
    by_id = await new_customer(client, admin, "王小明")
    by_phone = await new_customer(client, admin, "李娜", phones=["+86 139 0013 9000"])
    by_email = await new_customer(client, admin, "Emma", emails=["emma@example.com"])
    path = write(
        tmp_path,
        [
            f"A1,{by_id},,,,{YESTERDAY},completed,2,580.00,CNY",
            "A2,,0086 139-0013-9000,,,2026-03-01,paid,1,99.5,",
            "A3,,,EMMA@Example.com,,2026-03-02 10:30:00,completed,1,1200,cny",
            "A4,,13700137000,,张伟,2026-03-03,completed,3,300,CNY",
            "A5,,+86 137 0013 7000,zhang.wei@example.cn,张伟,2026-03-04,refunded,1,300,CNY",
            "A6,,,zhang.wei@example.cn,,2026-03-05,completed,1,50,CNY",
            "A7,,,new@example.org,,2026-03-06,cancelled,0,0,CNY",
        ],
    )
    code, output = await run(clean_db, str(path), "--source", "tmall")
    assert code == 0, output
    assert "7 rows" in output
    assert "7 imported, 0 updated, 0 unchanged, 0 rejected; 2 customers created" in output
    assert await orders_of(client, admin, by_id) == ["A1"]
    assert await orders_of(client, admin, by_phone) == ["A2"]
    assert await orders_of(client, admin, by_email) == ["A3"]
    found = await client.get("/api/v1/customers", params={"phone": "13700137000"}, headers=admin)
    [zhang] = found.json()["items"]
    assert zhang["name"] == "张伟"
    assert await orders_of(client, admin, zhang["id"]) == ["A4", "A5", "A6"]
    assert zhang["value"]["lifetime_sales"] == 2  # rescored: A5 is refunded
    found = await client.get(
        "/api/v1/customers", params={"email": "new@example.org"}, headers=admin
    )
    [newcomer] = found.json()["items"]
    assert newcomer["name"] == "new@example.org"
    assert newcomer["value"]["status"] == "no_sale"
    page = await client.get(f"/api/v1/customers/{by_phone}/orders", headers=admin)
    [a2] = page.json()["items"]
    assert (a2["source"], a2["amount"], a2["items"]) == ("tmall", "99.50", 1)
    assert datetime.fromisoformat(a2["placed_at"]) == datetime(2026, 2, 28, 16, tzinfo=UTC)


async def test_bad_rows_are_reported_beside_the_file_and_the_good_ones_kept(
    clean_db: str, client: httpx.AsyncClient, admin: dict[str, str], tmp_path: Path
) -> None:
    cid = await new_customer(client, admin, "刘洋", phones=["+8613800138000"])
    other = await new_customer(client, admin, "陈静")
    taken = await client.post(
        f"/api/v1/customers/{other}/orders",
        json={"order_id": "B9", "placed_at": YESTERDAY, "status": "paid", "amount": "1"},
        headers=admin,
    )
    assert taken.status_code == 201, taken.text
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    path = write(
        tmp_path,
        [
            f"B1,{cid},,,,{YESTERDAY},completed,1,100,CNY",
            f"B2,{cid},,,,{YESTERDAY},completed,1,-5,CNY",
            f"B3,{cid},,,,{YESTERDAY},shipped,1,100,CNY",
            f"B4,{cid},,,,{future},paid,1,100,CNY",
            f"B5,{cid},,,,{YESTERDAY},paid,1,100,USD",
            f"B6,,,,王五,{YESTERDAY},paid,1,100,CNY",
            f"B7,,12345,,,{YESTERDAY},paid,1,100,CNY",
            f"B8,,,not-an-email,,{YESTERDAY},paid,1,100,CNY",
            f"B9,,+8613800138000,,,{YESTERDAY},paid,1,1,CNY",
            f"B10,999999,,,,{YESTERDAY},paid,1,100,CNY",
            "B11,1,2",
            f"B12,,138 0013 8000,,,{YESTERDAY},paid,1,100,CNY",
        ],
        name="export.csv",
    )
    code, output = await run(clean_db, str(path))
    assert code == 1, output
    assert "2 imported, 0 updated, 0 unchanged, 10 rejected" in output
    with (tmp_path / "export.rejects.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["line", "column", "reason", *HEADER.split(",")]
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("3", "amount"),
        ("4", "status"),
        ("5", "placed_at"),
        ("6", "currency"),
        ("7", "customer_id"),
        ("8", "customer_phone"),
        ("9", "customer_email"),
        ("10", "order_id"),
        ("11", "customer_id"),
        ("12", "-"),
    ]
    reasons = {r[0]: r[2] for r in rows[1:]}
    assert reasons["3"] == "amount must not be negative"
    assert reasons["5"] == "placed_at is in the future"
    assert reasons["6"] == "no rate configured for currency 'USD'"
    assert reasons["10"] == "this order belongs to another customer"
    assert reasons["11"] == "no such customer"
    assert rows[2][3:] == f"B3,{cid},,,,{YESTERDAY},shipped,1,100,CNY".split(",")
    assert await orders_of(client, admin, cid) == ["B1", "B12"]
    assert await orders_of(client, admin, other) == ["B9"]

    fixed = write(tmp_path, [f"B1,{cid},,,,{YESTERDAY},completed,1,100,CNY"], name="export.csv")
    code, output = await run(clean_db, str(fixed))
    assert code == 0, output
    assert not (tmp_path / "export.rejects.csv").exists()  # no stale rejects left behind


async def test_a_rerun_imports_nothing_twice_and_a_changed_status_updates_and_rescores(
    clean_db: str, client: httpx.AsyncClient, admin: dict[str, str], tmp_path: Path
) -> None:
    lines = [f"C{n},,13800138000,,赵敏,2026-0{1 + n}-10,completed,1,300,CNY" for n in range(5)]
    path = write(tmp_path, lines)
    assert (await run(clean_db, str(path)))[0] == 0
    code, output = await run(clean_db, str(path))
    assert code == 0, output
    assert "0 imported, 0 updated, 5 unchanged, 0 rejected; 0 customers created" in output
    assert ", 0 rescored" in output
    [zhao] = (await client.get("/api/v1/customers", headers=admin)).json()["items"]
    assert zhao["value"]["lifetime_sales"] == 5

    lines[0] = lines[0].replace("completed", "refunded")
    code, output = await run(clean_db, str(write(tmp_path, lines)))
    assert code == 0, output
    assert "0 imported, 1 updated, 4 unchanged" in output
    assert ", 1 rescored" in output
    customer = await client.get(f"/api/v1/customers/{zhao['id']}", headers=admin)
    assert customer.json()["value"]["lifetime_sales"] == 4


async def test_gb18030_and_a_bom_are_read_and_a_wrong_encoding_stores_nothing(
    clean_db: str, client: httpx.AsyncClient, admin: dict[str, str], tmp_path: Path, app: FastAPI
) -> None:
    gbk = write(tmp_path, ["G1,,13900139000,,欧阳娜娜,2026-05-01,paid,1,88,CNY"], "gbk.csv",
                encoding="gbk")  # fmt: skip
    code, output = await run(clean_db, str(gbk))
    assert code == 2, output
    assert "not utf-8 text" in output
    assert "--encoding gb18030" in output
    assert await count(app, Order) == 0
    code, output = await run(clean_db, str(gbk), "--encoding", "gb18030")
    assert code == 0, output
    bom = write(tmp_path, ["G2,,13900139000,,欧阳娜娜,2026-05-02,paid,1,88,CNY"], "bom.csv",
                encoding="utf-8-sig")  # fmt: skip
    code, output = await run(clean_db, str(bom))
    assert code == 0, output
    found = await client.get("/api/v1/customers", params={"phone": "13900139000"}, headers=admin)
    [customer] = found.json()["items"]
    assert customer["name"] == "欧阳娜娜"
    assert await orders_of(client, admin, customer["id"]) == ["G1", "G2"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"order_id,customer_id,amount\nX1,1,5\n", "lacks the column(s): customer_phone"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not utf-8 text"),
        (b"", "lacks the column(s)"),
        (HEADER.encode() + b'\nQ1,1,,,,2026-01-01,paid,1,"1,CNY\n' + b"x" * (1 << 21), "not CSV"),
    ],
)
async def test_a_file_that_cannot_be_imported_exits_2_and_stores_nothing(
    clean_db: str, tmp_path: Path, app: FastAPI, content: bytes, message: str
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    code, output = await run(clean_db, str(path))
    assert code == 2, output
    assert message in output
    assert "nothing was imported" in output
    assert await count(app, Order) == 0
    code, output = await run(clean_db, str(tmp_path / "missing.csv"))
    assert code == 2, output


async def test_a_dry_run_counts_everything_and_stores_nothing(
    clean_db: str, tmp_path: Path, app: FastAPI
) -> None:
    path = write(tmp_path, [f"D{n},,1380013800{n},,,2026-01-01,paid,1,10,CNY" for n in range(3)])
    code, output = await run(clean_db, str(path), "--dry-run")
    assert code == 0, output
    assert "dry run, nothing stored: 3 rows" in output
    assert "3 imported" in output
    assert (await count(app, Order), await count(app, Customer)) == (0, 0)


class Crash(Exception):
    pass


async def test_a_run_interrupted_between_chunks_resumes_where_it_stopped(
    clean_db: str, tmp_path: Path, app: FastAPI
) -> None:
    path = write(tmp_path, [f"R{n},,1380013800{n % 3},,,2026-01-0{1 + n},paid,1,10,CNY"
                            for n in range(7)])  # fmt: skip

    def crash_after_first_chunk(done: int) -> None:
        raise Crash(done)

    with pytest.raises(Crash):
        await import_orders(
            app.state.db,
            path,
            source="shop",
            now=datetime.now(UTC),
            zone=app.state.settings.zone,
            region="CN",
            chunk_size=3,
            progress=crash_after_first_chunk,
        )
    assert await count(app, Order) == 3  # the first chunk is committed, whole
    code, output = await run(clean_db, str(path))
    assert code == 0, output
    assert "4 imported, 0 updated, 3 unchanged" in output
    assert (await count(app, Order), await count(app, Customer)) == (7, 3)


async def test_the_touched_customers_are_rescored_in_one_pass_and_then_are_current(
    clean_db: str, client: httpx.AsyncClient, admin: dict[str, str], tmp_path: Path
) -> None:
    lines = [f"V{n},,1380013800{n},,,2026-01-0{1 + n},paid,1,{n + 1}00,CNY" for n in range(4)]
    code, output = await run(clean_db, str(write(tmp_path, lines)))
    assert code == 0, output
    assert "4 rescored" in output
    found = (await client.get("/api/v1/customers", headers=admin)).json()["items"]
    assert sorted(c["value"]["lifetime_sales"] for c in found) == [1, 1, 1, 1]
    assert {c["value"]["value_class"] for c in found} == {"normal"}  # ranked by the next full
    # a cancelled order changes none of the figures: rescored once all the same, then current
    lines.append("V9,,13800138000,,,2026-01-09,cancelled,1,100,CNY")
    code, output = await run(clean_db, str(write(tmp_path, lines)))
    assert "1 imported, 0 updated, 4 unchanged" in output
    assert ", 1 rescored" in output
    code, output = await run(clean_db, str(write(tmp_path, lines)))
    assert ", 0 rescored" in output


async def test_shared_phones_and_emails_and_blocked_customers_refuse_their_rows(
    clean_db: str, client: httpx.AsyncClient, admin: dict[str, str], tmp_path: Path
) -> None:
    shared = {"phones": ["+8613800138001"], "emails": ["same@example.cn"]}
    await new_customer(client, admin, "孙甲", **shared)
    await new_customer(client, admin, "孙乙", **shared)
    blocked = await new_customer(client, admin, "周丙", phones=["+8613800138002"])
    stored = await client.post(
        f"/api/v1/customers/{blocked}/orders",
        json={"order_id": "S4", "placed_at": YESTERDAY, "status": "paid", "amount": "10"},
        headers=admin,
    )
    assert stored.status_code == 201, stored.text
    block = await client.put(
        f"/api/v1/customers/{blocked}/block", json={"reason": "abuse"}, headers=admin
    )
    assert block.status_code == 200, block.text
    path = write(
        tmp_path,
        [
            f"S1,,13800138001,,,{YESTERDAY},paid,1,10,CNY",
            f"S2,,,Same@Example.cn,,{YESTERDAY},paid,1,10,CNY",
            f"S3,,13800138002,,,{YESTERDAY},paid,1,10,CNY",
            f"S4,,13800138002,,,{YESTERDAY},refunded,1,10,CNY",
        ],
    )
    code, output = await run(clean_db, str(path))
    assert code == 1, output
    assert "0 imported, 1 updated, 0 unchanged, 3 rejected; 0 customers created" in output
    with (tmp_path / "orders.rejects.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert [tuple(r[:3]) for r in rows[1:]] == [
        ("2", "customer_phone", "several customers have this phone"),
        ("3", "customer_email", "several customers have this email"),
        ("4", "customer_id", "the customer is blocked and cannot place new orders"),
    ]
    page = await client.get(f"/api/v1/customers/{blocked}/orders", headers=admin)
    assert [(o["order_id"], o["status"]) for o in page.json()["items"]] == [("S4", "refunded")]
