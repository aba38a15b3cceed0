"""``pagemill worker`` and ``pagemill reaper``: the scale-out processes next to the API."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from pagemill import bootstrap
from pagemill.cli.common import (
    DatabaseUrl,
    DataDir,
    LiveUrl,
    configure_logging,
    run_until_signal,
    settings_from,
)
from pagemill.worker.runner import run_queue_worker


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
    settings = settings_from(data_dir=data_dir, database_url=database_url, live_url=live_url)
    configure_logging(settings)
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
    run_until_signal(run())


def reaper(
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between passes.")] = 10.0,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    live_url: LiveUrl = None,
) -> None:
    """Requeue steps whose worker died (lease expired). Workers also reap on a schedule; run
    this when no worker may be up, or to reap more often."""
    settings = settings_from(
        data_dir=data_dir, database_url=database_url, live_url=live_url, workers=0
    )
    configure_logging(settings)

    async def run() -> None:
        async with bootstrap.open_runtime(settings) as runtime:
            while True:
                reaped = await runtime.services.runner.reap()
                if reaped:
                    typer.echo(f"requeued {reaped} step(s) whose worker was lost", err=True)
                await asyncio.sleep(interval)

    run_until_signal(run())
