"""``contactd simulate``: run the routing engine on a virtual clock and report per queue.

Register with ``app.command("simulate")(simulate)``. One queue of identical agents from
flags, or several queues, skills and agent groups from ``--scenario file.yaml``. When
the run is one queue served by agents with one line each, the Erlang C prediction (Erlang
A with ``patience_seconds``) is shown beside the simulated figures.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from pydantic import BaseModel

from app.routing.simulator import (
    QueueLoad,
    ScenarioError,
    ScenarioSpec,
    SimulationResult,
    SimulationSetup,
    parse_scenario,
    run_simulation,
    serves,
    setup_from_spec,
)
from app.staffing import erlang_a, erlang_c
from app.staffing.erlang import average_speed_of_answer, service_level

DEFAULT_AHT_SECONDS = 300.0
DEFAULT_SL_SECONDS = 20.0
ONE_QUEUE = "default"


def simulate(
    agents: Annotated[
        int | None, typer.Option(help="One-queue run: number of identical agents.")
    ] = None,
    arrival_rate_per_hour: Annotated[
        float | None, typer.Option(help="One-queue run: Poisson arrivals per hour.")
    ] = None,
    aht_seconds: Annotated[
        float | None, typer.Option(help="One-queue run: mean handle time (exponential).")
    ] = None,
    sl_seconds: Annotated[
        float | None, typer.Option(help="One-queue run: service level threshold.")
    ] = None,
    patience_seconds: Annotated[
        float | None, typer.Option(help="One-queue run: mean patience; none = never abandon.")
    ] = None,
    wrap_up_seconds: Annotated[
        float | None, typer.Option(help="One-queue run: fixed wrap-up after each contact.")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="YAML scenario: queues, skills, agents.", dir_okay=False),
    ] = None,
    hours: Annotated[
        float | None, typer.Option(help="Simulated hours (default: the scenario's, or 8).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the scenario's, or 1).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    replay: Annotated[
        tuple[datetime, datetime] | None,
        typer.Option(metavar="FROM TO", help="Replay the contacts recorded FROM TO (UTC) instead."),
    ] = None,
    routing_config: Annotated[
        Path | None,
        typer.Option(help="With --replay: routing document (JSON/YAML) to try; default: in force."),
    ] = None,
    agents_delta: Annotated[
        list[str] | None,
        typer.Option(
            metavar="QUEUE=+N",
            help="With --replay: N more (or, with -N, fewer) agents for a queue; repeatable.",
        ),
    ] = None,
    value_rules: Annotated[
        Path | None,
        typer.Option(
            help="With --replay: customer value rules (JSON/YAML) to try: each contact's"
            " customer re-graded under them as of its arrival.",
            dir_okay=False,
        ),
    ] = None,
    seeds: Annotated[
        int, typer.Option(min=1, max=100, help="With --replay: seeds to run (mean ± spread).")
    ] = 5,
) -> None:
    """Simulate routing on a virtual clock; compare one-queue runs with Erlang C / A.

    With --replay, contacts recorded in the database are replayed against a routing
    configuration, beside what really happened; --routing-config, --agents-delta and
    --value-rules try a change as its difference from that faithful replay.
    """
    if replay is not None:
        _replay(replay, routing_config, value_rules, json_output, agents_delta or [], seeds)
        return
    flags = _OneQueueFlags(
        agents, arrival_rate_per_hour, aht_seconds, sl_seconds, patience_seconds, wrap_up_seconds
    )
    try:
        setup = _setup(flags, scenario, hours, seed)
    except ScenarioError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    result = run_simulation(setup)
    prediction = erlang_prediction(setup)
    if json_output:
        typer.echo(json.dumps(_json_document(result, prediction), indent=2))
    else:
        typer.echo(render_table(setup, result, prediction))


def _replay(
    period: tuple[datetime, datetime],
    config: Path | None,
    value_rules: Path | None,
    json_output: bool,
    agents_delta: list[str],
    seeds: int,
) -> None:
    import asyncio

    from app.config import Settings
    from app.customers.value.rules_schemas import ValueRulesDocument
    from app.customers.value.rules_schemas import to_core as value_rules_core
    from app.routing.config_schemas import RoutingDocument
    from app.routing.replay import WhatIf, render_replay, replay_period
    from app.routing.replay_core import parse_agents_delta
    from app.runtime import resolve_database_url

    start, end = (moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in period)
    if end <= start:
        typer.echo("error: --replay needs FROM before TO", err=True)
        raise typer.Exit(2)
    document = None if config is None else _document(config, RoutingDocument)
    rules = None
    if value_rules is not None:
        rules = value_rules_core(_document(value_rules, ValueRulesDocument), version=0)
    try:
        deltas = parse_agents_delta(agents_delta)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    settings = Settings()
    url = resolve_database_url(settings)
    what_if = WhatIf(document, deltas, rules)
    try:
        report = asyncio.run(
            replay_period(url, start, end, what_if, seeds=seeds, zone=settings.zone)
        )
    except ValueError as error:  # e.g. a delta for a queue nobody serves
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(json.dumps(report, indent=2) if json_output else render_replay(report))


_Document = TypeVar("_Document", bound=BaseModel)


def _document(path: Path, model: type[_Document]) -> _Document:
    """A JSON/YAML document file read into ``model``; exit 2 saying why it cannot be."""
    try:
        return model.model_validate(yaml.safe_load(_read(path)))
    except (ScenarioError, ValueError, yaml.YAMLError) as error:
        typer.echo(f"error: {path}: {error}", err=True)
        raise typer.Exit(2) from error


# ----------------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class _OneQueueFlags:
    agents: int | None
    arrival_rate_per_hour: float | None
    aht_seconds: float | None
    sl_seconds: float | None
    patience_seconds: float | None
    wrap_up_seconds: float | None

    def given(self) -> list[str]:
        return [name for name in self.__slots__ if getattr(self, name) is not None]

    def as_scenario(self) -> dict[str, Any]:
        queue: dict[str, Any] = {
            "name": ONE_QUEUE,
            "arrival_rate_per_hour": self.arrival_rate_per_hour,
            "aht_seconds": _or(self.aht_seconds, DEFAULT_AHT_SECONDS),
            "sl_seconds": _or(self.sl_seconds, DEFAULT_SL_SECONDS),
            "patience_seconds": self.patience_seconds,
            "wrap_up_seconds": _or(self.wrap_up_seconds, 0.0),
        }
        group = {"name": "agent", "count": self.agents, "queues": [ONE_QUEUE]}
        return {"queues": [queue], "agents": [group]}


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _setup(
    flags: _OneQueueFlags, scenario: Path | None, hours: float | None, seed: int | None
) -> SimulationSetup:
    """``--hours`` and ``--seed`` override the scenario's; both default as documented."""
    if scenario is not None:
        if flags.given():
            options = ", ".join("--" + name.replace("_", "-") for name in flags.given())
            raise ScenarioError(f"{options}: one-queue options do not mix with --scenario")
        spec = parse_scenario(_read(scenario))
    else:
        if flags.agents is None or flags.arrival_rate_per_hour is None:
            raise ScenarioError("give --agents and --arrival-rate-per-hour, or --scenario FILE")
        spec = _validated(flags.as_scenario())
    if hours is not None and not (math.isfinite(hours) and hours > 0):
        raise ScenarioError(f"--hours must be > 0, got {hours}")
    setup = setup_from_spec(spec, hours=hours, seed=seed)
    if setup.measured_from >= setup.duration_seconds:
        raise ScenarioError("the warm-up (warmup_hours) must be shorter than --hours")
    return setup


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"cannot read {path}: {error.strerror or error}") from error


