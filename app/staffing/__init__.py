"""Staffing math: how many agents a queue needs, and what a given staffing delivers."""

from app.staffing.erlang import (
    ErlangAResult,
    StaffingResult,
    agents_needed,
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
)

__all__ = [
    "ErlangAResult",
    "StaffingResult",
    "agents_needed",
    "average_speed_of_answer",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "service_level",
]
