"""``contactd entry-points ...``: the same service as ``/api/v1/entry-points``, run on the
configured database in one unit of work per command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.database import Database, create_engine
from app.entry_points import service
from app.entry_points.schemas import (
    EntryChannel,
    EntryPointCreate,
    EntryPointOut,
    EntryPointUpdate,
)
from app.errors import AppError
from app.logs import configure_logging
from app.migrations import upgrade
from app.runtime import resolve_database_url

entry_points_app = typer.Typer(
    help="Numbers, mailboxes and chat widgets leading into queues.", no_args_is_help=True
)
Result = TypeVar("Result")


def _run(work: Callable[[AsyncSession, Settings], Awaitable[Result]]) -> Result:
    """Run ``work`` in one unit of work on the configured database; errors exit 1 or 2."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    url = resolve_database_url(settings)
    upgrade(url)

    async def in_unit_of_work() -> Result:
        db = Database(create_engine(url, pool_size=1, max_overflow=0))
        try:
            async with db.unit_of_work() as session:
                return await work(session, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(in_unit_of_work())
    except AppError as exc:
        typer.echo(f"error: {exc.message} {exc.details or ''}".rstrip(), err=True)
        raise typer.Exit(1) from exc


def _validated(build: Callable[[], Result]) -> Result:
    try:
        return build()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from exc


def describe(point: EntryPointOut) -> str:
    """One line per entry point: id, channel, address, queue, language."""
    greeting = f"  greeting: {point.greeting}" if point.greeting else ""
    return (
        f"{point.id:>4}  {point.channel:<6} {point.address:<32} -> {point.queue:<12} "
        f"{point.language}{greeting}"
    )


@entry_points_app.command("list")
def list_points(
    channel: Annotated[EntryChannel | None, typer.Option(help="voice, email or chat.")] = None,
    queue: Annotated[str | None, typer.Option(help="Only this queue's.")] = None,
) -> None:
    """List entry points."""

    async def work(session: AsyncSession, _: Settings) -> list[EntryPointOut]:
        return await service.all_entry_points(session, channel=channel, queue=queue)

    for point in _run(work):
        typer.echo(describe(point))


@entry_points_app.command("add")
def add(
    channel: Annotated[EntryChannel, typer.Argument(help="voice, email or chat.")],
    address: Annotated[str, typer.Argument(help="Phone number, mailbox address or widget key.")],
    queue: Annotated[str, typer.Option(help="The queue its contacts enter.")],
    language: Annotated[str, typer.Option(help="Language of its contacts.")] = "zh-CN",
    greeting: Annotated[str | None, typer.Option(help="Greeting callers hear.")] = None,
) -> None:
    """Add an entry point."""
    data = _validated(
        lambda: EntryPointCreate(
            channel=channel, address=address, queue=queue, language=language, greeting=greeting
        )
    )

    async def work(session: AsyncSession, settings: Settings) -> EntryPointOut:
        return await service.create_entry_point(session, data, settings.default_region)

    typer.echo(f"added {describe(_run(work)).strip()}")


@entry_points_app.command("update")
def update(
    entry_point_id: Annotated[int, typer.Argument(help="The entry point's id.")],
    address: Annotated[str | None, typer.Option(help="New address.")] = None,
    queue: Annotated[str | None, typer.Option(help="New queue.")] = None,
    language: Annotated[str | None, typer.Option(help="New language.")] = None,
    greeting: Annotated[str | None, typer.Option(help="New greeting ('' removes it).")] = None,
) -> None:
    """Change an entry point."""
    changes: dict[str, object] = {"address": address, "queue": queue, "language": language}
    fields = {name: value for name, value in changes.items() if value is not None}
    if greeting is not None:
        fields["greeting"] = greeting or None
    data = _validated(lambda: EntryPointUpdate.model_validate(fields))

    async def work(session: AsyncSession, settings: Settings) -> EntryPointOut:
        return await service.update_entry_point(
            session, entry_point_id, data, settings.default_region
        )

    typer.echo(f"updated {describe(_run(work)).strip()}")


@entry_points_app.command("remove")
def remove(entry_point_id: Annotated[int, typer.Argument(help="The entry point's id.")]) -> None:
    """Remove an entry point."""

    async def work(session: AsyncSession, _: Settings) -> None:
        await service.delete_entry_point(session, entry_point_id)

    _run(work)
    typer.echo(f"removed entry point {entry_point_id}")
