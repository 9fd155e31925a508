"""The flow engine: a flow, a run's state, the caller's latest input and the time in; the next
instructions and the new state out. Pure: no I/O, no clock, no database.

A turn walks nodes until one has to wait (a menu or gather for the caller, an HTTP lookup for
the shell, a recording) or the call leaves the IVR (queued, transferred, voicemail, callback,
hung up). The shell performs what the instructions ask and feeds the result back in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from app.ivr.flow import (
    WEEKDAY_NAMES,
    AttributeCheck,
    CallbackNode,
    Check,
    ConditionNode,
    EnqueueNode,
    Flow,
    GatherNode,
    HangupNode,
    HoursCheck,
    HttpNode,
    KnownCheck,
    LanguageCheck,
    MenuNode,
    SayNode,
    SetNode,
    TimeCheck,
    TransferNode,
    ValueCheck,
    VoicemailNode,
)
from app.routing.hours import is_open
from app.skills.schemas import SkillLevel

MAX_HOPS = 100  # nodes one turn may walk without waiting: a flow that loops is cut here
MAX_PATH = 200
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")

Outcome = Literal[
    "queued", "transferred", "voicemail", "callback", "contained", "no_message", "failed", "loop"
]


class _Instruction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Say(_Instruction):
    type: Literal["say"] = "say"
    text: str
    language: str
    voice: str | None = None


class Play(_Instruction):
    type: Literal["play"] = "play"
    url: str
    language: str


class Gather(_Instruction):
    """Ask the caller; ``prompts`` play while waiting, input ends the wait."""

    type: Literal["gather"] = "gather"
    input: str
    language: str
    timeout_seconds: int
    num_digits: int | None = None
    finish_on_key: str = ""
    hints: list[str] = []
    prompts: list[Say | Play] = []


class Record(_Instruction):
    type: Literal["record"] = "record"
    max_seconds: int


class Fetch(_Instruction):
    """An HTTP lookup for the shell to perform; its JSON result comes back as input."""

    type: Literal["http"] = "http"
    url: str
    method: str
    timeout_seconds: float
    retries: int


class Enqueue(_Instruction):
    """Route a contact: the call itself (queue), a recorded message, or a callback."""

    type: Literal["enqueue"] = "enqueue"
    kind: Literal["queue", "voicemail", "callback"] = "queue"
    queue: str
    skills: list[SkillLevel] = []
    priority: int | None = None
    language: str
    attributes: dict[str, Any] = {}
    recording_url: str | None = None


class Transfer(_Instruction):
    type: Literal["transfer"] = "transfer"
    number: str


class Hangup(_Instruction):
    type: Literal["hangup"] = "hangup"


Instruction = Annotated[
    Say | Play | Gather | Record | Fetch | Enqueue | Transfer | Hangup,
    Field(discriminator="type"),
]


class CallerInput(BaseModel):
    """What happened since the last turn."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal[
        "start", "digits", "speech", "no_input", "http_result", "http_failed", "recording"
    ]
    value: str | None = Field(default=None, max_length=2000)
    data: Any = None


@dataclass(frozen=True, slots=True)
class CallerValue:
    """The caller's customer value, as the IVR's value conditions read it."""

    grade: str | None = None
    status: str = "prospect"
    vip: bool = False
    value_class: str = "normal"
    segments: tuple[str, ...] = ()

    def matches(self, check: ValueCheck) -> bool:
        """Every part of ``check`` that is given holds for this caller."""
        return (
            (check.grades is None or self.grade in check.grades)
            and (check.vip is None or self.vip is check.vip)
            and (check.value_classes is None or self.value_class in check.value_classes)
            and (check.statuses is None or self.status in check.statuses)
            and (check.segments is None or not set(check.segments).isdisjoint(self.segments))
        )


@dataclass(frozen=True, slots=True)
class Facts:
    """What the shell knows about the caller."""

    caller_number: str | None = None
    customer_known: bool = False
    value: CallerValue = field(default_factory=CallerValue)
    customer_language: str | None = None


