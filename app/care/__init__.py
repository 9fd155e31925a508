"""Proactive care: rules that turn customer facts into outbound touches (docs/care.md)."""
