"""``contactd customers score [--as-of DATE]``: evaluate every customer now."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from typing import Annotated

import typer

from app.config import Settings
from app.customers.value.service import EvaluationReport, run_full_evaluation
from app.database import Database, create_engine
from app.logs import configure_logging
from app.migrations import upgrade
from app.runtime import resolve_database_url

customers_app = typer.Typer(help="Customers and their value.", no_args_is_help=True)


@customers_app.callback()
def customers() -> None:
    """Customers and their value."""


async def _score(url: str, as_of: datetime) -> EvaluationReport:
    db = Database(create_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.unit_of_work() as session:
            report = await run_full_evaluation(session, as_of=as_of, once_per_day=False)
    finally:
        await db.dispose()
    assert report is not None  # once_per_day=False always evaluates
    return report


@customers_app.command()
def score(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Evaluate as of this date (end of that day) or ISO time; default now.",
        ),
    ] = None,
) -> None:
    """Grade every customer and rank the value classes (replaces that day's evaluation)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        moment = _as_of(as_of, settings)
    except ValueError as exc:
        typer.echo(f"error: --as-of: {exc}", err=True)
        raise typer.Exit(2) from exc
    url = resolve_database_url(settings)
    upgrade(url)
    report = asyncio.run(_score(url, moment))
    typer.echo(
        f"evaluated {report.customers} customers as of {report.as_of.isoformat()}:"
        f" {report.changes} changes recorded (rules version {report.rules_version})"
    )


def _as_of(raw: str | None, settings: Settings) -> datetime:
    if raw is None:
        return datetime.now(settings.zone)
    if len(raw) == 10:
        day = date.fromisoformat(raw)
        return datetime.combine(day, time(23, 59, 59), tzinfo=settings.zone)
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=settings.zone)