def _validated(document: dict[str, Any]) -> ScenarioSpec:
    from pydantic import ValidationError

    try:
        return ScenarioSpec.model_validate(document)
    except ValidationError as error:
        problems = [f"{_flag_name(problem['loc'])}: {problem['msg']}" for problem in error.errors()]
        raise ScenarioError("; ".join(problems)) from error


def _flag_name(location: tuple[int | str, ...]) -> str:
    field = str(location[-1])
    if field == "count":
        field = "agents"
    return "--" + field.replace("_", "-")


# ---------------------------------------------------------------- Erlang figures


def erlang_prediction(setup: SimulationSetup) -> dict[str, Any] | None:
    """Erlang C (or A) figures for a one-queue run, in the simulator's definitions.

    AHT for the formulas is handle time + wrap-up. Returns None for runs the formulas do
    not describe: several queues, skill mixes, agents with several lines or not serving.
    """
    load = _single_erlang_queue(setup)
    if load is None:
        return None
    aht = load.aht_seconds + setup.routing.queues[load.queue].wrap_up_seconds
    agents = len(setup.agents)
    if load.patience_seconds is None:
        return _erlang_c_figures(agents, load, aht)
    return _erlang_a_figures(agents, load, aht, load.patience_seconds)


def _single_erlang_queue(setup: SimulationSetup) -> QueueLoad | None:
    if len(setup.loads) != 1 or setup.loads[0].skill_mix:
        return None
    load = setup.loads[0]
    queue = setup.routing.queues[load.queue]
    for agent in setup.agents:
        if not serves(agent, queue) or agent.capacity.get(load.channel, 0) != 1:
            return None
    return load


