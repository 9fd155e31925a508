"""The demo contact center: skills, queues, staff, customers and a month of history.

``load_demo`` only adds rows and flushes; the caller's unit of work commits. Everything
random is drawn from ``random.Random(seed)`` and every time is placed relative to ``now``,
so one seed and one ``now`` always give the same demo. The month's contacts and the agents'
states are what the routing engine made of the drawn contacts and shifts
(``app.demo.history``), so reports, Erlang figures and ``simulate --replay`` agree.
"""

from __future__ import annotations

import asyncio
import random
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import Table, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agents.models import AgentSkill
from app.auth.security import hash_password
from app.channels.entry_points import add_entry_point
from app.consent.service import import_profile_flags
from app.contacts.models import Contact, ContactEvent
from app.customers.history import check_disposition
from app.customers.identity import InvalidPhone, Phone, normalize_email, normalize_phone
from app.customers.models import Customer, CustomerEmail, CustomerPhone
from app.customers.value.models import CustomerValue
from app.demo import names
from app.demo.canned import add_demo_canned_replies
from app.demo.care import add_demo_care
from app.demo.cases import add_demo_cases
from app.demo.history import ContactDraft, HistoryRun, agent_shifts, run_history
from app.demo.names import NumberPlan
from app.demo.orders import DemoBuyer, add_demo_orders
from app.ivr.demo import install_demo_flow
from app.orm import Base
from app.queues.models import Queue, QueueSkill
from app.routing.config_schemas import RoutingDocument, to_core
from app.routing.config_service import publish
from app.routing.core.model import AgentState, RoutingConfig, SkillRequirement
from app.routing.simulator import ContactOutcome, SimulatedAgent
from app.skills.models import Skill
from app.users.models import DEFAULT_CAPACITY, Role, User

CENTER_TZ = timezone(timedelta(hours=8), "UTC+08:00")  # the floor works Beijing time
HISTORY_DAYS = 30
SETUP_AGE = timedelta(days=420)  # when the center was "set up", before any customer
MAX_CONTACT_LENGTH = timedelta(minutes=25)  # IVR + longest wait, talk and wrap-up
CUSTOMER_COUNT = 200
UNKNOWN_SHARE = 0.05
LANGUAGE_LEVEL = 3  # the least proficiency a contact needs in the customer's language

# --- The center's configuration ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    display_name: str
    channels: tuple[str, ...]
    skills: tuple[tuple[str, int], ...]
    sl_percent: int
    sl_seconds: int
    priority: int
    strategy: str
    phone: str  # the hotline callers dial
    email: str  # the address customers write to
    share: int  # share of the non-VIP traffic on its channels


@dataclass(frozen=True, slots=True)
class AgentSpec:
    username: str
    display_name: str
    team: str
    skills: dict[str, int]
    chat: int
    email: int

    @property
    def capacity(self) -> dict[str, int]:
        return {"voice": 1, "chat": self.chat, "email": self.email}


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    role: Role
    password: str


@dataclass(frozen=True, slots=True)
class DemoSummary:
    skills: int
    queues: int
    agents: int
    customers: int
    orders: int
    contacts: int
    events: int
    logins: tuple[DemoLogin, ...]


SKILLS: tuple[tuple[str, str, str], ...] = (
    ("sales", "general", "Products, prices and orders 产品与报价"),
    ("support", "general", "Orders, delivery and accounts 售后支持"),
    ("billing", "general", "Invoices, payments and refunds 账单与退款"),
    ("technical", "general", "Devices and the app 技术问题"),
    ("vip_care", "general", "Key accounts and VIP customers 贵宾服务"),
    ("english", "language", "English 英语"),
    ("mandarin", "language", "Mandarin 普通话"),
    ("cantonese", "language", "Cantonese 粤语"),
)

QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("sales", "Sales 销售咨询", ("voice", "email", "chat"), (("sales", 2),),
              80, 20, 5, "longest_idle", "+86 400 820 6600", "sales@example.com", 30),
    QueueSpec("support", "Support 技术支持", ("voice", "email", "chat"), (("support", 2),),
              80, 30, 0, "least_occupied", "+86 400 820 6611", "support@example.com", 50),
    QueueSpec("billing", "Billing 账单服务", ("voice", "email"), (("billing", 2),),
              80, 30, 0, "longest_idle", "+86 400 820 6622", "billing@example.com", 20),
    QueueSpec("vip", "VIP Care 贵宾服务", ("voice", "chat"), (("vip_care", 3),),
              90, 15, 10, "most_skilled", "+86 21 6288 9900", "vip@service.example.cn", 0),
)  # fmt: skip

AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec("li.na", "李娜", "support-cn",
              {"support": 4, "technical": 3, "mandarin": 5, "english": 3}, 3, 5),
    AgentSpec("wang.wei", "王伟", "sales-cn",
              {"sales": 4, "vip_care": 3, "mandarin": 5, "english": 2}, 3, 4),
    AgentSpec("zhang.jing", "张静", "billing-cn",
              {"billing": 4, "support": 2, "mandarin": 5, "cantonese": 4}, 2, 5),
    AgentSpec("chen.jie", "陈杰", "support-cn",
              {"support": 3, "technical": 4, "mandarin": 5, "cantonese": 5}, 4, 4),
    AgentSpec("liu.yang", "刘洋", "sales-cn", {"sales": 3, "billing": 2, "mandarin": 5}, 3, 3),
    AgentSpec("huang.li", "黄丽", "vip-care",
              {"vip_care": 5, "billing": 3, "mandarin": 5, "cantonese": 5, "english": 4}, 2, 3),
    AgentSpec("wu.hao", "吴昊", "support-cn", {"support": 2, "billing": 3, "mandarin": 5}, 4, 5),
    AgentSpec("emma.wilson", "Emma Wilson", "support-intl",
              {"support": 4, "technical": 2, "english": 5}, 3, 5),
    AgentSpec("carlos.mendes", "Carlos Mendes", "sales-intl",
              {"sales": 4, "billing": 2, "english": 5}, 3, 4),
    AgentSpec("priya.sharma", "Priya Sharma", "billing-intl",
              {"billing": 4, "support": 3, "english": 5}, 2, 5),
    AgentSpec("tom.becker", "Tom Becker", "support-intl",
              {"support": 3, "technical": 5, "english": 5, "mandarin": 2}, 4, 3),
    AgentSpec("grace.lin", "Grace Lin 林嘉欣", "vip-care",
              {"vip_care": 4, "sales": 3, "english": 5, "mandarin": 4, "cantonese": 3}, 3, 4),
)  # fmt: skip

