"""The CSAT tests reuse the chat desk (queue, widget, agents, visitor sockets)."""

from __future__ import annotations

from tests.channels.chat.conftest import desk, live_desk, live_url  # noqa: F401
