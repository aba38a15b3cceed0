"""``pagemill serve``: the API with in-process workers (embedded mode by default)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

import typer

from pagemill import bootstrap
from pagemill.api import create_app, http_server
from pagemill.cli.common import (
    DatabaseUrl,
    DataDir,
    LiveUrl,
    configure_logging,
    settings_from,
)
from pagemill.services.container import Services
from pagemill.settings import Settings
from pagemill.version import __version__
from pagemill.worker import embedded


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
    settings = settings_from(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        live_url=live_url,
        workers=workers,
    )
    configure_logging(settings)
    issued = asyncio.run(bootstrap.first_run_key(settings))
    base_url = f"http://{settings.host}:{settings.port}"
    if issued is not None:
        typer.echo(f"Created team {issued.team.name!r} and its first API key (shown only once):")
        typer.echo(f"  {issued.secret}")
        typer.echo("Point the Datalab SDK at this server with:")
        typer.echo(f"  export DATALAB_HOST={base_url} DATALAB_API_KEY={issued.secret}")
    typer.echo(f"pagemill {__version__} serving on {base_url} (data in {settings.data_dir})")
    typer.echo(f"Dashboard: {base_url}/ui (sign in with an API key)")
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


@contextlib.asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[Services]:
    async with bootstrap.open_runtime(settings) as runtime, embedded(runtime) as services:
        yield services
