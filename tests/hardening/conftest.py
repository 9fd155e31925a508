"""Hardening tests run against the chat desk (one chat queue, a widget, a live server)."""

from tests.channels.chat.conftest import desk, live_desk, live_url  # noqa: F401  (fixtures)
