"""Consistency checks over the engine's internal state, recomputed the slow, obvious way.

For tests and debugging only: the cost is O(agents x (contacts + groups)).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

from .model import AgentState, Channel, ContactStatus
from .records import (
    AgentRec,
    ContactRec,
    Group,
    agent_serves,
    base_requirements,
    matching_value_rules,
    requirements_after_steps,
)

if TYPE_CHECKING:
    from .engine import RoutingEngine

_KINDS = ("offer", "step", "pin", "wrap", "cooldown")


def find_violations(engine: RoutingEngine) -> list[str]:
    return [
        *_contact_problems(engine),
        *_line_problems(engine),
        *_agent_problems(engine),
        *_group_problems(engine),
        *_timer_problems(engine),
        *_work_conservation_problems(engine),
    ]


def _live_contact_ids(engine: RoutingEngine, group: Group) -> set[str]:
    live = set()
    for _, _, _, version, contact_id in group.contacts:
        contact = engine._contacts.get(contact_id)
        if contact is not None and contact.version == version:
            live.add(contact_id)
    return live


def _live_agent_ids(engine: RoutingEngine, group: Group) -> set[str]:
    live = set()
    for _, _, agent_id, version in group.agents:
        agent = engine._agents.get(agent_id)
        if agent is not None and agent.version == version:
            live.add(agent_id)
    return live


def _contact_problems(engine: RoutingEngine) -> list[str]:
    problems: list[str] = []
    live_in_group = {key: _live_contact_ids(engine, g) for key, g in engine._groups.items()}
    for contact_id, c in engine._contacts.items():
        where = f"contact {contact_id} ({c.status})"
        if c.id != contact_id:
            problems.append(f"{where}: filed under the wrong id {c.id}")
        queue = engine._config.queues.get(c.queue)
        if queue is None:
            problems.append(f"{where}: unknown queue {c.queue}")
            continue
        if c.status is not ContactStatus.ASSIGNED:
            rules = matching_value_rules(queue.value_skills, c.value_tags)
            base = base_requirements(c.skills, queue, rules)
            reqs, overflow = requirements_after_steps(base, queue.steps, c.step)
            if (reqs, overflow) != (c.reqs, c.overflow):
                problems.append(f"{where}: requirements {c.reqs} should be {reqs}")
        if c.pin_direct and c.pinned_to is None:
            problems.append(f"{where}: direct pin without a target")
        if c.status is ContactStatus.WAITING:
            if engine._waiting.get((c.queue, c.channel), {}).get(contact_id) is not c:
                problems.append(f"{where}: missing from the waiting line of its queue")
            if c.agent_id is not None:
                problems.append(f"{where}: waiting but linked to agent {c.agent_id}")
            if c.pinned_to is not None:
                if c.group is not None:
                    problems.append(f"{where}: pinned to {c.pinned_to} and in a group")
                if engine._pins.get(c.pinned_to, {}).get(contact_id) is not c:
                    problems.append(f"{where}: pinned to {c.pinned_to} but not in its pin list")
            else:
                group = engine._groups.get(c.group_key)
                if group is None or c.group is not group:
                    problems.append(f"{where}: not in the group of its requirements")
                elif contact_id not in live_in_group[c.group_key]:
                    problems.append(f"{where}: no live entry in its group's heap")
            continue
        if c.group is not None:
            problems.append(f"{where}: still in a group")
        agent = engine._agents.get(c.agent_id or "")
        held = None
        if agent is not None:
            held = agent.offers if c.status is ContactStatus.OFFERED else agent.assigned
        if held is None or held.get(contact_id) is not c:
            problems.append(f"{where}: agent {c.agent_id} does not hold it")
        if c.status is ContactStatus.ASSIGNED and c.cooldowns:
            problems.append(f"{where}: assigned but has cooldowns")
    return problems


def _line_problems(engine: RoutingEngine) -> list[str]:
    problems: list[str] = []
    for (queue, channel), line in engine._waiting.items():
        if not line:
            problems.append(f"empty waiting line {queue}/{channel} kept")
        for contact_id, c in line.items():
            if engine._contacts.get(contact_id) is not c or c.status is not ContactStatus.WAITING:
                problems.append(f"waiting line {queue}/{channel} holds stale {contact_id}")
            elif (c.queue, c.channel) != (queue, channel):
                problems.append(f"{contact_id} sits in line {queue}/{channel}, not its own")
    for agent_id, pins in engine._pins.items():
        if not pins:
            problems.append(f"empty pin list kept for {agent_id}")
        for contact_id, c in pins.items():
            if (
                engine._contacts.get(contact_id) is not c
                or c.status is not ContactStatus.WAITING
                or c.pinned_to != agent_id
            ):
                problems.append(f"pin list of {agent_id} holds stale {contact_id}")
    return problems


def _held_load(agent: AgentRec) -> Counter[Channel]:
    load: Counter[Channel] = Counter()
    for c in (*agent.offers.values(), *agent.assigned.values()):
        load[c.channel] += 1
    return load


def _agent_problems(engine: RoutingEngine) -> list[str]:
    problems: list[str] = []
    live_agents = {key: _live_agent_ids(engine, g) for key, g in engine._groups.items()}
    for agent_id, a in engine._agents.items():
        where = f"agent {agent_id}"
        for c in a.offers.values():
            if c.status is not ContactStatus.OFFERED or c.agent_id != agent_id:
                problems.append(f"{where}: holds offer {c.id} that is {c.status}/{c.agent_id}")
        for c in a.assigned.values():
            if c.status is not ContactStatus.ASSIGNED or c.agent_id != agent_id:
                problems.append(f"{where}: holds {c.id} that is {c.status}/{c.agent_id}")
        load = _held_load(a)
        recorded = {channel: n for channel, n in a.load.items() if n}
        if recorded != dict(load):
            problems.append(f"{where}: load {recorded} but holds {dict(load)}")
        if a.free != engine._free_channels(a):
            problems.append(f"{where}: free channels {set(a.free)} are out of date")
        if a.presence is not AgentState.AVAILABLE and a.wrap_until is not None:
            problems.append(f"{where}: in wrap-up while {a.presence}")
        for key in a.groups:
            if engine._groups.get(key) is not a.groups[key]:
                problems.append(f"{where}: linked to a dropped group {key}")
        for key, group in engine._groups.items():
            serves = agent_serves(a, group.queues, group.channel, group.pairs)
            if serves != (agent_id in group.eligible) or serves != (key in a.groups):
                problems.append(f"{where}: group membership of {key} is wrong (serves={serves})")
            if serves and group.channel in a.free and agent_id not in live_agents[key]:
                problems.append(f"{where}: free but missing from the agent heap of {key}")
    return problems


def _group_problems(engine: RoutingEngine) -> list[str]:
    problems: list[str] = []
    members: Counter[int] = Counter(
        id(c.group) for c in engine._contacts.values() if c.group is not None
    )
    for key, group in engine._groups.items():
        if group.key != key:
            problems.append(f"group filed under {key} has key {group.key}")
        if group.n_waiting != members[id(group)]:
            problems.append(f"group {key}: n_waiting {group.n_waiting} != {members[id(group)]}")
    return problems


def _timer_problems(engine: RoutingEngine) -> list[str]:
    problems: list[str] = []
    live: set[tuple[int, str, str, float]] = set()
    for due, _, kind, key, sub, token in engine._timers:
        if engine._timer_live(kind, key, sub, token):
            live.add((kind, key, sub, token))
            if due <= engine._now and kind != 0:
                problems.append(f"{_KINDS[kind]} timer for {key} due {due} did not fire")
    for c in engine._contacts.values():
        if c.status is ContactStatus.OFFERED and (0, c.id, "", c.offer_token) not in live:
            problems.append(f"offer of {c.id} has no deadline timer")
        if c.status is ContactStatus.ASSIGNED:
            continue
        steps = engine._config.queues[c.queue].steps
        if c.step < len(steps) and (1, c.id, "", c.step_token) not in live:
            problems.append(f"contact {c.id} has no timer for step {c.step + 1}")
        if c.pinned_to is not None and not c.pin_direct and (2, c.id, "", c.pin_token) not in live:
            problems.append(f"contact {c.id} has no timer for its preference window")
        for agent_id, until in c.cooldowns.items():
            if (4, c.id, agent_id, until) not in live:
                problems.append(f"cooldown of {c.id} for {agent_id} has no timer")
    for a in engine._agents.values():
        wrap = a.wrap_until
        if wrap is not None and wrap != math.inf and (3, a.id, "", a.wrap_token) not in live:
            problems.append(f"wrap-up of {a.id} has no timer")
    return problems


def naive_eligible(engine: RoutingEngine, agent: AgentRec, contact: ContactRec, now: float) -> bool:
    """Whether the agent could be offered the contact right now, from first principles."""
    if agent.presence is not AgentState.AVAILABLE or agent.wrap_until is not None:
        return False
    load = _held_load(agent)
    channel = contact.channel
    if load[channel] >= agent.capacity.get(channel, 0):
        return False
    blocks = engine._config.cross_channel_blocks
    if any(n > 0 and channel in blocks.get(other, ()) for other, n in load.items()):
        return False
    if contact.cooldowns.get(agent.id, -math.inf) > now:
        return False
    if contact.pinned_to is not None:
        if contact.pinned_to != agent.id:
            return False
        if contact.pin_direct:
            return True
    queues = {contact.queue, *contact.overflow}
    if agent.queues and not agent.queues & queues:
        return False
    return all(agent.skills.get(r.skill, 0) >= r.min_level for r in contact.reqs)


def _work_conservation_problems(engine: RoutingEngine) -> list[str]:
    problems: list[str] = []
    now = engine._now
    for c in engine._contacts.values():
        if c.status is not ContactStatus.WAITING:
            continue
        for a in engine._agents.values():
            if naive_eligible(engine, a, c, now):
                problems.append(f"work not conserved: {c.id} waits while {a.id} could take it")
    return problems
