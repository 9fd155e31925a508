"""A call flow as data: prompts, named business hours and nodes, validated with pydantic.

Nodes name each other, their prompts and hours by key; ``Flow.dangling`` lists every such
name that leads nowhere, so a flow can be refused with a message that names it. Queues and
skills live in the database and are checked by the store.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app.routing.config_schemas import Hours
from app.skills.schemas import SkillLevel

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}-[A-Z]{2}$")]
Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Digit = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Scalar = str | int | float | bool
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prompt(_Strict):
    """What the caller hears: text per language (spoken with ``voice``) or audio per language.

    Text may quote what the flow has learnt: ``{order.status}`` is the attribute's value.
    """

    text: dict[Language, Annotated[str, Field(max_length=2000)]] = {}
    audio: dict[Language, Annotated[str, Field(max_length=2000, pattern=r"^https?://")]] = {}
    voice: str | None = Field(default=None, max_length=64)
    all_languages: bool = False  # say every language's text (before a language is chosen)


# ---------------------------------------------------------------- conditions


class HoursCheck(_Strict):
    type: Literal["open"]
    hours: Key  # a name in Flow.hours


Grade = Literal["P", "G", "S", "B"]
ValueStatus = Literal["graded", "new", "no_sale", "dormant", "prospect", "blocked"]
ValueClass = Literal["key", "major", "normal"]


class ValueCheck(_Strict):
    """The caller's value (docs/customer-value.md): true when every part given holds.
    A list holds when the caller has any of its entries; an unknown caller is a prospect
    of class normal, with no grade, no VIP and no segment."""

    type: Literal["value"]
    grades: list[Grade] | None = Field(default=None, min_length=1)
    vip: bool | None = None
    value_classes: list[ValueClass] | None = Field(default=None, min_length=1)
    statuses: list[ValueStatus] | None = Field(default=None, min_length=1)
    segments: list[Key] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _something_to_check(self) -> ValueCheck:
        parts = (self.grades, self.vip, self.value_classes, self.statuses, self.segments)
        if all(part is None for part in parts):
            raise ValueError("give at least one of grades, vip, value_classes, statuses, segments")
        return self


class KnownCheck(_Strict):
    type: Literal["caller_known"]


class AttributeCheck(_Strict):
    type: Literal["attribute"]
    name: Key
    equals: Scalar | None = None
    one_of: list[Scalar] | None = None  # any of these values; neither: the attribute is set


class TimeCheck(_Strict):
    type: Literal["time"]
    timezone: str = "Asia/Shanghai"
    days: list[Weekday] = []  # empty: every day
    start: time = time(0, 0)
    end: time = time(23, 59, 59)


class LanguageCheck(_Strict):
    type: Literal["language"]
    languages: list[Language] = Field(min_length=1)


Check = Annotated[
    HoursCheck | ValueCheck | KnownCheck | AttributeCheck | TimeCheck | LanguageCheck,
    Field(discriminator="type"),
]


class Branch(_Strict):
    when: Check
    next: Key


# ---------------------------------------------------------------- nodes


class SayNode(_Strict):
    type: Literal["say"]
    prompt: Key
    next: Key


class Choice(_Strict):
    next: Key
    speech: list[Annotated[str, Field(max_length=100)]] = []  # words that also choose it


class _Asks(_Strict):
    """What a node that waits for the caller shares: retries and what to say on trouble."""

    prompt: Key
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 5
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    invalid_prompt: Key | None = None
    no_input_prompt: Key | None = None
    fallback: Key | None = None  # after the last retry; none: hang up


class MenuNode(_Asks):
    type: Literal["menu"]
    choices: dict[Digit, Choice] = Field(min_length=1)


class GatherNode(_Asks):
    type: Literal["gather"]
    input: Literal["dtmf", "speech", "dtmf speech"] = "dtmf"
    min_length: Annotated[int, Field(ge=1, le=64)] = 1
    max_length: Annotated[int, Field(ge=1, le=64)] = 20
    terminator: Literal["#", "*", ""] = "#"
    pattern: str | None = Field(default=None, max_length=200)
    into: Key
    next: Key

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern does not compile: {exc}") from exc
        return pattern


class ConditionNode(_Strict):
    type: Literal["condition"]
    branches: list[Branch] = Field(min_length=1)
    otherwise: Key


class SetNode(_Strict):
    type: Literal["set"]
    attributes: dict[Key, Scalar] = {}
    skills: list[SkillLevel] | None = None  # replaces the required skills
    priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    language: Language | None = None
    next: Key


class HttpNode(_Strict):
    type: Literal["http"]
    url: str = Field(max_length=2000)  # {attribute} placeholders; relative to the lookup base
    method: Literal["GET", "POST"] = "GET"
    timeout_seconds: Annotated[float, Field(gt=0, le=10)] = 3.0
    retries: Annotated[int, Field(ge=0, le=3)] = 1
    into: Key
    next: Key
    fallback: Key


class EnqueueNode(_Strict):
    type: Literal["enqueue"]
    queue: Key
    skills: list[SkillLevel] | None = None  # added to what set nodes required
    priority: Annotated[int, Field(ge=-100, le=100)] | None = None
    prompt: Key | None = None


class TransferNode(_Strict):
    type: Literal["transfer"]
    number: E164
    prompt: Key | None = None


class VoicemailNode(_Strict):
    type: Literal["voicemail"]
    prompt: Key
    queue: Key  # the message becomes a contact routed here
    max_seconds: Annotated[int, Field(ge=5, le=600)] = 120
    thanks_prompt: Key | None = None


class CallbackNode(_Strict):
    type: Literal["callback"]
    prompt: Key
    queue: Key
    fallback: Key | None = None  # the caller's number is unknown: go here (else hang up)


class HangupNode(_Strict):
    type: Literal["hangup"]
    prompt: Key | None = None


Node = Annotated[
    SayNode
    | MenuNode
    | GatherNode
    | ConditionNode
    | SetNode
    | HttpNode
    | EnqueueNode
    | TransferNode
    | VoicemailNode
    | CallbackNode
    | HangupNode,
    Field(discriminator="type"),
]


class Flow(_Strict):
    """One version of a call flow."""

    start: Key
    default_language: Language = "zh-CN"
    languages: list[Language] = Field(default=["zh-CN"], min_length=1)
    use_customer_language: bool = True
    prompts: dict[Key, Prompt] = {}
    hours: dict[Key, Hours] = {}
    nodes: dict[Key, Node] = Field(min_length=1)

    def dangling(self) -> list[dict[str, str]]:
        """Every reference to a node, prompt or hours that does not exist."""
        missing: list[dict[str, str]] = []
        known = {"node": set(self.nodes), "prompt": set(self.prompts), "hours": set(self.hours)}
        if self.start not in self.nodes:
            missing.append({"kind": "node", "name": self.start, "in": "start"})
        for key, node in self.nodes.items():
            for kind, name in references(node):
                if name not in known[kind]:
                    missing.append({"kind": kind, "name": name, "in": key})
        return missing

    def queues_and_skills(self) -> tuple[set[str], set[str]]:
        queues: set[str] = set()
        skills: set[str] = set()
        for node in self.nodes.values():
            if isinstance(node, EnqueueNode | VoicemailNode | CallbackNode):
                queues.add(node.queue)
            if isinstance(node, EnqueueNode | SetNode) and node.skills:
                skills.update(s.skill for s in node.skills)
        return queues, skills


def references(node: Any) -> list[tuple[str, str]]:
    """(kind, name) of everything ``node`` points at."""
    found: list[tuple[str, str]] = []
    for field in ("next", "fallback", "otherwise"):
        if getattr(node, field, None):
            found.append(("node", getattr(node, field)))
    for field in ("prompt", "invalid_prompt", "no_input_prompt", "thanks_prompt"):
        if getattr(node, field, None):
            found.append(("prompt", getattr(node, field)))
    if isinstance(node, MenuNode):
        found.extend(("node", choice.next) for choice in node.choices.values())
    if isinstance(node, ConditionNode):
        for branch in node.branches:
            found.append(("node", branch.next))
            if isinstance(branch.when, HoursCheck):
                found.append(("hours", branch.when.hours))
    return found