class RunState(BaseModel):
    """Where a run stands between two webhooks; stored as JSON."""

    node: str | None = None  # the node waiting
    waiting: Literal["input", "http", "recording"] | None = None
    language: str
    attempts: int = 0
    attributes: dict[str, Any] = {}
    skills: list[SkillLevel] = []
    priority: int | None = None
    path: list[str] = []
    turn: int = 0
    outcome: Outcome | None = None
    queue: str | None = None  # where the call was routed, if it was
    last: list[Instruction] = []  # what the last turn answered (for a retried webhook)

    @property
    def done(self) -> bool:
        return self.outcome is not None


@dataclass
class Turn:
    instructions: list[Instruction]
    state: RunState
    entered: list[tuple[str, str]] = field(default_factory=list)  # (node, type)


def begin(flow: Flow, facts: Facts) -> RunState:
    language = flow.default_language
    wanted = facts.customer_language
    if flow.use_customer_language and wanted in flow.languages:
        language = wanted
    return RunState(language=language)


def advance(flow: Flow, state: RunState, given: CallerInput, facts: Facts, now: datetime) -> Turn:
    """The next turn of a run. ``state`` is not modified; the turn carries a new one."""
    walk = _Walk(flow, state.model_copy(deep=True), facts, now)
    if state.done:
        return Turn([Hangup()], walk.state)
    if given.kind == "start" or state.node is None:
        walk.go(flow.start)
    else:
        walk.answer(given)
    walk.state.turn += 1
    walk.state.last = list(walk.out)
    return Turn(walk.out, walk.state, walk.entered)


