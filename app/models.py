"""Every table, imported in one place so Alembic and the mapper registry see them all."""

from app.agents.models import AgentSkill
from app.audit.models import AuditEntry
from app.auth.models import SignInThrottle
from app.canned.models import CannedReply
from app.care.models import CareRule, CareTouch
from app.cases.models import (
    Case,
    CaseContact,
    CaseEvent,
    CaseNote,
    CaseSettingsVersion,
    CaseSlaTimer,
)
from app.channels.models import (
    Attachment,
    ChatSession,
    EntryPoint,
    Message,
    OutboundEmail,
    WebhookReceipt,
)
from app.consent.models import ConsentHistory, ContactPreferences, CustomerConsent, TouchLog
from app.contacts.models import Contact, ContactEvent, ContactEventText
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.note_models import ContactNote
from app.customers.value.models import (
    CustomerValue,
    CustomerValueChange,
    ValueEvaluation,
    ValueRulesVersion,
)
from app.ivr.models import IvrFlow, IvrFlowVersion, IvrNumber, IvrRun
from app.orders.models import Order
from app.orm import Base
from app.outbound.models import OutboundAttempt, OutboundCall
from app.queues.models import Queue, QueueSkill
from app.ratelimit.models import RequestCounter
from app.routing.models import AgentPresence, RouterLease, RoutingConfigVersion, RoutingInbox
from app.skills.models import Skill
from app.surveys.models import CsatSurvey
from app.users.models import User

__all__ = [
    "AgentPresence",
    "AgentSkill",
    "Attachment",
    "AuditEntry",
    "Base",
    "CannedReply",
    "CareRule",
    "CareTouch",
    "Case",
    "CaseContact",
    "CaseEvent",
    "CaseNote",
    "CaseSettingsVersion",
    "CaseSlaTimer",
    "ChatSession",
    "ConsentHistory",
    "Contact",
    "ContactEvent",
    "ContactEventText",
    "ContactNote",
    "ContactPreferences",
    "CsatSurvey",
    "Customer",
    "CustomerConsent",
    "CustomerEmail",
    "CustomerPhone",
    "CustomerValue",
    "CustomerValueChange",
    "EntryPoint",
    "IvrFlow",
    "IvrFlowVersion",
    "IvrNumber",
    "IvrRun",
    "Message",
    "Order",
    "OutboundAttempt",
    "OutboundCall",
    "OutboundEmail",
    "Queue",
    "QueueSkill",
    "RequestCounter",
    "RouterLease",
    "RoutingConfigVersion",
    "RoutingInbox",
    "SignInThrottle",
    "Skill",
    "TouchLog",
    "User",
    "ValueEvaluation",
    "ValueRulesVersion",
    "WebhookReceipt",
]
