"""``contactd ivr try FLOW --digits 1,2``: walk a flow file without a phone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from app.errors import InvalidInput
from app.ivr.demo import DEMO_FLOW_FILE, load_document
from app.ivr.dryrun import DryRun, dry_run, parse_input
from app.ivr.engine import CallerValue, Facts, Gather, Say
from app.ivr.lookup import Lookups
from app.ivr.store import parse_flow

ivr_app = typer.Typer(help="IVR call flows.", no_args_is_help=True)


@ivr_app.callback()
def ivr() -> None:
    """IVR call flows."""


@ivr_app.command("try")
def try_flow(
    flow: Annotated[
        str, typer.Argument(help="A flow file (YAML or JSON), or 'demo' for the demo flow.")
    ],
    digits: Annotated[
        str,
        typer.Option(help="Inputs, comma-separated: 1,2,timeout,speech:sales,123456#"),
    ] = "",
    grade: Annotated[
        str | None, typer.Option(help="The caller's grade: P, G, S or B (a known customer).")
    ] = None,
    vip: Annotated[bool, typer.Option(help="The caller is a VIP (a known customer).")] = False,
    value_class: Annotated[
        str | None, typer.Option(help="The caller's value class: key, major or normal.")
    ] = None,
    segment: Annotated[
        list[str] | None, typer.Option(help="A segment the caller belongs to (repeatable).")
    ] = None,
    language: Annotated[str | None, typer.Option(help="The customer's language.")] = None,
    at: Annotated[
        datetime | None, typer.Option(help="The time of the call (ISO 8601, default now).")
    ] = None,
    lookup_base: Annotated[
        str | None, typer.Option(help="Perform HTTP lookups against this base URL.")
    ] = None,
) -> None:
    """Show each step of a call through FLOW and where it would end."""
    path = DEMO_FLOW_FILE if flow == "demo" else Path(flow)
    try:
        parsed = parse_flow(load_document(path))
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except InvalidInput as exc:
        typer.echo(f"error: {exc.message} {exc.details or ''}", err=True)
        raise typer.Exit(1) from exc
    when = at if at is None or at.tzinfo is not None else at.replace(tzinfo=UTC)
    facts = Facts(
        caller_number="+8613800000000",
        customer_known=bool(grade or vip or value_class or segment),
        value=CallerValue(
            grade=grade,
            status="graded" if grade else "prospect",
            vip=vip,
            value_class=value_class or "normal",
            segments=tuple(segment or ()),
        ),
        customer_language=language,
    )
    inputs = [parse_input(token) for token in digits.split(",")] if digits else []
    fetch = Lookups(base_url=lookup_base).fetch if lookup_base else None
    result = asyncio.run(dry_run(parsed, inputs, facts, when or datetime.now(UTC), fetch))
    typer.echo(describe(result))


def describe(result: DryRun) -> str:
    lines: list[str] = []
    for number, step in enumerate(result.steps, 1):
        given = (
            step.input.kind if step.input.value is None else f"{step.input.kind} {step.input.value}"
        )
        lines.append(f"{number}. [{given}] -> {' > '.join(step.entered) or '(same node)'}")
        for instruction in step.instructions:
            lines.append(f"     {_line(instruction)}")
    end = result.outcome or "waiting for the caller"
    where = f" in queue {result.queue}" if result.queue else ""
    skills = ", ".join(f"{s['skill']}:{s['level']}" for s in result.skills) or "-"
    lines.append(
        f"ends: {end}{where}; language {result.language}; skills {skills}; "
        f"priority {result.priority if result.priority is not None else 'default'}"
    )
    if result.unused_inputs:
        lines.append(f"({result.unused_inputs} input(s) not used)")
    return "\n".join(lines)


def _line(instruction: object) -> str:
    if isinstance(instruction, Say):
        return f"say [{instruction.language}] {instruction.text}"
    if isinstance(instruction, Gather):
        said = " / ".join(p.text if isinstance(p, Say) else p.url for p in instruction.prompts)
        return f"gather {instruction.input} [{instruction.language}]: {said}"
    dump = instruction.model_dump(exclude_none=True)  # type: ignore[attr-defined]
    kind = dump.pop("type")
    return f"{kind} {dump}" if dump else str(kind)