class _Walk:
    def __init__(self, flow: Flow, state: RunState, facts: Facts, now: datetime) -> None:
        self.flow = flow
        self.state = state
        self.facts = facts
        self.now = now
        self.out: list[Instruction] = []
        self.entered: list[tuple[str, str]] = []

    # ------------------------------------------------------------ the caller answered

    def answer(self, given: CallerInput) -> None:
        key = self.state.node
        assert key is not None
        node = self.flow.nodes[key]
        if isinstance(node, MenuNode) and given.kind in ("digits", "speech", "no_input"):
            self._menu(node, given)
        elif isinstance(node, GatherNode) and given.kind in ("digits", "speech", "no_input"):
            self._gather(node, given)
        elif isinstance(node, HttpNode) and given.kind in ("http_result", "http_failed"):
            self._looked_up(node, given)
        elif isinstance(node, VoicemailNode) and given.kind == "recording":
            self._recorded(node, given.value)
        else:  # an input this node does not wait for: ask again, nothing changes
            self.out = list(self.state.last)

    def _menu(self, node: MenuNode, given: CallerInput) -> None:
        if given.kind == "no_input" or not given.value:
            self._trouble(node, "no_input")
            return
        choice = node.choices.get(given.value.strip())
        if choice is None and given.kind == "speech":
            said = given.value.strip().lower()
            choice = next(
                (c for c in node.choices.values() if any(w.lower() in said for w in c.speech)),
                None,
            )
        if choice is None:
            self._trouble(node, "invalid")
        else:
            self.go(choice.next)

    def _gather(self, node: GatherNode, given: CallerInput) -> None:
        value = (given.value or "").strip()
        if node.terminator:
            value = value.removesuffix(node.terminator)
        if given.kind == "no_input" or not value:
            self._trouble(node, "no_input")
        elif valid_answer(node, value):
            self.state.attributes[node.into] = value
            self.go(node.next)
        else:
            self._trouble(node, "invalid")

    def _looked_up(self, node: HttpNode, given: CallerInput) -> None:
        if given.kind == "http_result":
            self.state.attributes[node.into] = given.data
            self.go(node.next)
        else:
            self.go(node.fallback)

    def _recorded(self, node: VoicemailNode, url: str | None) -> None:
        if not url:
            self._end("no_message")
            return
        self.out.append(self._routed("voicemail", node.queue, None, recording_url=url))
        if node.thanks_prompt:
            self.out.extend(self.prompt(node.thanks_prompt))
        self.state.queue = node.queue
        self._end("voicemail")

    def _trouble(self, node: MenuNode | GatherNode, kind: Literal["invalid", "no_input"]) -> None:
        self.state.attempts += 1
        if self.state.attempts > node.retries:
            if node.fallback is not None:
                self.go(node.fallback)
            else:
                self._end("failed")
            return
        message = node.invalid_prompt if kind == "invalid" else node.no_input_prompt
        if message is not None:
            self.out.extend(self.prompt(message))
        self.out.append(self._ask(node))

    # ------------------------------------------------------------ walking nodes

    def go(self, key: str) -> None:
        for _ in range(MAX_HOPS):
            node = self.flow.nodes[key]
            self._enter(key, node.type)
            following = self._run(key, node)
            if following is None:
                return
            key = following
        self.out.append(Hangup())
        self.state.node = None
        self.state.outcome = "loop"

    def _enter(self, key: str, kind: str) -> None:
        self.entered.append((key, kind))
        if len(self.state.path) < MAX_PATH:
            self.state.path.append(key)
        self.state.node = key
        self.state.waiting = None
        self.state.attempts = 0

    def _run(self, key: str, node: Any) -> str | None:
        """Perform one node; the next node's key, or None when the turn stops here."""
        match node:
            case SayNode():
                self.out.extend(self.prompt(node.prompt))
                return node.next
            case SetNode():
                self._set(node)
                return node.next
            case ConditionNode():
                branch = next((b for b in node.branches if self.holds(b.when)), None)
                return node.otherwise if branch is None else branch.next
            case MenuNode() | GatherNode():
                self.out.append(self._ask(node))
                self.state.waiting = "input"
                return None
            case HttpNode():
                self.out.append(self._fetch(node))
                self.state.waiting = "http"
                return None
            case VoicemailNode():
                self.out.extend(self.prompt(node.prompt))
                self.out.append(Record(max_seconds=node.max_seconds))
                self.state.waiting = "recording"
                return None
            case CallbackNode():
                return self._callback(node)
            case _:
                self._leave(node)
                return None

    def _leave(self, node: EnqueueNode | TransferNode | HangupNode) -> None:
        if node.prompt is not None:
            self.out.extend(self.prompt(node.prompt))
        if isinstance(node, EnqueueNode):
            self.out.append(self._routed("queue", node.queue, node))
            self.state.queue = node.queue
            self._end("queued", hang_up=False)
        elif isinstance(node, TransferNode):
            self.out.append(Transfer(number=node.number))
            self._end("transferred", hang_up=False)
        else:
            self._end("contained")

    def _callback(self, node: CallbackNode) -> str | None:
        if not self.facts.caller_number:
            if node.fallback is not None:
                return node.fallback
            self._end("failed")
            return None
        self.out.append(self._routed("callback", node.queue, None))
        self.out.extend(self.prompt(node.prompt))
        self.state.queue = node.queue
        self._end("callback")
        return None

    def _end(self, outcome: Outcome, *, hang_up: bool = True) -> None:
        if hang_up:
            self.out.append(Hangup())
        self.state.outcome = outcome
        self.state.node = None
        self.state.waiting = None

    def _set(self, node: SetNode) -> None:
        self.state.attributes.update(node.attributes)
        if node.skills is not None:
            self.state.skills = list(node.skills)
        if node.priority is not None:
            self.state.priority = node.priority
        if node.language is not None:
            self.state.language = node.language

    def _routed(
        self,
        kind: Literal["queue", "voicemail", "callback"],
        queue: str,
        node: EnqueueNode | None,
        *,
        recording_url: str | None = None,
    ) -> Enqueue:
        skills = {s.skill: s for s in self.state.skills}
        priority = self.state.priority
        if node is not None:
            skills.update({s.skill: s for s in node.skills or []})
            priority = node.priority if node.priority is not None else priority
        return Enqueue(
            kind=kind,
            queue=queue,
            skills=list(skills.values()),
            priority=priority,
            language=self.state.language,
            attributes=dict(self.state.attributes),
            recording_url=recording_url,
        )

    def _ask(self, node: MenuNode | GatherNode) -> Gather:
        if isinstance(node, MenuNode):
            hints = [word for choice in node.choices.values() for word in choice.speech]
            return Gather(
                input="dtmf speech" if hints else "dtmf",
                language=self.state.language,
                timeout_seconds=node.timeout_seconds,
                num_digits=1,
                hints=hints,
                prompts=self.prompt(node.prompt),
            )
        fixed = node.min_length == node.max_length and "dtmf" in node.input
        return Gather(
            input=node.input,
            language=self.state.language,
            timeout_seconds=node.timeout_seconds,
            num_digits=node.max_length if fixed else None,
            finish_on_key=node.terminator,
            prompts=self.prompt(node.prompt),
        )

    def _fetch(self, node: HttpNode) -> Fetch:
        url = _PLACEHOLDER.sub(
            lambda m: quote(str(lookup(self.state.attributes, m.group(1)) or ""), safe=""),
            node.url,
        )
        return Fetch(
            url=url, method=node.method, timeout_seconds=node.timeout_seconds, retries=node.retries
        )

    # ------------------------------------------------------------ prompts and conditions

    def prompt(self, key: str) -> list[Say | Play]:
        prompt = self.flow.prompts[key]
        if prompt.all_languages:  # in the flow's order of languages (JSONB keeps no order)
            order = [*self.flow.languages, *sorted(set(prompt.text) - set(self.flow.languages))]
            return [
                Say(text=self._filled(prompt.text[lang]), language=lang, voice=prompt.voice)
                for lang in order
                if lang in prompt.text
            ]
        language = self.state.language
        fallback = self.flow.default_language
        audio = prompt.audio.get(language)
        if audio is not None:
            return [Play(url=audio, language=language)]
        text = prompt.text.get(language)
        if text is None:
            text = prompt.text.get(fallback) or next(iter(prompt.text.values()), None)
            if text is None:
                url = prompt.audio.get(fallback) or next(iter(prompt.audio.values()))
                return [Play(url=url, language=language)]
        return [Say(text=self._filled(text), language=language, voice=prompt.voice)]

    def _filled(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: _spoken(lookup(self.state.attributes, m[1])), text)

    def holds(self, check: Check) -> bool:
        match check:
            case HoursCheck():
                return is_open(self.flow.hours[check.hours].to_core(), self.now)
            case ValueCheck():
                return self.facts.value.matches(check)
            case KnownCheck():
                return self.facts.customer_known
            case LanguageCheck():
                return self.state.language in check.languages
            case TimeCheck():
                local = self.now.astimezone(ZoneInfo(check.timezone))
                day = WEEKDAY_NAMES[local.isoweekday() - 1]
                in_days = not check.days or day in check.days
                return in_days and check.start <= local.time() <= check.end
            case AttributeCheck():
                return attribute_matches(self.state.attributes, check)
        raise AssertionError(f"unknown check {check!r}")  # pragma: no cover


def valid_answer(node: GatherNode, value: str) -> bool:
    if not node.min_length <= len(value) <= node.max_length:
        return False
    return node.pattern is None or re.fullmatch(node.pattern, value) is not None


def attribute_matches(attributes: dict[str, Any], check: AttributeCheck) -> bool:
    value = lookup(attributes, check.name)
    if check.equals is not None:
        return bool(value == check.equals)
    if check.one_of is not None:
        return value in check.one_of
    return value is not None


def lookup(attributes: dict[str, Any], dotted: str) -> Any:
    """``order.status`` is attributes["order"]["status"] (or a flat "order.status" key)."""
    if dotted in attributes:
        return attributes[dotted]
    value: Any = attributes
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _spoken(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value)
