"""Decision traces: which agents an offer was weighed against and why others were not.

Traces are built for every offer, so they must stay cheap and small: they look only at the
few best entries of a group's agent heap and at a bounded sample of agents passed over.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from .model import AgentState, CandidateTrace, Channel
from .records import AgentRec, SkillPairs, agent_serves

MAX_WINNERS = 10
"""Best-scored eligible agents listed, the chosen one first."""
MAX_SKIPPED = 10
"""Agents listed as passed over, with the reason."""
_CACHE_LIMIT = 100_000


class TraceNotes:
    """Shares immutable candidate entries between traces.

    The same agents show up in trace after trace with the same score or the same reason;
    building a frozen dataclass each time would cost more than the rest of the decision.
    """

    def __init__(self) -> None:
        self._skipped: dict[tuple[str, str], CandidateTrace] = {}
        self._scored: dict[tuple[str, float, float], CandidateTrace] = {}

    def skipped(self, agent_id: str, reason: str) -> CandidateTrace:
        key = (agent_id, reason)
        note = self._skipped.get(key)
        if note is None:
            if len(self._skipped) >= _CACHE_LIMIT:
                self._skipped.clear()
            note = self._skipped[key] = CandidateTrace(agent_id, None, reason)
        return note

    def scored(self, agent_id: str, first: float, second: float) -> CandidateTrace:
        key = (agent_id, first, second)
        note = self._scored.get(key)
        if note is None:
            if len(self._scored) >= _CACHE_LIMIT:
                self._scored.clear()
            note = self._scored[key] = CandidateTrace(agent_id, (first, second))
        return note

    def unavailable(
        self, agent: AgentRec, channel: Channel, blocks: dict[Channel, tuple[Channel, ...]]
    ) -> CandidateTrace:
        """The agent's "cannot take it now" entry, kept on the agent until it changes."""
        note = self.skipped(agent.id, unavailable_reason(agent, channel, blocks))
        agent.unavailable_note = (agent.version, channel, note)
        return note

    def passed_over(
        self,
        *,
        eligible: Iterable[AgentRec],
        members: Iterable[AgentRec],
        queues: frozenset[str],
        channel: Channel,
        pairs: SkillPairs,
        blocks: dict[Channel, tuple[Channel, ...]],
        room: int,
    ) -> list[CandidateTrace]:
        """A bounded sample of agents that were not candidates, with the reason.

        First eligible agents that are busy or away, then queue members who lack a skill.
        Looks at no more than ``2 * room`` agents of each kind so the cost stays flat.
        """
        skipped: list[CandidateTrace] = []
        if room <= 0:
            return skipped
        for agent in islice(eligible, 2 * room):
            if channel in agent.free:
                continue
            cached = agent.unavailable_note  # inlined: this loop runs for every offer
            if cached is not None and cached[0] == agent.version and cached[1] == channel:
                skipped.append(cached[2])
            else:
                skipped.append(self.unavailable(agent, channel, blocks))
            if len(skipped) >= room:
                return skipped
        for agent in islice(members, 2 * room):
            if not agent_serves(agent, queues, channel, pairs):
                skipped.append(self.skipped(agent.id, unfit_reason(agent, queues, channel, pairs)))
                if len(skipped) >= room:
                    break
        return skipped


def unavailable_reason(
    agent: AgentRec, channel: Channel, blocks: dict[Channel, tuple[Channel, ...]]
) -> str:
    """Why an agent that could serve a contact cannot take it right now."""
    if agent.presence is AgentState.OFFLINE:
        return "offline"
    if agent.presence is AgentState.NOT_READY:
        return f"not ready ({agent.reason})" if agent.reason else "not ready"
    if agent.wrap_until is not None:
        return "wrap-up"
    if agent.load.get(channel, 0) >= agent.capacity.get(channel, 0):
        return "no capacity"
    for other, count in agent.load.items():
        if count and channel in blocks.get(other, ()):
            return f"blocked by {other} contact"
    return "busy"


def unfit_reason(
    agent: AgentRec, queues: frozenset[str], channel: Channel, pairs: SkillPairs
) -> str:
    """Why an agent of the queue cannot serve this contact at all."""
    if agent.capacity.get(channel, 0) <= 0:
        return f"no {channel} capacity"
    if agent.queues and agent.queues.isdisjoint(queues):
        return "not in queue"
    for skill, level in pairs:
        have = agent.skills.get(skill, 0)
        if have < level:
            return f"skill below: {skill} {have}<{level}" if have else f"missing skill: {skill}"
    return "eligible"
