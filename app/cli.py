"""The `contactd` command: serve, migrate, create users, load the demo, simulate."""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import Annotated

import typer
import uvicorn

from app.config import Settings
from app.customers.value.cli import customers_app
from app.demo.mode import (
    DEMO_SMTP_PORT,
    DemoCredentialsRefused,
    credentials,
    demo_environment,
    refuse_demo_credentials,
)
from app.entry_points.cli import entry_points_app
from app.ivr.cli import ivr_app
from app.logs import configure_logging
from app.orders.cli import import_app
from app.routing.simulate_cli import simulate
from app.runtime import resolve_database_url
from app.tryout.cli import try_app
from app.users.models import Role

WORKER_STARTUP_SECONDS = 60
"""How long ``serve --workers N`` waits for a worker to answer its health check (uvicorn
kills and replaces a worker that does not). A new worker imports the whole app before it
can answer, about 6 s of CPU: under uvicorn's default of 5 s a 2-core machine never gets a
worker started. A hung worker is replaced after this long too."""

cli = typer.Typer(help="contactd: an open-source contact-center backend.", no_args_is_help=True)


def _database_url(settings: Settings) -> str:
    """The configured URL, or the embedded server's (started and kept for this process)."""
    return resolve_database_url(settings)


def _migrate(url: str) -> None:
    from app.migrations import upgrade

    upgrade(url)


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the latest migration."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    _migrate(_database_url(settings))
    typer.echo("database schema is at the latest migration")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    demo: Annotated[
        bool,
        typer.Option(
            help="Demo mode: load the demo contact center if the database is empty, and fill "
            "in what is not configured (demo Twilio token and CTI secret, SMTP on port "
            f"{DEMO_SMTP_PORT})."
        ),
    ] = False,
    smtp_port: Annotated[
        int | None, typer.Option(help="Also accept email over SMTP on this port.")
    ] = None,
) -> None:
    """Migrate to the latest schema, then serve the API."""
    if smtp_port is not None:
        os.environ["CONTACTD_SMTP_PORT"] = str(smtp_port)
    settings = Settings()
    bind_host, bind_port = host or settings.host, port or settings.port
    if demo:
        os.environ.update(demo_environment(settings, bind_host, bind_port))
        settings = Settings()
    try:
        refuse_demo_credentials(settings)
    except DemoCredentialsRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if workers > 1 and settings.bus_url is None:
        typer.echo(
            "error: --workers needs CONTACTD_BUS_URL (e.g. redis://127.0.0.1:6379/0): worker"
            " processes reach each other's sockets only through the bus.",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_json)
    url = _database_url(settings)
    _migrate(url)
    # Workers are separate processes: hand them the one database and one token key.
    os.environ["CONTACTD_DATABASE_URL"] = url
    if settings.jwt_secret is None:
        os.environ["CONTACTD_JWT_SECRET"] = secrets.token_urlsafe(32)
        if not demo:
            typer.echo("CONTACTD_JWT_SECRET is unset: tokens issued now end with this process.")
    served = f"http://{bind_host}:{bind_port}"
    if demo:
        typer.echo(_demo_guide(url, settings, served))
    else:
        typer.echo(f"contactd is serving on {served} (API docs at /docs)")
    uvicorn.run(
        "app.main:create_served_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
        log_config=None,
        access_log=False,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


def _demo_guide(url: str, settings: Settings, served: str) -> str:
    from app.demo.guide import guide
    from app.demo.run import load_demo_if_empty

    run = asyncio.run(load_demo_if_empty(url, settings.default_region))
    text = guide(
        url=served,
        logins=run.logins,
        entry_points=run.entry_points,
        ivr_numbers=run.ivr_numbers,
        credentials=credentials(settings),
        smtp_host=settings.smtp_hostname,
    )
    return f"{run.summary}\n{text}"


@cli.command("create-user")
def create_user(
    username: Annotated[
        str, typer.Argument(help="Login name (lower-case letters, digits, . _ -).")
    ],
    role: Annotated[Role, typer.Option(help="agent, supervisor or admin.")] = Role.AGENT,
    password: Annotated[
        str | None, typer.Option(help="Leave out to be asked (or to get a generated one).")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown to others.")] = None,
) -> None:
    """Create a user who can sign in."""
    from app.users.schemas import UserCreate

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    generated = password is None and not os.isatty(0)
    if password is None:
        password = (
            secrets.token_urlsafe(12)
            if generated
            else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        )
    try:
        data = UserCreate(
            username=username, display_name=display_name or username, role=role, password=password
        )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    url = _database_url(settings)
    _migrate(url)
    user_id = asyncio.run(_create_user(url, data))
    typer.echo(f"created {role.value} '{data.username}' (id {user_id})")
    if generated:
        typer.echo(f"password: {password}")


async def _create_user(url: str, data: object) -> int:
    from app.database import Database, create_engine
    from app.errors import AppError
    from app.users.schemas import UserCreate
    from app.users.service import create_user as create

    assert isinstance(data, UserCreate)
    db = Database(create_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.unit_of_work() as session:
            user = await create(session, data)
            return user.id
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    finally:
        await db.dispose()


@cli.command()
def demo() -> None:
    """Load the demo contact center (only into an empty database)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    url = _database_url(settings)
    _migrate(url)
    _load_demo(url, settings)


def _load_demo(url: str, settings: Settings) -> None:
    from app.demo.run import load_demo_if_empty

    run = asyncio.run(load_demo_if_empty(url, settings.default_region, settings.zone))
    typer.echo(run.summary)
    if run.logins:
        typer.echo("sign in with:")
    for login in run.logins:
        typer.echo(f"  {login.username:<14} {login.role:<11} {login.password}")


cli.command("simulate")(simulate)
cli.add_typer(ivr_app, name="ivr", help="Try IVR call flows without a phone.")
cli.add_typer(customers_app, name="customers", help="Customers and their value.")
cli.add_typer(import_app, name="import", help="Import data from files (orders).")
cli.add_typer(try_app, name="try", help="Try each channel against a running contactd.")
cli.add_typer(
    entry_points_app,
    name="entry-points",
    help="Numbers, mailboxes and chat widgets leading into queues.",
)


def main() -> None:
    cli()
