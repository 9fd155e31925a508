"""``contactd import orders FILE.csv [--source NAME] [--dry-run] [--encoding utf-8|gb18030]``.

Exit codes: 0 every row imported (or unchanged), 1 some rows rejected (the rest kept), 2 the
file cannot be imported at all (nothing stored).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as Bar

from app.config import Settings
from app.database import Database, create_engine
from app.logs import configure_logging
from app.migrations import upgrade
from app.orders.core import DEFAULT_SOURCE
from app.orders.importer import ENCODINGS, ImportSummary, Progress, import_orders, scan
from app.orders.rows import BadFile
from app.runtime import resolve_database_url

import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)


@import_app.callback()
def imports() -> None:
    """Import data from files."""


@contextmanager
def _progress_bar(total: int) -> Iterator[Progress | None]:
    """A bar (rows, rows/s, ETA) on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeRemainingColumn(),
    )
    with Bar(*columns, transient=True) as bar:
        task = bar.add_task("import", total=total, rate="-")
        started = datetime.now(UTC)

        def advance(done: int) -> None:
            seconds = max((datetime.now(UTC) - started).total_seconds(), 1e-6)
            bar.update(task, completed=done, rate=f"{done / seconds:,.0f}")

        yield advance


def _summary_text(summary: ImportSummary, seconds: float) -> str:
    mode = "dry run, nothing stored: " if summary.dry_run else ""
    rate = summary.rows / seconds if seconds > 0 else 0
    text = (
        f"{mode}{summary.rows} rows in {seconds:.1f} s ({rate:,.0f} rows/s):"
        f" {summary.imported} imported, {summary.updated} updated,"
        f" {summary.unchanged} unchanged, {summary.rejected} rejected;"
        f" {summary.customers_created} customers created"
    )
    if not summary.dry_run:
        text += f", {summary.rescored} rescored (value classes follow at the next full evaluation)"
    return text


async def _import(url: str, path: Path, source: str, encoding: str, dry_run: bool) -> int:
    settings = Settings()
    total = scan(path, encoding)
    db = Database(create_engine(url, pool_size=2, max_overflow=0))
    started = datetime.now(UTC)
    try:
        with _progress_bar(total) as bar:
            summary = await import_orders(
                db,
                path,
                source=source,
                now=started,
                zone=settings.zone,
                region=settings.default_region,
                encoding=encoding,
                dry_run=dry_run,
                progress=bar,
                total=total,
            )
    finally:
        await db.dispose()
    typer.echo(_summary_text(summary, (datetime.now(UTC) - started).total_seconds()))
    for rejection in summary.rejections[:10]:
        typer.echo(f"  line {rejection.line}, {rejection.column}: {rejection.reason}", err=True)
    if summary.rejects_path is not None:
        typer.echo(f"rejected rows are in {summary.rejects_path}", err=True)
    return 1 if summary.rejected else 0


@import_app.command()
def orders(
    file: Annotated[Path, typer.Argument(help="The shop's CSV export.")],
    source: Annotated[
        str, typer.Option(help="The feed the order ids belong to (shop, tmall, jd, …).")
    ] = DEFAULT_SOURCE,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and count everything, store nothing.")
    ] = False,
    encoding: Annotated[
        str, typer.Option(help=f"The file's encoding: {', '.join(ENCODINGS)}.")
    ] = "utf-8",
) -> None:
    """Import orders: header row required, columns order_id, customer_id, customer_phone,
    customer_email, customer_name, placed_at, status, items, amount, currency."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    if not 0 < len(source.strip()) <= 64:
        typer.echo("error: --source needs 1 to 64 characters", err=True)
        raise typer.Exit(2)
    url = resolve_database_url(settings)
    upgrade(url)
    try:
        code = asyncio.run(_import(url, file, source.strip(), encoding, dry_run))
    except BadFile as error:
        typer.echo(f"error: {file}: {error}; nothing was imported", err=True)
        raise typer.Exit(2) from error
    raise typer.Exit(code)
