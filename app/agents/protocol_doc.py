"""The generated part of docs/agent-console.md: every frame's JSON schema and an example.

Regenerate with ``python -m app.agents.protocol_doc`` (a test fails when the doc drifts).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.agents import protocol as p

BEGIN = "<!-- BEGIN GENERATED PROTOCOL -->"
END = "<!-- END GENERATED PROTOCOL -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "agent-console.md"

_POP: dict[str, Any] = {
    "contact_id": 812,
    "channel": "voice",
    "customer_match": "exact_phone",
    "customer": {
        "id": 31,
        "name": "王小明",
        "phones": [{"e164": "+8613800138000", "extension": None, "label": "mobile"}],
        "emails": ["wang.xm@example.cn"],
        "language": "zh-CN",
        "tags": ["enterprise"],
        "attributes": {},
        "consent": {"call_recording": True, "marketing_email": False},
        "value": {
            "grade": "S",
            "status": "graded",
            "rfm": {"r": 4, "f": 4, "m": 2, "score": 24},
            "vip": {"active": False, "since": None, "until": None},
            "value_class": "normal",
            "segments": [],
            "evaluated_at": "2026-03-02T03:00:00+08:00",
            "reason": "5 orders in 12 months, ¥300 average, last 2 months ago",
            "last_order": {
                "source": "shop",
                "order_id": "TB20260104-0031",
                "placed_at": "2026-01-04T08:00:00Z",
                "status": "completed",
                "amount": "299.00",
                "currency": "CNY",
            },
            "lifetime_sales": 9,
            "lifetime_amount": "2716.00",
            "blocked_reason": None,
        },
        "created_at": "2026-01-04T08:00:00Z",
        "updated_at": "2026-03-01T10:00:00Z",
    },
    "suggestions": [],
    "from_address": "+8613800138000",
    "subject": None,
    "ivr_inputs": {"menu": "billing", "account": "7781"},
    "waited_seconds": 42.5,
    "cases": [
        {
            "id": 118,
            "type": "complaint",
            "state": "open",
            "priority": "high",
            "subject": "包裹破损",
            "owner_id": 7,
            "queue": "support",
            "created_at": "2026-03-02T09:00:00Z",
            "breached": False,
            "next_due_at": "2026-03-02T11:00:00Z",
            "next_due_target": "first_response",
        }
    ],
    "history": [
        {
            "contact_id": 640,
            "channel": "email",
            "direction": "inbound",
            "state": "ended",
            "open": True,
            "created_at": "2026-03-01T10:00:00Z",
            "ended_at": "2026-03-01T10:20:00Z",
            "agent_id": 7,
            "disposition": "complaint",
            "subject": "账单有误",
            "recording_url": None,
            "notes": [
                {
                    "id": 9,
                    "author_id": 7,
                    "body": "已提交退款",
                    "created_at": "2026-03-01T10:21:00Z",
                }
            ],
            "excerpt": [{"seq": 3, "author": "customer", "text": "这个月多扣了钱"}],
        }
    ],
    "enrichment": None,
    "consent_flags": {"do_not_contact": False, "refused": ["email/marketing"]},
}

EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    p.Hello: {"type": "hello", "token": "eyJhbGciOi...", "last_seq": 1763800000042},
    p.ClientPing: {"type": "ping"},
    p.ClientPong: {"type": "pong"},
    p.SetState: {"type": "set_state", "state": "not_ready", "reason": "lunch", "ref": "a1"},
    p.Accept: {"type": "accept", "contact_id": 812, "ref": "a2"},
    p.Reject: {"type": "reject", "contact_id": 812, "ref": "a3"},
    p.SendChat: {"type": "send_chat", "contact_id": 815, "text": "您好！", "client_id": "m-1"},
    p.ReplyEmail: {"type": "reply_email", "contact_id": 640, "body": "已为您退款。"},
    p.AddNote: {"type": "add_note", "contact_id": 812, "text": "客户要求回电"},
    p.EndContact: {"type": "end_contact", "contact_id": 812, "disposition": "resolved"},
    p.WrapUp: {
        "type": "wrap_up",
        "contact_id": 812,
        "disposition": "callback_promised",
        "note": "周五下午回电",
    },
    p.Transfer: {"type": "transfer", "contact_id": 812, "to_queue": "billing"},
    p.Consult: {"type": "consult", "contact_id": 812, "text": "客户要求经理"},
    p.Typing: {"type": "typing", "contact_id": 815, "is_typing": True},
    p.GetHistory: {"type": "get_history", "customer_id": 31, "via_contact": 812, "limit": 20},
    p.OpenCase: {
        "type": "open_case",
        "contact_id": 812,
        "case_type": "complaint",
        "subject": "包裹破损",
        "ref": "c1",
    },
    p.LinkCase: {"type": "link_case", "case_id": 118, "contact_id": 815, "ref": "c2"},
    p.SetCaseState: {"type": "set_case_state", "case_id": 118, "state": "pending_customer"},
    p.AddCaseNote: {"type": "add_case_note", "case_id": 118, "text": "已补发", "kind": "reply"},
    p.Welcome: {
        "type": "welcome",
        "seq": 1763800000042,
        "agent_id": 7,
        "resumed": True,
        "dispositions": ["resolved", "complaint"],
        "heartbeat_seconds": 20.0,
    },
    p.ServerPing: {"type": "ping", "seq": 1763800000042},
    p.ServerPong: {"type": "pong", "seq": 1763800000042, "ref": None},
    p.TakenOver: {"type": "taken_over", "seq": 1763800000042},
    p.Snapshot: {
        "type": "snapshot",
        "seq": 1763800000001,
        "resync": False,
        "contacts": [
            {"contact_id": 815, "channel": "chat", "state": "assigned", "offer_deadline": None}
        ],
        "agent_name": "李娜",
        "state": "on_contact",
        "reason": None,
        "state_since": "2026-03-02T08:15:00Z",
        "not_ready_reasons": ["break", "lunch", "training"],
    },
    p.Offer: {
        "type": "offer",
        "seq": 1763800000043,
        "contact_id": 812,
        "deadline": 1763800020.5,
        "pop": _POP,
        "pop_error": None,
        "trace": {
            "queue": "billing",
            "strategy": "longest_idle",
            "step": 0,
            "rule": "best agent for waiting contact",
            "requirements": [{"skill": "billing", "level": 2}],
            "priority_boosts": [{"tag": "vip", "points": 50}],
            "candidates": [
                {"agent_id": 7, "score": [3.0, 812.5], "skipped_because": None},
                {"agent_id": 9, "score": None, "skipped_because": "no capacity"},
            ],
        },
    },
    p.OfferWithdrawn: {
        "type": "offer_withdrawn",
        "seq": 1763800000044,
        "contact_id": 812,
        "reason": "offer timeout",
    },
    p.Assigned: {"type": "assigned", "seq": 1763800000045, "contact_id": 812},
    p.StateChanged: {
        "type": "state",
        "seq": 1763800000046,
        "state": "on_contact",
        "reason": None,
        "previous": "available",
    },
    p.ChatMessage: {
        "type": "chat_message",
        "seq": 1763800000047,
        "contact_id": 815,
        "message_seq": 4,
        "text": "我的订单还没到",
    },
    p.ChatEnded: {"type": "chat_ended", "seq": 1763800000048, "contact_id": 815, "by": "visitor"},
    p.VisitorTyping: {"type": "typing", "seq": 1763800000048, "contact_id": 815, "is_typing": True},
    p.ConsultAnswer: {
        "type": "consult_answer",
        "seq": 1763800000052,
        "contact_id": 812,
        "consult_id": 5120,
        "supervisor_id": 3,
        "supervisor_name": "陈主管",
        "text": "可以给他退运费，我来批准。",
    },
    p.CaseSla: {
        "type": "case_sla",
        "seq": 1763800000054,
        "level": "breach",
        "event_id": 7731,
        "case_id": 118,
        "customer_id": 31,
        "case_type": "complaint",
        "target": "first_response",
        "cycle": 0,
        "due_at": "2026-03-02T11:00:00+00:00",
        "queue": "support",
        "priority": "high",
        "escalated": {"queue": "support", "priority": "high"},
    },
    p.Result: {
        "type": "result",
        "seq": 1763800000049,
        "ref": "a2",
        "request": "accept",
        "status": "applied",
        "data": {"contact_id": 812},
    },
    p.HistoryPage: {
        "type": "history",
        "seq": 1763800000050,
        "ref": None,
        "customer_id": 31,
        "items": _POP["history"],
        "next_cursor": None,
    },
    p.Error: {
        "type": "error",
        "seq": 1763800000051,
        "ref": "a3",
        "code": "no_such_offer",
        "message": "Contact 812 is not offered to you.",
        "details": {"state": "assigned"},
    },
}

# More examples of frames that come in several shapes, shown after the first.
MORE_EXAMPLES: dict[type[BaseModel], list[dict[str, Any]]] = {
    p.ChatMessage: [
        {
            "type": "chat_message",
            "seq": 1763800000053,
            "contact_id": 640,
            "message_seq": 3,
            "text": "退款什么时候到账？",
            "channel": "email",
            "message_id": 9021,
            "subject": "Re: 账单有误 [#640]",
            "from_address": "wang.xm@example.cn",
            "from_name": "王小明",
            "truncated": False,
            "attachments": 1,
            "automatic": None,
            "reopened": False,
        }
    ],
}


def _section(model: type[BaseModel]) -> str:
    name = EXAMPLES[model]["type"]
    doc = (model.__doc__ or "").strip()
    if model.__doc__ == p.ClientFrame.__doc__ or model.__doc__ == p.ServerFrame.__doc__:
        doc = ""
    schema = json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False, sort_keys=True)
    example = json.dumps(EXAMPLES[model], indent=2, ensure_ascii=False)
    parts = [f"### `{name}` ({model.__name__})", ""]
    if doc:
        parts += [doc, ""]
    parts += ["Example:", "", "```json", example, "```", ""]
    for more in MORE_EXAMPLES.get(model, []):
        text = json.dumps(more, indent=2, ensure_ascii=False)
        parts += ["Another example:", "", "```json", text, "```", ""]
    parts += ["<details><summary>JSON schema</summary>", "", "```json", schema, "```", ""]
    parts += ["</details>", ""]
    return "\n".join(parts)


def render() -> str:
    out = [BEGIN, "", "## Client → server frames", ""]
    out += [_section(m) for m in p.CLIENT_FRAMES]
    out += ["## Server → client frames", ""]
    out += [_section(m) for m in p.SERVER_FRAMES]
    out.append(END)
    return "\n".join(out)


def splice(document: str) -> str:
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + render() + document[end:]


if __name__ == "__main__":
    DOC.write_text(splice(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
