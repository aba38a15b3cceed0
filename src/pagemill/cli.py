"""The ``pagemill`` command: serve, migrate, keys, teams."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from pagemill import __version__, bootstrap, logs
from pagemill.api import create_app, http_server
from pagemill.domain.errors import PagemillError
from pagemill.domain.models import ApiKey
from pagemill.domain.teams import Member, Role
from pagemill.services.container import Services
from pagemill.settings import Settings
from pagemill.worker import embedded
from pagemill.worker.runner import run_queue_worker

app = typer.Typer(
    help="pagemill: self-hosted document pipelines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
teams_app = typer.Typer(help="Teams and their members.", no_args_is_help=True)
app.add_typer(teams_app, name="teams")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="State directory [env PAGEMILL_DATA_DIR].")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Ledger URL [env PAGEMILL_DATABASE_URL]."),
]
LiveUrl = Annotated[
    str | None,
    typer.Option(
        "--live-url", help="Live store URL, e.g. redis://host:6379/0 [env PAGEMILL_LIVE_URL]."
    ),
]


def _settings(**overrides: Any) -> Settings:
    # Options given on the command line win over the environment.
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    live_url: LiveUrl = None,
    workers: Annotated[
        int | None, typer.Option(help="In-process step workers (0: API only).")
    ] = None,
) -> None:
    """Run the API with in-process workers (embedded mode by default)."""
    settings = _settings(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        live_url=live_url,
        workers=workers,
    )
    _configure_logging(settings)
    issued = asyncio.run(bootstrap.first_run_key(settings))
    base_url = f"http://{settings.host}:{settings.port}"
    if issued is not None:
        typer.echo(f"Created team {issued.team.name!r} and its first API key (shown only once):")
        typer.echo(f"  {issued.secret}")
        typer.echo("Point the Datalab SDK at this server with:")
        typer.echo(f"  export DATALAB_HOST={base_url} DATALAB_API_KEY={issued.secret}")
    typer.echo(f"pagemill {__version__} serving on {base_url} (data in {settings.data_dir})")
    api = create_app(lambda: _serving(settings), bootstrap.request_limits(settings))
    http_server.serve(
        api,
        host=settings.host,
        port=settings.port,
        limits=http_server.ServerLimits(
            header_timeout_seconds=settings.header_read_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
            keep_alive_timeout_seconds=settings.keep_alive_timeout_seconds,
        ),
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def worker(
    queues: Annotated[
        str | None,
        typer.Option(help="Comma-separated step types to serve (default: all), e.g. convert."),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Steps run at once.")] = 2,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve Prometheus metrics on this port.")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    live_url: LiveUrl = None,
) -> None:
    """Run steps delivered by Procrastinate (scale-out: PostgreSQL ledger), on any machine."""
    settings = _settings(data_dir=data_dir, database_url=database_url, live_url=live_url)
    _configure_logging(settings)
    if not settings.uses_procrastinate():
        raise typer.BadParameter(
            "`pagemill worker` needs the PostgreSQL ledger (--database-url postgresql://…); "
            "the embedded server runs its own workers.",
            param_hint="--database-url",
        )
    wanted = [q.strip() for q in queues.split(",") if q.strip()] if queues else None

    async def run() -> None:
        async with bootstrap.open_runtime(settings, runs_steps=True) as runtime:
            if metrics_port is not None:
                runtime.serve_metrics(metrics_port)
            work = asyncio.create_task(
                run_queue_worker(runtime, queues=wanted, concurrency=concurrency)
            )
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                # Stopping: finish or hand back running steps before the queue worker goes.
                await runtime.services.runner.release_all(settings.shutdown_grace_seconds)
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                raise

    typer.echo(f"pagemill worker serving {', '.join(wanted) if wanted else 'every step type'}")
    _run_until_signal(run())


@app.command()
def reaper(
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between passes.")] = 10.0,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    live_url: LiveUrl = None,
) -> None:
    """Requeue steps whose worker died (lease expired). Workers also reap on a schedule; run
    this when no worker may be up, or to reap more often."""
    settings = _settings(data_dir=data_dir, database_url=database_url, live_url=live_url, workers=0)
    _configure_logging(settings)

    async def run() -> None:
        async with bootstrap.open_runtime(settings) as runtime:
            while True:
                reaped = await runtime.services.runner.reap()
                if reaped:
                    typer.echo(f"requeued {reaped} step(s) whose worker was lost", err=True)
                await asyncio.sleep(interval)

    _run_until_signal(run())


def _run_until_signal(main_coroutine: Coroutine[Any, Any, None]) -> None:
    """Run until SIGINT/SIGTERM, then cancel the work so it shuts down cleanly."""

    async def supervised() -> None:
        task = asyncio.ensure_future(main_coroutine)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(supervised())


def _configure_logging(settings: Settings) -> None:
    logs.configure(settings.log_format)


@app.command()
def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Create or upgrade the ledger schema."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    _configure_logging(settings)  # one line per migration applied

    async def run() -> None:
        async with bootstrap.open_ledger(settings):
            pass

    asyncio.run(run())
    typer.echo("The ledger schema is up to date.", err=True)


@keys_app.command("create")
def create_key(
    team: Annotated[str, typer.Option(help="Team name; created if it does not exist.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "default",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key and print only the key, so scripts can capture it."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    issued = asyncio.run(bootstrap.issue_key(settings, team, name))
    typer.echo(issued.secret)


TeamOption = Annotated[str, typer.Option(help="Team name or id.")]
T = TypeVar("T")


def _admin(settings: Settings, work: Callable[[bootstrap.Admin], Awaitable[T]]) -> T:
    """Run ``work`` with the operator's services; a refusal is a message and exit code 1."""

    async def run() -> T:
        async with bootstrap.open_admin(settings) as admin:
            return await work(admin)

    try:
        return asyncio.run(run())
    except PagemillError as error:
        typer.echo(f"pagemill: {error.detail}", err=True)
        raise typer.Exit(1) from error


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