ADMIN = DemoLogin("admin", Role.ADMIN, "admin-demo")
SUPERVISOR = DemoLogin("zhou.min", Role.SUPERVISOR, "supervisor-demo")
AGENT_PASSWORD = "agent-demo"  # noqa: S105 - printed by `contactd demo` on purpose
STAFF_NAMES = {"admin": "系统管理员 Admin", "zhou.min": "周敏"}
STAFF_DOMAIN = "service.example.cn"

DISPOSITIONS: dict[str, dict[str, int]] = {
    "sales": {"sale": 40, "resolved": 25, "follow_up_needed": 20, "callback_promised": 15},
    "support": {"resolved": 60, "follow_up_needed": 18, "complaint": 10, "callback_promised": 12},
    "billing": {"resolved": 58, "follow_up_needed": 17, "complaint": 15, "callback_promised": 10},
    "vip": {
        "resolved": 55,
        "follow_up_needed": 18,
        "sale": 12,
        "complaint": 5,
        "callback_promised": 10,
    },
}
CHANNEL_MIX = {"voice": 50, "email": 25, "chat": 25}
# mean patience in line (exponential); e-mail waits as long as it takes
PATIENCE_SECONDS: dict[str, float | None] = {"voice": 240.0, "chat": 420.0, "email": None}
HOUR_WEIGHTS = {8: 3, 9: 6, 10: 9, 11: 9, 12: 5, 13: 5, 14: 8, 15: 8, 16: 7, 17: 6, 18: 4, 19: 3}


def language_skill(language: str) -> str:
    """The routing skill a customer's language needs."""
    if language == "zh-HK":
        return "cantonese"
    return "mandarin" if language.startswith("zh") else "english"


REPLY_PREFIX = {"zh-CN": "回复：", "zh-HK": "回覆："}
IVR_LANGUAGE = {"mandarin": "zh-CN", "cantonese": "zh-HK", "english": "en-US"}

# --- Public API ----------------------------------------------------------------------------


async def database_is_empty(session: AsyncSession) -> bool:
    """True while there are no users, queues or customers: the demo may be loaded."""
    query = select(
        or_(select(User.id).exists(), select(Queue.id).exists(), select(Customer.id).exists())
    )
    return not await session.scalar(query)


async def load_demo(
    session: AsyncSession,
    *,
    seed: int = 7,
    now: datetime | None = None,
    region: str = "CN",
    zone: ZoneInfo | None = None,
) -> DemoSummary:
    """Add the demo contact center to the session's transaction (flushed, not committed).

    ``region`` is the default region for national phone numbers: customers from that
    country have their numbers typed the national way, as staff would.
    """
    rng = random.Random(seed)
    zone = zone or ZoneInfo("Asia/Shanghai")
    now = _aware(now) if now is not None else datetime.now(UTC)
    setup_at = now - SETUP_AGE
    skill_ids = await _add_skills(session, setup_at)
    queues = await _add_queues(session, skill_ids, setup_at)
    routing = await _publish_routing(session)
    await _add_entry_points(session, region)
    agents = await _add_staff(session, skill_ids, setup_at)
    await add_demo_canned_replies(session, ADMIN.username)
    phone_book = PhoneBook(rng, region)
    people = PeopleFactory(rng, now, phone_book).people(CUSTOMER_COUNT)
    customers = await _add_customers(session, people)
    await import_profile_flags(session)
    buyers = [DemoBuyer(c.id, c.profile) for c in customers]
    orders = await add_demo_orders(session, random.Random(seed + 1), now, buyers, zone)
    customers = await _with_value_tags(session, customers)
    planner = HistoryPlanner(rng, phone_book, queues, agents, customers)
    plans, presence = planner.plan(arrivals(rng, now), to_core(routing, 1), now)
    event_count = await _add_history(session, plans, presence)
    await add_demo_cases(session, now, [a.id for a in agents])
    await add_demo_care(session, now, zone, [(c.id, c.language) for c in customers if c.phones])
    return DemoSummary(
        skills=len(skill_ids),
        queues=len(queues),
        agents=len(agents),
        customers=len(customers),
        orders=orders.orders,
        contacts=len(plans),
        events=event_count,
        logins=(ADMIN, SUPERVISOR, *(_agent_login(a) for a in AGENTS)),
    )


async def _with_value_tags(
    session: AsyncSession, customers: list[CustomerRef]
) -> list[CustomerRef]:
    """The customers with the value their orders gave them, as routing reads it."""
    rows = await session.execute(select(CustomerValue.customer_id, CustomerValue.routing_tags))
    tags = {customer_id: tuple(found) for customer_id, found in rows.all()}
    return [replace(c, value_tags=tags.get(c.id, ())) for c in customers]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _agent_login(agent: AgentSpec) -> DemoLogin:
    return DemoLogin(agent.username, Role.AGENT, AGENT_PASSWORD)


# --- Skills, queues and staff --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueRef:
    id: int
    spec: QueueSpec


@dataclass(frozen=True, slots=True)
class AgentRef:
    id: int
    spec: AgentSpec


async def _add_skills(session: AsyncSession, setup_at: datetime) -> dict[str, int]:
    skills = [
        Skill(name=name, kind=kind, description=text, created_at=setup_at, updated_at=setup_at)
        for name, kind, text in SKILLS
    ]
    session.add_all(skills)
    await session.flush()
    return {skill.name: skill.id for skill in skills}


