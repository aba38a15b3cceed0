"""The ``pagemill`` command: serve, migrate, keys."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from pagemill import __version__, bootstrap, logs
from pagemill.api import create_app
from pagemill.domain.errors import PagemillError
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
    api = create_app(lambda: _serving(settings))
    uvicorn.run(
        api,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=10,
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
        async with bootstrap.open_runtime(settings) as runtime:
            if metrics_port is not None:
                runtime.serve_metrics(metrics_port)
            work = asyncio.create_task(
                run_queue_worker(runtime, queues=wanted, concurrency=concurrency)
            )
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                # Stopping: finish or hand back running steps before the queue worker goes.
                await runtime.services.engine.release_all(settings.shutdown_grace_seconds)
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
                reaped = await runtime.services.engine.reap()
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

    async def run() -> None:
        async with bootstrap.open_ledger(_settings(data_dir=data_dir, database_url=database_url)):
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


@contextlib.asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[Services]:
    async with bootstrap.open_runtime(settings) as runtime, embedded(runtime) as services:
        yield services


def main() -> None:
    try:
        app()
    except PagemillError as error:
        # A missing database or a bad URL is the operator's to fix: say so, no traceback.
        typer.echo(f"pagemill: {error.detail}", err=True)
        raise SystemExit(1) from error
    except ValueError as error:
        typer.echo(f"pagemill: {error}", err=True)
        raise SystemExit(2) from error
