"""Walk a flow with given inputs, no phone and no database: each step and where it ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.ivr.engine import (
    CallerInput,
    Enqueue,
    Facts,
    Fetch,
    Instruction,
    RunState,
    Turn,
    advance,
    begin,
)
from app.ivr.flow import Flow
from app.skills.schemas import SkillLevel

Fetcher = Callable[[Fetch], Awaitable[CallerInput]]
NO_INPUT = ("", "-", "timeout", "none")


class DryStep(BaseModel):
    input: CallerInput
    entered: list[str]
    instructions: list[Instruction]
    waiting: str | None
    outcome: str | None


class DryRun(BaseModel):
    steps: list[DryStep]
    outcome: str | None  # None: the flow still waits for the caller
    queue: str | None
    language: str
    skills: list[dict[str, Any]]
    priority: int | None
    attributes: dict[str, Any]
    unused_inputs: int


def parse_input(token: str) -> CallerInput:
    """``1`` digits, ``timeout`` (or empty) no input, ``speech:sales``, ``recording:URL``."""
    text = token.strip()
    if text.lower() in NO_INPUT:
        return CallerInput(kind="no_input")
    kind, _, rest = text.partition(":")
    if kind in ("speech", "recording") and rest:
        return CallerInput(kind="speech" if kind == "speech" else "recording", value=rest)
    return CallerInput(kind="digits", value=text)


def _step(given: CallerInput, turn: Turn) -> DryStep:
    return DryStep(
        input=given,
        entered=[node for node, _ in turn.entered],
        instructions=turn.instructions,
        waiting=turn.state.waiting,
        outcome=turn.state.outcome,
    )


async def dry_run(
    flow: Flow,
    inputs: list[CallerInput],
    facts: Facts,
    now: datetime,
    fetch: Fetcher | None = None,
) -> DryRun:
    """Lookups go through ``fetch`` (none: every lookup fails and takes its fallback)."""
    steps: list[DryStep] = []
    state: RunState = begin(flow, facts)
    pending = list(inputs)
    given = CallerInput(kind="start")
    while True:
        turn = advance(flow, state, given, facts, now)
        steps.append(_step(given, turn))
        state = turn.state
        if state.done:
            break
        if state.waiting == "http":
            order = next(i for i in turn.instructions if isinstance(i, Fetch))
            given = await fetch(order) if fetch else CallerInput(kind="http_failed")
        elif pending:
            given = pending.pop(0)
        else:
            break
    return DryRun(
        steps=steps,
        outcome=state.outcome,
        queue=state.queue,
        language=state.language,
        skills=[s.model_dump() for s in _final_skills(steps, state)],
        priority=_final_priority(steps, state),
        attributes=state.attributes,
        unused_inputs=len(pending),
    )


def _routed(steps: list[DryStep]) -> Enqueue | None:
    for step in reversed(steps):
        for instruction in step.instructions:
            if isinstance(instruction, Enqueue):
                return instruction
    return None


def _final_skills(steps: list[DryStep], state: RunState) -> list[SkillLevel]:
    routed = _routed(steps)
    return list(routed.skills) if routed is not None else list(state.skills)


def _final_priority(steps: list[DryStep], state: RunState) -> int | None:
    routed = _routed(steps)
    return routed.priority if routed is not None else state.priority
