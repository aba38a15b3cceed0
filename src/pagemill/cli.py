"""The ``pagemill`` command: serve, migrate, keys."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from pagemill import __version__, bootstrap
from pagemill.api import create_app
from pagemill.services.container import Services
from pagemill.settings import Settings
from pagemill.worker import embedded

app = typer.Typer(help="pagemill: self-hosted document pipelines.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="State directory [env PAGEMILL_DATA_DIR].")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Ledger URL [env PAGEMILL_DATABASE_URL]."),
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
    workers: Annotated[
        int | None, typer.Option(help="In-process step workers (0: API only).")
    ] = None,
) -> None:
    """Run the API with in-process workers (embedded mode by default)."""
    settings = _settings(
        host=host, port=port, data_dir=data_dir, database_url=database_url, workers=workers
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
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
    app()
