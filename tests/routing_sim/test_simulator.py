"""The simulator drives the real routing engine; these tests need no database."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.routing.core.model import QueueConfig, RoutingConfig, SkillRequirement
from app.routing.simulate_cli import simulate
from app.routing.simulator import (
    ContactOutcome,
    QueueLoad,
    RecordedArrival,
    ScenarioError,
    SimulatedAgent,
    SimulationResult,
    SimulationSetup,
    parse_scenario,
    percentile,
    replay_arrivals,
    run_simulation,
    setup_from_spec,
)
from app.staffing import average_speed_of_answer, erlang_a, erlang_c, service_level

QUEUE_KEYS = {
    "queue",
    "offered",
    "handled",
    "abandoned",
    "p_wait",
    "asa_seconds",
    "service_level",
    "occupancy",
    "wait_p50",
    "wait_p90",
    "wait_p99",
}


def one_queue(
    agents: int,
    arrivals_per_hour: float,
    aht: float,
    hours: float,
    seed: int = 1,
    patience: float | None = None,
) -> SimulationSetup:
    return SimulationSetup(
        routing=RoutingConfig(queues={"q": QueueConfig("q")}),
        loads=(QueueLoad("q", arrivals_per_hour, aht, patience_seconds=patience),),
        agents=tuple(SimulatedAgent(f"a{i}", queues=("q",)) for i in range(agents)),
        hours=hours,
        seed=seed,
    )


# ------------------------------------------------------- agreement with Erlang


def batch_means(result: SimulationResult, metric: str, batches: int = 20) -> tuple[float, float]:
    """(mean, standard error) of a per-contact figure by the method of batch means.

    Successive contacts' waits are strongly correlated, so the naive binomial error of
    the run would be far too small. Cutting the measured period into 20 consecutive
    batches, each hundreds of AHTs long (far beyond the queue's relaxation time, ~10 AHT
    at 80% load on 10 agents), gives batch figures that are nearly independent: their
    spread / sqrt(20) estimates the error of the whole run's figure.
    """
    width = (result.measured_until - result.measured_from) / batches
    groups: list[list[ContactOutcome]] = [[] for _ in range(batches)]
    for contact in result.contacts:
        index = min(batches - 1, int((contact.arrived_at - result.measured_from) // width))
        groups[index].append(contact)
    values = [_figure(group, metric) for group in groups]
    return statistics.fmean(values), statistics.stdev(values) / math.sqrt(batches)


def _figure(contacts: list[ContactOutcome], metric: str) -> float:
    waits = [c.wait for c in contacts if c.wait is not None]
    if metric == "p_wait":
        return sum(1 for w in waits if w > 0) / len(waits)
    if metric == "asa_seconds":
        return math.fsum(waits) / len(waits)
    if metric == "service_level":
        return sum(1 for w in waits if w <= 20.0) / len(waits)
    if metric == "service_level_of_offered":
        return sum(1 for w in waits if w <= 20.0) / len(contacts)
    if metric == "wait_p90":
        return percentile(sorted(waits), 0.90) or 0.0
    if metric == "p_abandon":
        return sum(1 for c in contacts if c.abandoned_at is not None) / len(contacts)
    raise ValueError(metric)


# With 20 batches the standardised error follows Student's t with 19 degrees of freedom:
# |t| > 4 happens with probability < 0.1%, so a 4-standard-error band fails only on a
# real disagreement (the seed is fixed anyway, so the test is deterministic).
STANDARD_ERRORS = 4.0


@pytest.mark.slow
def test_one_fifo_queue_agrees_with_erlang_c() -> None:
    """10 agents, 96 contacts/hour of 300 s: 8 Erlangs, 80% occupancy, no abandonment.

    1,600 simulated hours, the first 160 discarded as warm-up: ~138,000 measured contacts,
    ~7 s. The standard errors come out near 0.008 for p_wait and service level and 4 s for
    ASA, so the 4-standard-error band is about +-0.03 and +-16 s.
    """
    result = run_simulation(one_queue(10, 96, 300, hours=1600, seed=7))
    (stats,) = result.queues
    p_wait = erlang_c(10, 8.0)  # 0.4092
    expected = {
        "p_wait": p_wait,
        "asa_seconds": average_speed_of_answer(10, 8.0, 300),  # 61.38 s
        "service_level": service_level(10, 8.0, 300, 20),  # 0.6419
        # P(wait > t) = C exp(-(N - A) t / AHT), so the 90th percentile is 211.3 s
        "wait_p90": 300 / (10 - 8) * math.log(p_wait / 0.10),
    }
    for metric, erlang in expected.items():
        mean, error = batch_means(result, metric)
        simulated = getattr(stats, metric)
        assert simulated == pytest.approx(mean, rel=0.02)  # whole run vs mean of batches
        assert abs(simulated - erlang) < STANDARD_ERRORS * error, (metric, simulated, erlang)
    # the band must be narrow enough to mean something
    assert batch_means(result, "p_wait")[1] < 0.012
    assert batch_means(result, "service_level")[1] < 0.012
    assert stats.wait_p50 == 0.0  # fewer than half wait: C < 0.5
    assert (stats.abandoned, stats.unanswered) == (0, 0)
    assert stats.occupancy == pytest.approx(0.80, abs=0.01)


@pytest.mark.slow
def test_one_queue_with_patience_agrees_with_erlang_a() -> None:
    """Same queue, callers with exponential patience of mean 120 s: Erlang A.

    300 hours (~26,000 measured contacts, ~1.5 s); standard errors ~0.003 for the abandon
    rate and ~0.007 for the service level of offered contacts, judged as above.
    """
    result = run_simulation(one_queue(10, 96, 300, hours=300, seed=3, patience=120))
    (stats,) = result.queues
    predicted = erlang_a(10, 96 / 3600, 300, 120, 20)
    for metric, erlang in [
        ("p_abandon", predicted.p_abandon),  # 0.0732
        ("service_level_of_offered", predicted.service_level),  # 0.8240
    ]:
        mean, error = batch_means(result, metric)
        assert abs(mean - erlang) < STANDARD_ERRORS * error, (metric, mean, erlang, error)
    assert stats.abandoned > 0
    assert stats.offered == stats.handled + stats.abandoned


# ---------------------------------------------------------------- replay hook


def test_replay_of_recorded_arrivals() -> None:
    """One agent and four recorded contacts, worked out by hand:

    c1 arrives at 0 and is handled 0-10; c2 arrives at 1 and waits for the agent until 10,
    then is handled 10-15; c3 arrives at 2, will wait 3 s and hangs up at 5; c4 arrives
    at 20 to an idle agent and is handled 20-21. Busy 16 of the 30 measured seconds.
    """
    setup = SimulationSetup(
        routing=RoutingConfig(queues={"sales": QueueConfig("sales")}),
        loads=(QueueLoad("sales", 0, 1, sl_seconds=5),),
        agents=(SimulatedAgent("ann", queues=("sales",)),),
        hours=30 / 3600,
        warmup_seconds=0.0,
    )
    arrivals = [
        RecordedArrival(20.0, "sales", "voice", None, 1.0),
        RecordedArrival(0.0, "sales", "voice", None, 10.0),
        RecordedArrival(1.0, "sales", "voice", None, 5.0),
        RecordedArrival(2.0, "sales", "voice", None, 7.0, patience_seconds=3.0),
    ]
    result = replay_arrivals(setup, arrivals)
    outcomes = {(c.arrived_at, c.answered_at, c.abandoned_at) for c in result.contacts}
    assert outcomes == {
        (0.0, 0.0, None),
        (1.0, 10.0, None),
        (2.0, None, 5.0),
        (20.0, 20.0, None),
    }
    (stats,) = result.queues
    assert (stats.offered, stats.handled, stats.abandoned) == (4, 3, 1)
    assert stats.p_wait == pytest.approx(1 / 3)
    assert stats.asa_seconds == pytest.approx(3.0)
    # within 5 s: c1 and c4; c3 gave up within the threshold and counts neither way
    assert stats.service_level == pytest.approx(2 / 3)
    assert stats.service_level_of_offered == pytest.approx(2 / 4)
    assert stats.occupancy == pytest.approx(16 / 30)


def test_replay_with_wrap_up_and_skills() -> None:
    """The French contact skips the agent without French; wrap-up delays the next one."""
    setup = SimulationSetup(
        routing=RoutingConfig(queues={"help": QueueConfig("help", wrap_up_seconds=4.0)}),
        loads=(QueueLoad("help", 0, 1),),
        agents=(
            SimulatedAgent("en", skills={"english": 3}),
            SimulatedAgent("fr", skills={"english": 1, "french": 2}),
        ),
        hours=60 / 3600,
        warmup_seconds=0.0,
    )
    french = (SkillRequirement("french", 1),)
    arrivals = [
        RecordedArrival(0.0, "help", "voice", french, 10.0),
        RecordedArrival(1.0, "help", "voice", french, 10.0),
    ]
    result = replay_arrivals(setup, arrivals)
    answered = sorted((c.arrived_at, c.answered_at) for c in result.contacts)
    # only "fr" speaks French: busy 0-10, wraps up 10-14, takes the second at 14
    assert answered == [(0.0, 0.0), (1.0, 14.0)]


def test_replay_rejects_unknown_queues() -> None:
    setup = one_queue(1, 0, 60, hours=1)
    with pytest.raises(ValueError, match="'elsewhere'"):
        replay_arrivals(setup, [RecordedArrival(1.0, "elsewhere", "voice", None, 5.0)])


def test_percentile_interpolates() -> None:
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.99) == 4.0
    assert percentile([0.0, 10.0], 0.5) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == pytest.approx(4.6)


# ----------------------------------------------------------------------- CLI


def cli_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Stands in for the contactd command group."""

    app.command("simulate")(simulate)
    return app