async def _add_queues(
    session: AsyncSession, skill_ids: dict[str, int], setup_at: datetime
) -> list[QueueRef]:
    rows = [_queue_row(spec, setup_at) for spec in QUEUES]
    session.add_all(rows)
    await session.flush()
    session.add_all(
        QueueSkill(queue_id=row.id, skill_id=skill_ids[skill], min_level=level)
        for row, spec in zip(rows, QUEUES, strict=True)
        for skill, level in spec.skills
    )
    await session.flush()
    return [QueueRef(row.id, spec) for row, spec in zip(rows, QUEUES, strict=True)]


DEMO_HOTLINE = "+86 400 820 6688"  # the bilingual IVR: language, menu, self-service


async def _add_entry_points(session: AsyncSession, region: str) -> None:
    """The hotlines, support addresses and chat widgets customers reach each queue by."""
    for spec in QUEUES:
        language = "zh-CN"
        if "voice" in spec.channels:
            e164 = normalize_phone(spec.phone, region).e164
            await add_entry_point(session, "voice", e164, spec.name, language=language)
        if "email" in spec.channels:
            await add_entry_point(session, "email", normalize_email(spec.email), spec.name)
        if "chat" in spec.channels:
            await add_entry_point(session, "chat", spec.name, spec.name)
    await add_entry_point(session, "chat", "default", "support")
    hotline = normalize_phone(DEMO_HOTLINE, region).e164
    await add_entry_point(session, "voice", hotline, "support")
    await install_demo_flow(session, hotline)


