"""Inverted indexes over logged-in agents.

They are read only when a requirement group is created (a new combination of queue,
channel and requirements shows up), so that building its eligible-agent set looks at the
holders of its rarest skill instead of at every agent.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import Channel
from .records import AgentRec, SkillPairs

_NONE: dict[str, AgentRec] = {}


class AgentIndex:
    def __init__(self) -> None:
        self._by_skill: dict[str, dict[str, AgentRec]] = {}
        self._by_channel: dict[Channel, dict[str, AgentRec]] = {}
        self._by_queue: dict[str, dict[str, AgentRec]] = {}

    def add(self, agent: AgentRec) -> None:
        for skill, level in agent.skills.items():
            if level > 0:
                self._by_skill.setdefault(skill, {})[agent.id] = agent
        for channel, seats in agent.capacity.items():
            if seats > 0:
                self._by_channel.setdefault(channel, {})[agent.id] = agent
        for queue in agent.queues:
            self._by_queue.setdefault(queue, {})[agent.id] = agent

    def remove(self, agent: AgentRec) -> None:
        for index, keys in (
            (self._by_skill, agent.skills),
            (self._by_channel, agent.capacity),
            (self._by_queue, agent.queues),
        ):
            for key in keys:
                holders = index.get(key)
                if holders is not None:
                    holders.pop(agent.id, None)
                    if not holders:
                        del index[key]

    def candidates(self, channel: Channel, pairs: SkillPairs) -> Iterable[AgentRec]:
        """A superset of the agents that can serve these requirements on this channel."""
        smallest = self._by_channel.get(channel, _NONE)
        for skill, level in pairs:
            if level > 0:
                holders = self._by_skill.get(skill, _NONE)
                if len(holders) < len(smallest):
                    smallest = holders
        return smallest.values()

    def queue_members(self, queue: str) -> Iterable[AgentRec]:
        """Agents that list this queue explicitly (not the serve-any ones)."""
        return self._by_queue.get(queue, _NONE).values()
