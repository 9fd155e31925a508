"""Pure CSAT rules: signed survey links and the report's figures (no I/O)."""