async def _publish_routing(session: AsyncSession) -> RoutingDocument:
    """Version 1 of the routing document: what an operator would configure on day one."""
    weekdays = {day: [("09:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    policies: dict[str, dict[str, object]] = {}
    for spec in QUEUES:
        policies[spec.name] = {
            "skills": [{"skill": skill, "level": level} for skill, level in spec.skills],
            "strategy": spec.strategy,
            "priority": spec.priority,
            "priority_boost_per_minute": 1.0,
            "steps": [{"after_seconds": 60, "lower_min_level_by": 1}],
            "wrap_up_seconds": 30,
        }
    for name in ("sales", "support"):  # Platinum and VIP callers to VIP care first
        policies[name]["value_skills"] = [
            {"when_any": ["grade:P", "vip"], "skills": [{"skill": "vip_care", "level": 3}]}
        ]
        policies[name]["steps"] = [
            {"after_seconds": 30, "drop_skills": ["vip_care"]},
            {"after_seconds": 60, "lower_min_level_by": 1},
        ]
    policies["billing"]["hours"] = {
        "timezone": "Asia/Shanghai",
        "weekly": weekdays,
        "holiday_country": "CN",
        "closed_action": "voicemail",
    }
    document = RoutingDocument.model_validate({"queues": policies})
    await publish(session, document, author_id=None, comment="demo: day-one routing")
    return document


def _queue_row(spec: QueueSpec, setup_at: datetime) -> Queue:
    return Queue(
        name=spec.name,
        display_name=spec.display_name,
        channels=sorted(spec.channels),
        sl_target_percent=spec.sl_percent,
        sl_target_seconds=spec.sl_seconds,
        default_priority=spec.priority,
        strategy=spec.strategy,
        created_at=setup_at,
        updated_at=setup_at,
    )


async def _add_staff(
    session: AsyncSession, skill_ids: dict[str, int], setup_at: datetime
) -> list[AgentRef]:
    hashes = await _hash_once([ADMIN.password, SUPERVISOR.password, AGENT_PASSWORD])
    managers = [
        _manager_row(login, hashes[login.password], setup_at) for login in (ADMIN, SUPERVISOR)
    ]
    agents = [_agent_row(spec, hashes[AGENT_PASSWORD], setup_at) for spec in AGENTS]
    session.add_all([*managers, *agents])
    await session.flush()
    session.add_all(
        AgentSkill(user_id=row.id, skill_id=skill_ids[skill], proficiency=level)
        for row, spec in zip(agents, AGENTS, strict=True)
        for skill, level in spec.skills.items()
    )
    await session.flush()
    return [AgentRef(row.id, spec) for row, spec in zip(agents, AGENTS, strict=True)]


async def _hash_once(passwords: Sequence[str]) -> dict[str, str]:
    """Each distinct password hashed once (argon2 is slow on purpose), in parallel."""
    distinct = list(dict.fromkeys(passwords))
    hashes = await asyncio.gather(*(asyncio.to_thread(hash_password, p) for p in distinct))
    return dict(zip(distinct, hashes, strict=True))


def _manager_row(login: DemoLogin, password_hash: str, setup_at: datetime) -> User:
    return User(
        username=login.username,
        display_name=STAFF_NAMES[login.username],
        email=f"{login.username}@{STAFF_DOMAIN}",
        role=login.role.value,
        password_hash=password_hash,
        team=None,
        capacity=dict(DEFAULT_CAPACITY),
        created_at=setup_at,
        updated_at=setup_at,
    )


def _agent_row(spec: AgentSpec, password_hash: str, setup_at: datetime) -> User:
    return User(
        username=spec.username,
        display_name=spec.display_name,
        email=f"{spec.username}@{STAFF_DOMAIN}",
        role=Role.AGENT.value,
        password_hash=password_hash,
        team=spec.team,
        capacity=spec.capacity,
        created_at=setup_at,
        updated_at=setup_at,
    )


# --- Phone numbers --------------------------------------------------------------------------

_US_FICTIONAL = re.compile(r"^\+1\d{3}555")


class PhoneBook:
    """Draws valid, distinct phone numbers, typed as people would and normalized."""

    def __init__(self, rng: random.Random, region: str) -> None:
        self.rng = rng
        self.region = region.upper()
        self.used: set[str] = set()

    def draw(self, plan: NumberPlan, extension: str | None = None) -> Phone:
        for _ in range(100):
            number = "+" + plan.cc + self.rng.choice(plan.prefixes) + self._digits(plan.rest)
            if number in self.used or _is_fictional(number):
                continue
            phone = self._normalized(number, extension)
            if phone is not None and phone.e164 not in self.used:
                self.used.add(phone.e164)
                return phone
        raise RuntimeError(f"no valid number found in {plan}")

    def _digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def _normalized(self, number: str, extension: str | None) -> Phone | None:
        typed = self.typed(number)
        if typed is None:
            return None
        if extension:
            typed += f" ext. {extension}"
        try:
            return normalize_phone(typed, self.region)
        except InvalidPhone:
            return None

    def typed(self, number: str) -> str | None:
        """The number as written: national form at home, international abroad."""
        try:
            parsed = phonenumbers.parse(number)
        except phonenumbers.NumberParseException:
            return None
        home = phonenumbers.region_code_for_number(parsed) == self.region
        style = phonenumbers.PhoneNumberFormat
        return phonenumbers.format_number(parsed, style.NATIONAL if home else style.INTERNATIONAL)


def _is_fictional(number: str) -> bool:
    return number.startswith(names.FICTIONAL_PREFIXES) or bool(_US_FICTIONAL.match(number))


def _hotline(spec: QueueSpec) -> str:
    return normalize_phone(spec.phone, "CN").e164


# --- Customers ------------------------------------------------------------------------------


@dataclass(slots=True)
class Person:
    """A customer before it is stored."""

    name: str
    first: str  # ascii, for e-mail addresses
    last: str
    origin: str
    country: str
    language: str
    city: str
    profile: str  # spending: vip, gold or standard (app/demo/orders.py)
    created_at: datetime
    weight: int  # how often they get in touch
    work_domain: str | None = None  # their company's mail domain
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    phones: list[tuple[Phone, str]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CustomerRef:
    id: int
    profile: str
    language: str
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    weight: int
    records_calls: bool
    value_tags: tuple[str, ...] = ()  # as evaluated from the demo's orders


def _ascii(text: str) -> str:
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.lower().replace(umlaut, spelled)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


class PeopleFactory:
    """Customers with names, phones and mail consistent with where they come from."""

    def __init__(self, rng: random.Random, now: datetime, phone_book: PhoneBook) -> None:
        self.rng = rng
        self.now = now
        self.phone_book = phone_book
        self.names: set[str] = set()
        self.emails: set[str] = set()
        self.account_no = 100_000

    def people(self, count: int) -> list[Person]:
        origins = [key for key, quota in names.ORIGIN_QUOTAS for _ in range(quota)]
        assert len(origins) == count, "origin quotas must add up to the customer count"
        vip, gold = round(count * 0.05), round(count * 0.15)
        profiles = ["vip"] * vip + ["gold"] * gold + ["standard"] * (count - vip - gold)
        self.rng.shuffle(origins)
        self.rng.shuffle(profiles)
        pairs = zip(origins, profiles, strict=True)
        return [self._person(origin, profile) for origin, profile in pairs]

    def _person(self, origin: str, profile: str) -> Person:
        person = self._identity(origin, profile)
        self._describe(person)
        self._add_phones(person)
        self._add_emails(person, required=not person.phones)
        return person

    def _identity(self, origin: str, profile: str) -> Person:
        name, first, last = self._unique_name(origin)
        country, language, city = self._home(origin)
        new = self.rng.random() < 0.08
        days = self.rng.uniform(31, 90) if new else self.rng.uniform(91, 1500)
        weight = self.rng.choice((1, 1, 1, 1, 2, 2, 3, 5)) * (2 if profile == "vip" else 1)
        return Person(
            name, first, last, origin, country, language, city, profile,
            created_at=self.now - timedelta(days=days), weight=weight,
            tags=["new"] if new else [],
        )  # fmt: skip

    def _unique_name(self, origin: str) -> tuple[str, str, str]:
        for _ in range(200):
            name, first, last = self._name(origin)
            if name not in self.names:
                self.names.add(name)
                return name, first, last
        raise RuntimeError(f"ran out of names for {origin}")

    def _name(self, origin: str) -> tuple[str, str, str]:
        rng = self.rng
        if origin == "cn":
            family = rng.choices(names.CN_FAMILY, weights=[w for *_, w in names.CN_FAMILY])[0]
            given = rng.choice(names.CN_GIVEN)
            return family[0] + given[0], given[1], family[1]
        if origin == "hk":
            hk_family, hk_given = rng.choice(names.HK_FAMILY), rng.choice(names.HK_GIVEN)
            return hk_family[0] + hk_given[0], hk_given[1], hk_family[1]
        spec = names.ORIGINS[origin]
        if spec.full_names:
            full = rng.choice(spec.full_names)
            first, _, last = full.partition(" ")
            return full, _ascii(first), _ascii(last)
        first, last = rng.choice(spec.first), rng.choice(spec.last)
        return f"{first} {last}", _ascii(first), _ascii(last)

    def _home(self, origin: str) -> tuple[str, str, str]:
        if origin == "cn":
            return "CN", "zh-CN", self.rng.choice(names.CN_CITIES)
        if origin == "hk":
            return "HK", "zh-HK", self.rng.choice(names.HK_DISTRICTS)
        spec = names.ORIGINS[origin]
        return spec.country, spec.language, self.rng.choice(spec.cities)

    def _describe(self, person: Person) -> None:
        rng = self.rng
        self.account_no += rng.randint(1, 400)
        city = "香港" if person.origin == "hk" else person.city
        person.attributes = {"account_no": f"AC-{self.account_no}", "city": city}
        if person.origin == "hk":
            person.attributes["district"] = person.city
        if rng.random() < 0.15:
            person.tags.append("enterprise")
            pool = names.CN_COMPANIES if person.origin in ("cn", "hk") else names.INTL_COMPANIES
            person.attributes["company"], person.work_domain = rng.choice(pool)
        person.tags.extend(self._extra_tags(person))
        person.consent = {
            "call_recording": rng.random() < 0.9,
            "marketing_email": rng.random() < 0.35,
            "marketing_sms": rng.random() < 0.25,
            "data_processing": True,
        }

    def _extra_tags(self, person: Person) -> list[str]:
        rng = self.rng
        chances = {
            "complaint-history": 0.08,
            "churn-risk": 0.05,
            "prefers-email": 0.08,
            "wechat-linked": 0.35 if person.origin == "cn" else 0.0,
        }
        tags = [tag for tag, chance in chances.items() if rng.random() < chance]
        return (["key-account"] if person.profile == "vip" else []) + tags

    def _add_phones(self, person: Person) -> None:
        draw = self.rng.random()
        if draw < 0.10:
            return
        mobile = names.MOBILE_PLANS.get(person.country) or names.LANDLINE_PLANS[person.city]
        person.phones.append((self.phone_book.draw(mobile), "mobile"))
        if draw < 0.78:
            return
        landline = names.LANDLINE_PLANS.get(person.city)
        if landline is None:
            person.phones.append((self.phone_book.draw(mobile), "work"))
            return
        label = self.rng.choice(("home", "office"))
        with_extension = label == "office" and self.rng.random() < 0.5
        extension = str(self.rng.randint(200, 899)) if with_extension else None
        person.phones.append((self.phone_book.draw(landline, extension), label))

    def _add_emails(self, person: Person, *, required: bool) -> None:
        if required or self.rng.random() < 0.88:
            person.emails.append(self._unique_email(self._personal_address(person)))
        if not person.emails:
            return
        if person.work_domain:
            work = f"{person.first}.{person.last}@{person.work_domain}"
            person.emails.append(self._unique_email(work))
        elif self.rng.random() < 0.06:
            person.emails.append(self._unique_email(self._personal_address(person)))

    def _personal_address(self, person: Person) -> str:
        rng = self.rng
        first, last = person.first, person.last
        if person.origin == "cn":
            domain = rng.choice(names.CN_MAIL)
            if domain == "qq.com":
                return f"{rng.randint(100_000, 3_999_999_999)}@qq.com"
        else:
            hk = person.origin == "hk"
            domain = rng.choice(names.HK_MAIL if hk else names.ORIGINS[person.origin].mail_domains)
        year = rng.randint(70, 99) if rng.random() < 0.5 else rng.randint(1, 30)
        local = rng.choice(
            (f"{first}.{last}", f"{last}.{first}{year:02d}", f"{first}{last}", f"{first[0]}{last}",
             f"{first}_{last}{year:02d}")
        )  # fmt: skip
        return f"{local}@{domain}"

    def _unique_email(self, address: str) -> str:
        email = normalize_email(address)
        while email in self.emails:
            local, _, domain = email.partition("@")
            email = normalize_email(f"{local}{self.rng.randint(1, 99)}@{domain}")
        self.emails.add(email)
        return email


async def _add_customers(session: AsyncSession, people: list[Person]) -> list[CustomerRef]:
    ids = await _insert_returning_ids(session, Customer, [_customer_row(p) for p in people])
    phones = [
        {"customer_id": cid, "e164": phone.e164, "extension": phone.extension, "label": label}
        for cid, person in zip(ids, people, strict=True)
        for phone, label in person.phones
    ]
    emails = [
        {"customer_id": cid, "email": email}
        for cid, person in zip(ids, people, strict=True)
        for email in person.emails
    ]
    await _insert_rows(session, CustomerPhone, phones)
    await _insert_rows(session, CustomerEmail, emails)
    return [_customer_ref(cid, person) for cid, person in zip(ids, people, strict=True)]


def _customer_row(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "language": person.language,
        "tags": person.tags,
        "attributes": person.attributes,
        "consent": person.consent,
        "created_at": person.created_at,
        "updated_at": person.created_at,
    }


def _customer_ref(customer_id: int, person: Person) -> CustomerRef:
    return CustomerRef(
        id=customer_id,
        profile=person.profile,
        language=person.language,
        phones=tuple(phone.e164 for phone, _ in person.phones),
        emails=tuple(person.emails),
        weight=person.weight,
        records_calls=person.consent["call_recording"],
    )


# --- A month of history ---------------------------------------------------------------------


def arrivals(rng: random.Random, now: datetime) -> list[datetime]:
    """Arrival times over the last 30 days, in business hours (Beijing time), oldest first.

    Only arrivals whose whole lifecycle, wrap-up included, is over by ``now`` are kept.
    """
    earliest, latest = now - timedelta(days=HISTORY_DAYS), now - MAX_CONTACT_LENGTH
    today = now.astimezone(CENTER_TZ).date()
    times: list[datetime] = []
    for back in range(HISTORY_DAYS + 1):
        day = today - timedelta(days=back)
        for _ in range(_daily_volume(rng, day)):
            moment = _business_time(rng, day)
            if earliest <= moment <= latest:
                times.append(moment)
    return sorted(times)


def _daily_volume(rng: random.Random, day: date) -> int:
    weekday = day.weekday()
    if weekday == 6:
        return rng.randint(8, 12)
    return rng.randint(14, 20) if weekday == 5 else rng.randint(30, 38)


def _business_time(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(list(HOUR_WEIGHTS), weights=list(HOUR_WEIGHTS.values()))[0]
    local = time(hour, rng.randrange(60), rng.randrange(60))
    return datetime.combine(day, local, tzinfo=CENTER_TZ).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Timeline:
    created: datetime
    queued: datetime
    offered: datetime | None = None
    answered: datetime | None = None
    ended: datetime | None = None
    wrap_up_ended: datetime | None = None
    abandoned: datetime | None = None

    @property
    def last(self) -> datetime:
        return self.wrap_up_ended or self.abandoned or self.queued


def _seconds(start: datetime | None, end: datetime | None) -> int:
    assert start is not None
    assert end is not None
    return round((end - start).total_seconds())


@dataclass(frozen=True, slots=True)
class ContactPlan:
    """One past contact, ready to become a ``contacts`` row and its events."""

    channel: str
    direction: str
    queue: QueueRef
    customer: CustomerRef | None
    agent: AgentRef | None
    times: Timeline
    priority: int
    required_skills: list[dict[str, Any]]
    provider: str
    provider_ref: str
    from_address: str
    to_address: str
    subject: str | None
    attributes: dict[str, Any]
    disposition: str | None

    @property
    def state(self) -> str:
        return "abandoned" if self.agent is None else "ended"

    @property
    def customer_match(self) -> str:
        if self.customer is None:
            return "unknown"
        return "exact_phone" if self.channel == "voice" else "email"

    def row(self) -> dict[str, Any]:
        t = self.times
        return {
            "channel": self.channel, "direction": self.direction, "state": self.state,
            "customer_id": self.customer.id if self.customer else None,
            "customer_match": self.customer_match, "queue_id": self.queue.id,
            "agent_id": self.agent.id if self.agent else None, "priority": self.priority,
            "required_skills": self.required_skills, "provider": self.provider,
            "provider_ref": self.provider_ref, "from_address": self.from_address,
            "to_address": self.to_address, "subject": self.subject,
            "attributes": self.attributes, "disposition": self.disposition,
            "value_tags": list(self.customer.value_tags) if self.customer else None,
            "created_at": t.created, "updated_at": t.last, "queued_at": t.queued,
            "offered_at": t.offered, "answered_at": t.answered, "ended_at": t.ended,
            "wrap_up_ended_at": t.wrap_up_ended, "abandoned_at": t.abandoned,
        }  # fmt: skip

    def events(self, contact_id: int) -> list[dict[str, Any]]:
        if self.agent is None:
            return self._abandoned_events(contact_id)
        return self._handled_events(contact_id, self.agent.id)

    def _opening(self, contact_id: int, actor_id: int | None = None) -> dict[str, Any]:
        payload = {"channel": self.channel, "direction": self.direction}
        return _event(contact_id, "contact.created", self.times.created, actor_id=actor_id,
                      payload=payload)  # fmt: skip

    def _queued(self, contact_id: int) -> dict[str, Any]:
        payload = {"queue": self.queue.spec.name, "priority": self.priority}
        return _event(contact_id, "contact.queued", self.times.queued, payload=payload)

    def _abandoned_events(self, contact_id: int) -> list[dict[str, Any]]:
        t = self.times
        assert t.abandoned is not None
        waited = {"waited_seconds": _seconds(t.queued, t.abandoned)}
        return [
            self._opening(contact_id),
            self._queued(contact_id),
            _event(contact_id, "contact.abandoned", t.abandoned, payload=waited),
        ]

    def _handled_events(self, contact_id: int, agent_id: int) -> list[dict[str, Any]]:
        t = self.times
        assert t.offered is not None
        assert t.answered is not None
        offer = {"queue": self.queue.spec.name, "waited_seconds": _seconds(t.queued, t.offered)}
        return [
            self._opening(contact_id),
            self._queued(contact_id),
            _event(contact_id, "contact.offered", t.offered, agent_id=agent_id, payload=offer),
            _event(contact_id, "contact.assigned", t.answered, agent_id=agent_id),
            *self._closing(contact_id, agent_id),
        ]  # fmt: skip

    def _closing(self, contact_id: int, agent_id: int) -> list[dict[str, Any]]:
        t = self.times
        assert t.ended is not None
        assert t.wrap_up_ended is not None
        talk = {"handle_seconds": _seconds(t.answered, t.ended)}
        wrap = {
            "disposition": self.disposition,
            "wrap_up_seconds": _seconds(t.ended, t.wrap_up_ended),
        }
        return [
            _event(contact_id, "contact.ended", t.ended, agent_id=agent_id, payload=talk),
            _event(contact_id, "contact.wrap_up_ended", t.wrap_up_ended, agent_id=agent_id,
                   actor_id=agent_id, payload=wrap),
        ]  # fmt: skip


def _event(
    contact_id: int | None,
    kind: str,
    at: datetime,
    *,
    agent_id: int | None = None,
    actor_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "contact_id": contact_id,
        "agent_id": agent_id,
        "actor_id": actor_id,
        "kind": kind,
        "occurred_at": at,
        "payload": payload or {},
    }


@dataclass(frozen=True, slots=True)
class _Drafted:
    """What the planner drew for one contact before the engine routed it."""

    created: datetime
    channel: str
    customer: CustomerRef | None
    queue: QueueRef
    language: str
    needs: tuple[tuple[str, int], ...]
    draft: ContactDraft


class HistoryPlanner:
    """Turns arrival times and agent shifts into past contacts the routing engine produced.

    Contacts and shifts are drawn first; ``app.demo.history.run_history`` routes them under
    the demo's routing configuration; what the engine did becomes each contact's timeline.
    """

    def __init__(
        self,
        rng: random.Random,
        phone_book: PhoneBook,
        queues: list[QueueRef],
        agents: list[AgentRef],
        customers: list[CustomerRef],
    ) -> None:
        self.rng = rng
        self.phone_book = phone_book
        self.queues = queues
        self.agents = agents
        self.callers = [c for c in customers if c.phones]
        self.writers = [c for c in customers if c.emails]
        self.hotlines = {queue.spec.name: _hotline(queue.spec) for queue in queues}
        self.refs: set[tuple[str, str]] = set()

    def plan(
        self, times: list[datetime], routing: RoutingConfig, now: datetime
    ) -> tuple[list[ContactPlan], list[dict[str, Any]]]:
        """The contacts over by ``now``, and the agents' ``agent.state_changed`` events."""
        drafted = [self._draft(moment) for moment in times]
        agent_ids = [str(agent.id) for agent in self.agents]
        today = now.astimezone(CENTER_TZ).date()
        days = [today - timedelta(days=back) for back in range(HISTORY_DAYS + 1, -1, -1)]
        shifts = [s for s in agent_shifts(self.rng, agent_ids, days, CENTER_TZ) if s[0] < now]
        shifts += _signed_out_by(now, shifts)
        origin = datetime.combine(days[0], time(0), CENTER_TZ).astimezone(UTC)
        simulated = [_simulated_agent(agent) for agent in self.agents]
        drafts = [d.draft for d in drafted]
        run = run_history(routing, simulated, shifts, drafts, origin, now)
        by_id = {agent.id: agent for agent in self.agents}
        plans = []
        for contact, outcome in zip(drafted, run.outcomes, strict=True):
            times_ = _timeline(contact, outcome, run)
            if times_ is not None and times_.last <= now:
                agent = None if outcome.agent_id is None else by_id[int(outcome.agent_id)]
                plans.append(self._contact(contact, times_, agent))
        return plans, _presence_events(run, now)

    def _draft(self, created: datetime) -> _Drafted:
        rng = self.rng
        channel = rng.choices(list(CHANNEL_MIX), weights=list(CHANNEL_MIX.values()))[0]
        customer = self._customer(channel)
        queue = self._queue(channel, customer)
        language = customer.language if customer else self._stranger_language()
        needs = (*queue.spec.skills, (language_skill(language), LANGUAGE_LEVEL))
        queued = created + timedelta(seconds=self._pre_queue_seconds(channel))
        mean_patience = PATIENCE_SECONDS[channel]
        draft = ContactDraft(
            queued=queued,
            queue=queue.spec.name,
            channel=channel,
            skills=tuple(SkillRequirement(skill, level) for skill, level in needs),
            priority=_priority(queue, customer),
            value_tags=customer.value_tags if customer else (),
            patience_seconds=None if mean_patience is None else rng.expovariate(1 / mean_patience),
            talk_seconds=float(self._handle_seconds(channel)),
            wrap_up_seconds=float(round(rng.triangular(10, 120, 35))),
        )
        return _Drafted(created, channel, customer, queue, language, needs, draft)

    def _contact(self, drafted: _Drafted, times: Timeline, agent: AgentRef | None) -> ContactPlan:
        channel, customer, queue, language = (
            drafted.channel, drafted.customer, drafted.queue, drafted.language
        )  # fmt: skip
        disposition = self._disposition(queue) if agent else None
        from_address, to_address = self._addresses(channel, queue, customer)
        provider, ref = self._provider_ref(channel, from_address)
        return ContactPlan(
            channel=channel,
            direction="inbound",
            queue=queue,
            customer=customer,
            agent=agent,
            times=times,
            priority=drafted.draft.priority,
            required_skills=[{"skill": skill, "level": level} for skill, level in drafted.needs],
            provider=provider,
            provider_ref=ref,
            from_address=from_address,
            to_address=to_address,
            subject=self._subject(queue, language) if channel == "email" else None,
            attributes=self._attributes(channel, language, customer, disposition),
            disposition=disposition,
        )

    # who, where, in which language

    def _customer(self, channel: str) -> CustomerRef | None:
        if self.rng.random() < UNKNOWN_SHARE:
            return None
        pool = self.callers if channel == "voice" else self.writers
        return self.rng.choices(pool, weights=[c.weight for c in pool])[0]

    def _stranger_language(self) -> str:
        return self.rng.choices(("zh-CN", "en-US", "zh-HK"), weights=(70, 20, 10))[0]

    def _queue(self, channel: str, customer: CustomerRef | None) -> QueueRef:
        vip = next(q for q in self.queues if q.spec.name == "vip")
        is_vip = customer is not None and customer.profile == "vip"
        if is_vip and channel in vip.spec.channels and self.rng.random() < 0.85:
            return vip
        pool = [q for q in self.queues if channel in q.spec.channels and q.spec.share > 0]
        return self.rng.choices(pool, weights=[q.spec.share for q in pool])[0]

    # how long

    def _pre_queue_seconds(self, channel: str) -> int:
        spans = {"voice": (8, 45), "chat": (1, 5), "email": (0, 2)}
        return self.rng.randint(*spans[channel])

    def _handle_seconds(self, channel: str) -> int:
        modes = {"voice": 200, "chat": 420, "email": 180}
        return round(self.rng.triangular(60, 900, modes[channel]))

    def _disposition(self, queue: QueueRef) -> str:
        weights = DISPOSITIONS[queue.spec.name]
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    # addresses and provider references

    def _addresses(
        self, channel: str, queue: QueueRef, customer: CustomerRef | None
    ) -> tuple[str, str]:
        if channel == "voice":
            caller = self.rng.choice(customer.phones) if customer else self._stranger_phone()
            return caller, self.hotlines[queue.spec.name]
        writer = self.rng.choice(customer.emails) if customer else self._stranger_email()
        center = queue.spec.email if channel == "email" else f"webchat:{queue.spec.name}"
        return writer, center

    def _stranger_phone(self) -> str:
        if self.rng.random() < 0.8:
            return self.phone_book.draw(names.MOBILE_PLANS["CN"]).e164
        country = self.rng.choice(sorted(names.MOBILE_PLANS))
        return self.phone_book.draw(names.MOBILE_PLANS[country]).e164

    def _stranger_email(self) -> str:
        prefix = self.rng.choice(("visitor", "guest", "kehu", "user"))
        local = f"{prefix}{self.rng.randint(100, 99999)}"
        return normalize_email(f"{local}@{self.rng.choice((*names.CN_MAIL, 'gmail.com'))}")

    def _provider_ref(self, channel: str, from_address: str) -> tuple[str, str]:
        while True:
            provider, ref = self._new_ref(channel, from_address)
            if (provider, ref) not in self.refs:
                self.refs.add((provider, ref))
                return provider, ref

    def _new_ref(self, channel: str, from_address: str) -> tuple[str, str]:
        bits = self.rng.getrandbits(128)
        if channel == "voice":
            return "twilio", f"CA{bits:032x}"
        if channel == "chat":
            return "webchat", str(uuid.UUID(int=bits, version=4))
        domain = from_address.partition("@")[2]
        return "smtp", f"<{bits:032x}@mail.{domain}>"

    # what it was about

    def _subject(self, queue: QueueRef, language: str) -> str:
        texts = names.EMAIL_SUBJECTS.get(queue.spec.name, names.EMAIL_SUBJECTS["support"])
        chinese = language.startswith("zh")
        key = language if language in texts else "zh" if chinese else "en"
        subject = self.rng.choice(texts[key])
        subject = subject.format(order=self.rng.randint(10_000, 99_999))
        if self.rng.random() < 0.15:
            subject = REPLY_PREFIX.get(language, "回复：" if chinese else "Re: ") + subject
        return subject

    def _attributes(
        self,
        channel: str,
        language: str,
        customer: CustomerRef | None,
        disposition: str | None,
    ) -> dict[str, Any]:
        attributes = self._channel_attributes(channel, language, customer)
        if disposition and self._takes_note(disposition):
            attributes["note"] = self.rng.choice(names.NOTES[disposition])
        return attributes

    def _channel_attributes(
        self, channel: str, language: str, customer: CustomerRef | None
    ) -> dict[str, Any]:
        rng = self.rng
        if channel == "voice":
            recorded = customer.records_calls if customer else True
            return {"ivr_language": IVR_LANGUAGE[language_skill(language)], "recorded": recorded}
        if channel == "chat":
            excerpts = names.CHAT_EXCERPTS.get(language, names.CHAT_EXCERPTS["en"])
            return {
                "transcript_excerpt": rng.choice(excerpts),
                "page_url": rng.choice(names.PAGE_URLS),
            }
        return {"attachments": rng.choice((0, 0, 0, 1, 2))}

    def _takes_note(self, disposition: str) -> bool:
        chance = 0.6 if disposition in ("callback_promised", "complaint") else 0.05
        return self.rng.random() < chance


async def _add_history(
    session: AsyncSession, plans: list[ContactPlan], presence: list[dict[str, Any]]
) -> int:
    """Insert the contacts, then their events and the agents' states, oldest first;
    returns how many events were written."""
    for plan in plans:
        check_disposition(plan.disposition)  # the same check as an agent's wrap-up
    ids = await _insert_returning_ids(session, Contact, [plan.row() for plan in plans])
    events = [event for cid, plan in zip(ids, plans, strict=True) for event in plan.events(cid)]
    events = sorted(events + presence, key=lambda event: event["occurred_at"])
    await _insert_rows(session, ContactEvent, events)
    return len(events)


def _priority(queue: QueueRef, customer: CustomerRef | None) -> int:
    """The queue's priority: the customer's value adds its points in the engine."""
    return queue.spec.priority


def _simulated_agent(agent: AgentRef) -> SimulatedAgent:
    return SimulatedAgent(str(agent.id), dict(agent.spec.skills), agent.spec.capacity)


def _signed_out_by(
    now: datetime, shifts: list[tuple[datetime, str, AgentState, str | None]]
) -> list[tuple[datetime, str, AgentState, str | None]]:
    """Nobody is left signed in at ``now``: the live roster starts empty."""
    last: dict[str, AgentState] = {}
    for _, agent_id, state, _ in shifts:
        last[agent_id] = state
    cut = now - MAX_CONTACT_LENGTH
    return [
        (cut, a, AgentState.OFFLINE, None) for a, s in last.items() if s is not AgentState.OFFLINE
    ]


def _timeline(contact: _Drafted, outcome: ContactOutcome, run: HistoryRun) -> Timeline | None:
    """The engine's outcome as the contact's timestamps; None if it never resolved."""
    queued = contact.draft.queued
    if outcome.abandoned_at is not None:
        return Timeline(contact.created, queued, abandoned=run.at(outcome.abandoned_at))
    if outcome.answered_at is None or outcome.wrap_up_ended_at is None:
        return None
    assert outcome.ended_at is not None
    offered = run.at(outcome.offered_at if outcome.offered_at is not None else outcome.answered_at)
    return Timeline(
        contact.created, queued, offered, run.at(outcome.answered_at),
        run.at(outcome.ended_at), run.at(outcome.wrap_up_ended_at),
    )  # fmt: skip


def _presence_events(run: HistoryRun, now: datetime) -> list[dict[str, Any]]:
    """The engine's agent states as ``agent.state_changed`` events, as the router logs them,
    up to ``now``; an agent whose shift is still on at ``now`` signs out then: when the demo
    is loaded nobody is logged in (no presence), and the wallboard must not show them
    available."""
    previous: dict[str, str] = {}
    events = []
    for record in run.presence:
        at = run.at(record.time)
        if at > now:
            break
        payload = {
            "state": record.state.value,
            "reason": record.reason,
            "previous": previous.get(record.agent_id, "offline"),
        }
        previous[record.agent_id] = record.state.value
        events.append(
            _event(None, "agent.state_changed", at, agent_id=int(record.agent_id), payload=payload)
        )
    for agent_id, state in previous.items():
        if state != "offline":
            payload = {"state": "offline", "reason": None, "previous": state}
            events.append(
                _event(None, "agent.state_changed", now, agent_id=int(agent_id), payload=payload)
            )
    return events


# --- Bulk inserts ---------------------------------------------------------------------------
# Core inserts send 1,000 rows per statement. ORM bulk inserts would split the batches
# wherever the set of NULL columns changes from one row to the next: thousands of round trips.


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def _insert_rows(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]
) -> None:
    if rows:
        await session.execute(insert(_table(model)), rows)


async def _insert_returning_ids(
    session: AsyncSession, model: type[Base], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert the rows and return their new ids, in the order of ``rows``."""
    if not rows:
        return []
    table = _table(model)
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(await session.scalars(statement, rows))
