"""The pure parts of the privacy package: the export's framing and serializer, and the
erasure plan's statements."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

from asyncpg.pgproto import pgproto
from sqlalchemy.dialects import postgresql

from app.channels.models import Attachment, ChatSession
from app.contacts.models import ContactEventText
from app.privacy import document
from app.privacy.erasure import PLAN

AT = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


async def _items(*values: object) -> AsyncIterator[object]:
    for value in values:
        yield value


async def _written(*sections: bytes | AsyncIterator[bytes]) -> bytes:
    out = document.head(7, "ticket 1", AT)
    for section in sections:
        if isinstance(section, bytes):
            out += section
        else:
            async for chunk in section:
                out += chunk
    return out + document.END


async def test_the_framing_makes_one_json_document() -> None:
    raw = await _written(
        document.field("customer", {"name": "王小明", "spent": Decimal("12.50")}),
        document.array_field("orders", _items({"id": 1}, {"id": 2})),
        document.array_field("cases", _items()),
    )
    assert json.loads(raw) == {
        "format": document.FORMAT,
        "customer_id": 7,
        "generated_at": "2026-03-01T08:30:00+00:00",
        "reason": "ticket 1",
        "customer": {"name": "王小明", "spent": "12.50"},
        "orders": [{"id": 1}, {"id": 2}],
        "cases": [],
    }


def test_rows_withhold_binary_content_and_secrets() -> None:
    attachment = Attachment(id=3, filename="a.pdf", content_type="application/pdf", content=b"%PDF")
    row = document.row(attachment, href=document.attachment_href(3))
    assert "content" not in row
    assert (row["filename"], row["href"]) == ("a.pdf", "/api/v1/attachments/3")
    chat = ChatSession(contact_id=1, token_hash="f" * 64, visitor_name="Emma")
    assert "token_hash" not in document.row(chat)
    assert document.row(chat)["visitor_name"] == "Emma"


def test_a_chat_session_id_as_the_driver_reads_it_is_a_string() -> None:
    session_id = pgproto.UUID("8c2b6f0e-1d2c-4e5f-9a7b-0c1d2e3f4a5b")
    assert json.loads(document.encode({"id": session_id})) == {"id": str(session_id)}


def test_every_redaction_is_one_statement_scoped_to_the_customer() -> None:
    kinds = [r.kind for r in PLAN]
    assert len(kinds) == len(set(kinds))
    for redaction in PLAN:
        sql = str(redaction.statement(42, AT).compile(dialect=postgresql.dialect()))
        assert sql.startswith(("UPDATE", "DELETE")), redaction.kind
        assert "WHERE" in sql, redaction.kind


def test_now_stands_for_the_time_of_the_erasure() -> None:
    [texts] = [r for r in PLAN if r.kind == "event_texts"]
    compiled = texts.statement(42, AT).compile(dialect=postgresql.dialect())
    assert AT in compiled.params.values()
    assert texts.table is ContactEventText