def _erlang_c_figures(agents: int, load: QueueLoad, aht: float) -> dict[str, Any]:
    traffic = load.arrival_rate_per_hour * aht / 3600.0
    level = service_level(agents, traffic, aht, load.sl_seconds)
    return {
        "model": "erlang_c",
        "traffic_erlangs": traffic,
        "p_wait": erlang_c(agents, traffic),
        "asa_seconds": _finite(average_speed_of_answer(agents, traffic, aht)),
        "service_level": level,
        "service_level_of_offered": level,
        "occupancy": min(1.0, traffic / agents),
        "p_abandon": 0.0,
    }


def _erlang_a_figures(
    agents: int, load: QueueLoad, aht: float, patience_seconds: float
) -> dict[str, Any]:
    result = erlang_a(
        agents, load.arrival_rate_per_hour / 3600.0, aht, patience_seconds, load.sl_seconds
    )
    answered = 1.0 - result.p_abandon
    # the simulator's p_wait counts handled contacts only: those answered on arrival are
    # 1 - p_wait of all arrivals, the handled ones 1 - p_abandon
    waited_of_handled = 1.0 - (1.0 - result.p_wait) / answered if answered > 0 else None
    return {
        "model": "erlang_a",
        "traffic_erlangs": result.traffic_erlangs,
        "p_wait": waited_of_handled,
        "asa_seconds": _finite(result.asa_seconds),
        "service_level_of_offered": result.service_level,
        "occupancy": result.occupancy,
        "p_abandon": result.p_abandon,
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------- output


def _json_document(result: SimulationResult, prediction: dict[str, Any] | None) -> dict[str, Any]:
    document = result.as_dict()
    if prediction is not None:
        document["erlang"] = prediction
    return document


_COUNTS = ("offered", "handled", "abandoned", "unanswered")
_FRACTIONS = ("p_wait", "p_abandon", "service_level", "service_level_of_offered", "occupancy")
_SECONDS = ("asa_seconds", "wait_p50", "wait_p90", "wait_p99")


def _cell(name: str, value: object) -> str:
    if value is None:
        return "-"
    if name in _COUNTS:
        return f"{value:d}" if isinstance(value, int) else str(value)
    if name in _FRACTIONS and isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.1f} s"
    return str(value)


def render_table(
    setup: SimulationSetup, result: SimulationResult, prediction: dict[str, Any] | None
) -> str:
    hours = (result.measured_until - result.measured_from) / 3600.0
    lines = [
        f"simulated {setup.hours:g} h (seed {setup.seed}), measured the last {hours:g} h; "
        f"{len(setup.agents)} agents, occupancy {_cell('occupancy', result.occupancy)}"
    ]
    for stats in result.queues:
        lines.append("")
        lines.extend(_queue_table(stats.as_dict(), setup, prediction))
    return "\n".join(lines)


def _queue_table(
    stats: dict[str, Any], setup: SimulationSetup, prediction: dict[str, Any] | None
) -> list[str]:
    load = next((load for load in setup.loads if load.queue == stats["queue"]), None)
    title = f"queue {stats['queue']}"
    if load is not None:
        title += (
            f": {load.arrival_rate_per_hour:g}/h, AHT {load.aht_seconds:g} s, "
            f"service level threshold {load.sl_seconds:g} s"
        )
    header = f"  {'':<26}{'simulated':>12}"
    if prediction is not None:
        header += f"{prediction['model'].replace('_', ' ').title():>12}"
    lines = [title, header]
    for name in (*_COUNTS, *_FRACTIONS, *_SECONDS):
        row = f"  {name:<26}{_cell(name, stats.get(name)):>12}"
        if prediction is not None:
            row += f"{_cell(name, prediction.get(name)) if name in prediction else '':>12}"
        lines.append(row.rstrip())
    return lines
