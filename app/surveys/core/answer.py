"""Whether a survey takes an answer now, and what an answer sets off. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

LOW_AT_MOST = 2  # a score of 1 or 2 opens (or reopens) a complaint case
Refusal = Literal["already_rated", "survey_expired"]


def refusal(answered_at: datetime | None, expires_at: datetime, now: datetime) -> Refusal | None:
    """Why the survey takes no answer at ``now`` (None: it takes one). A second answer is
    refused before an expired one: the customer's rating stands either way."""
    if answered_at is not None:
        return "already_rated"
    if now >= expires_at:
        return "survey_expired"
    return None


def is_low(score: int) -> bool:
    return score <= LOW_AT_MOST
