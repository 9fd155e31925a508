"""Fixed-window request counters shared by every instance (PostgreSQL)."""