RUNNER = CliRunner()
ONE_QUEUE_ARGS = [
    "simulate",
    "--agents", "4",
    "--arrival-rate-per-hour", "40",
    "--aht-seconds", "300",
    "--sl-seconds", "20",
    "--hours", "20",
    "--seed", "5",
]  # fmt: skip


def run_cli(*args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(cli_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_json_shape() -> None:
    code, out, _ = run_cli(*ONE_QUEUE_ARGS, "--json")
    assert code == 0
    document = json.loads(out)
    (queue,) = document["queues"]
    assert queue.keys() >= QUEUE_KEYS
    assert queue["queue"] == "default"
    assert queue["offered"] == queue["handled"] > 500
    for key in ("p_wait", "service_level", "occupancy"):
        assert 0.0 <= queue[key] <= 1.0
    assert queue["wait_p50"] <= queue["wait_p90"] <= queue["wait_p99"]
    erlang = document["erlang"]
    assert erlang["model"] == "erlang_c"
    assert erlang["traffic_erlangs"] == pytest.approx(40 * 300 / 3600)
    assert erlang["p_wait"] == pytest.approx(erlang_c(4, 40 * 300 / 3600))


def test_cli_same_seed_same_json() -> None:
    first = run_cli(*ONE_QUEUE_ARGS, "--json", "--patience-seconds", "90")
    second = run_cli(*ONE_QUEUE_ARGS, "--json", "--patience-seconds", "90")
    other_seed = run_cli(*ONE_QUEUE_ARGS[:-1], "6", "--json", "--patience-seconds", "90")
    assert first[0] == 0
    assert first[1] == second[1]
    assert first[1] != other_seed[1]
    assert json.loads(first[1])["erlang"]["model"] == "erlang_a"


def test_cli_table() -> None:
    code, out, _ = run_cli(*ONE_QUEUE_ARGS)
    assert code == 0
    assert "queue default" in out
    assert "Erlang C" in out
    assert "service_level" in out


def test_cli_needs_a_queue() -> None:
    code, _, err = run_cli("simulate", "--agents", "3")
    assert code == 2
    assert "--arrival-rate-per-hour" in err


def test_cli_rejects_bad_one_queue_values() -> None:
    code, _, err = run_cli(*ONE_QUEUE_ARGS, "--aht-seconds", "0")
    assert code == 2
    assert "--aht-seconds" in err
    code, _, err = run_cli(*ONE_QUEUE_ARGS, "--hours", "-1")
    assert code == 2
    assert "--hours" in err


SCENARIO = """
hours: 6
warmup_hours: 1
seed: 11
queues:
  - name: sales
    arrival_rate_per_hour: 60
    aht_seconds: 240
    patience_seconds: 180
    skills: {sales: 1}
    skill_mix:
      - {share: 3, skills: {sales: 1, english: 1}}
      - {share: 1, skills: {sales: 1, french: 1}}
  - name: support
    channel: chat
    arrival_rate_per_hour: 30
    aht_seconds: 600
    wrap_up_seconds: 30
    skills: {support: 2}
agents:
  - name: seller
    count: 4
    skills: {sales: 3, english: 2}
  - name: bilingual
    count: 2
    skills: {sales: 2, english: 1, french: 3}
  - name: helper
    count: 3
    skills: {support: 4}
    capacity: {chat: 2}
    queues: [support]
"""


def test_cli_scenario(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    code, out, err = run_cli("simulate", "--scenario", str(path), "--json")
    assert code == 0, err
    document = json.loads(out)
    queues = {queue["queue"]: queue for queue in document["queues"]}
    assert queues.keys() == {"sales", "support"}
    assert all(queue.keys() >= QUEUE_KEYS for queue in queues.values())
    assert queues["sales"]["handled"] > 0
    assert queues["support"]["handled"] > 0
    assert queues["support"]["abandoned"] == 0
    assert queues["sales"]["unanswered"] == queues["support"]["unanswered"] == 0
    assert "erlang" not in document  # two queues: no closed form to compare with
    code, table, _ = run_cli("simulate", "--scenario", str(path))
    assert code == 0
    assert "queue sales" in table
    assert "queue support" in table


def test_scenario_builds_the_setup() -> None:
    setup = setup_from_spec(parse_scenario(SCENARIO))
    assert setup.hours == 6
    assert setup.seed == 11
    assert setup.measured_from == 3600
    assert [agent.agent_id for agent in setup.agents][:5] == [
        "seller-1", "seller-2", "seller-3", "seller-4", "bilingual-1",
    ]  # fmt: skip
    assert setup.routing.queues["support"].skills == (SkillRequirement("support", 2),)
    sales = setup.loads[0]
    assert [mix.share for mix in sales.skill_mix] == [3, 1]
    assert setup.agents[-1].capacity == {"chat": 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("queues: [", "not valid YAML"),
        ("- just a list", "YAML mapping"),
        ("agents: [{name: a}]", "queues: Field required"),
        (
            "queues: [{name: q, arrival_rate_per_hour: 10, aht_seconds: -5}]\nagents: [{name: a}]",
            "queues.0.aht_seconds: Input should be greater than 0",
        ),
        (
            "queues: [{name: q, arrival_rate_per_hour: 10, aht_seconds: 5}]\n"
            "agents: [{name: a, queues: [nope]}]",
            "serves unknown queues ['nope']",
        ),
        (
            "queues: [{name: q, arrival_rate_per_hour: 10, aht_seconds: 5, colour: red}]\n"
            "agents: [{name: a}]",
            "queues.0.colour: Extra inputs are not permitted",
        ),
        (
            "queues: [{name: q, arrival_rate_per_hour: 10, aht_seconds: 5},"
            " {name: q, arrival_rate_per_hour: 1, aht_seconds: 5}]\n"
            "agents: [{name: a}]",
            "queue names must be unique",
        ),
        (
            "queues: [{name: q, arrival_rate_per_hour: 10, aht_seconds: 5, skills: {x: 9}}]\n"
            "agents: [{name: a}]",
            "queues.0.skills.x: Input should be less than or equal to 5",
        ),
        (
            "hours: 2\nwarmup_hours: 2\n"
            "queues: [{name: q, arrival_rate_per_hour: 10, aht_seconds: 5}]\n"
            "agents: [{name: a}]",
            "warmup_hours must be shorter than hours",
        ),
        (
            "queues: [{name: q, arrival_rate_per_hour: 10, aht_seconds: 5, channel: fax}]\n"
            "agents: [{name: a}]",
            "queues.0.channel: Input should be 'voice', 'chat' or 'email'",
        ),
    ],
)
def test_scenario_validation_errors(text: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert message in str(caught.value)


def test_cli_reports_scenario_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("queues: []\nagents: [{name: a}]\n", encoding="utf-8")
    code, out, err = run_cli("simulate", "--scenario", str(path))
    assert code == 2
    assert out == ""
    assert "invalid scenario" in err
    assert "queues" in err
    code, _, err = run_cli("simulate", "--scenario", str(path), "--agents", "3")
    assert code == 2
    assert "do not mix" in err
    code, _, err = run_cli("simulate", "--scenario", str(tmp_path / "missing.yaml"))
    assert code == 2
    assert "cannot read" in err