@keys_app.command("list")
def list_keys(team: TeamOption, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List a team's keys (prefix, never the secret): tab-separated, revoked ones included."""

    async def work(admin: bootstrap.Admin) -> list[ApiKey]:
        found = await admin.teams.team_named(team)
        return await admin.keys.list_keys(found.id, actor=Role.OWNER)

    keys = _admin(_settings(data_dir=data_dir, database_url=database_url), work)
    typer.echo("id\tprefix\tname\tcreated\tlast_used\texpires\trevoked\tcreated_by")
    for k in keys:
        when = (_when(k.created), _when(k.last_used_at), _when(k.expires_at), _when(k.revoked_at))
        typer.echo("\t".join((k.id, k.prefix, k.name, *when, k.created_by or "-")))


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id (key_…), as `keys list` shows it.")],
    team: TeamOption,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key: it stops working within PAGEMILL_KEY_CACHE_SECONDS."""

    async def work(admin: bootstrap.Admin) -> ApiKey:
        found = await admin.teams.team_named(team)
        return await admin.keys.revoke_key(found.id, key_id, actor=Role.OWNER)

    revoked = _admin(_settings(data_dir=data_dir, database_url=database_url), work)
    typer.echo(f"revoked {revoked.id} ({revoked.prefix}…)", err=True)


@teams_app.command("create")
def create_team(
    name: Annotated[str, typer.Argument(help="The team's name (unique).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a team and print its id."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    team = _admin(settings, lambda admin: admin.teams.create_team(name))
    typer.echo(team.id)


@teams_app.command("list")
def list_teams(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List every team: id, name and creation time, tab-separated."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    for team in _admin(settings, lambda admin: admin.teams.list_teams()):
        typer.echo(f"{team.id}\t{team.name}\t{_when(team.created)}")


@teams_app.command("add-member")
def add_member(
    team: TeamOption,
    email: Annotated[str, typer.Option(help="The user's email; the user is created if new.")],
    role: Annotated[Role, typer.Option(help="owner, admin or member.")] = Role.MEMBER,
    name: Annotated[str | None, typer.Option(help="Display name of a new user.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a new user's password from stdin.")
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user to a team with a role. A new user's password is asked for (hidden) or read
    from stdin; an existing user keeps theirs."""
    settings = _settings(data_dir=data_dir, database_url=database_url)

    async def work(admin: bootstrap.Admin) -> tuple[Member, bool]:
        found = await admin.teams.team_named(team)
        password = None
        if not await admin.teams.user_exists(email):
            password = (
                sys.stdin.readline().rstrip("\r\n")
                if password_stdin
                else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
            )
        return await admin.teams.add_member(
            found.id, email, role, actor=Role.OWNER, name=name, password=password
        )

    member, created = _admin(settings, work)
    typer.echo(member.user_id)
    what = "created user" if created else "added user"
    typer.echo(f"{what} {member.email} to {team} as {member.role.value}", err=True)


@contextlib.asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[Services]:
    async with bootstrap.open_runtime(settings) as runtime, embedded(runtime) as services:
        yield services


def main() -> None:
    # Whatever pagemill creates (the ledger, secrets, blobs and their directories) is readable
    # by its own user only: nodes sharing a blob directory run as the same user.
    os.umask(0o077)
    try:
        app()
    except PagemillError as error:
        # A missing database or a bad URL is the operator's to fix: say so, no traceback.
        typer.echo(f"pagemill: {error.detail}", err=True)
        raise SystemExit(1) from error
    except ValueError as error:
        typer.echo(f"pagemill: {error}", err=True)
        raise SystemExit(2) from error
