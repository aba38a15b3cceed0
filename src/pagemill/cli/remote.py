"""What the commands that talk to a server share: the server and key options, ``--json``, and
running a conversation with the API where a refusal is a message and exit code 1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pagemill.cli.client import ApiClient, ApiError

T = TypeVar("T")

SERVER_ENV = ["PAGEMILL_SERVER", "DATALAB_HOST"]
KEY_ENV = ["PAGEMILL_API_KEY", "DATALAB_API_KEY"]

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar=SERVER_ENV,
        help="Base URL of a pagemill server, e.g. http://127.0.0.1:8000 "
        "[env PAGEMILL_SERVER, DATALAB_HOST].",
        show_envvar=False,
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar=KEY_ENV,
        help="API key of the server [env PAGEMILL_API_KEY, DATALAB_API_KEY].",
        show_envvar=False,
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print JSON for scripts (one object per line for lists)."),
]


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"pagemill: {message}", err=True)
    return typer.Exit(code)


def with_api(
    server: str | None, api_key: str | None, work: Callable[[ApiClient], Awaitable[T]]
) -> T:
    """Run ``work`` against the server; no server, or a refusal, ends the command."""
    if not server:
        raise fail("no server: pass --server URL or set PAGEMILL_SERVER.", 2)

    async def run() -> T:
        async with ApiClient(server, api_key) as api:
            return await work(api)

    try:
        return asyncio.run(run())
    except ApiError as error:
        raise fail(str(error)) from error


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False))


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None
) -> None:
    table = Table(*columns, title=title, title_justify="left", header_style="bold")
    for row in rows:
        table.add_row(*("-" if value is None else str(value) for value in row))
    Console().print(table)


def short_time(value: str | None) -> str:
    """``2025-01-02T03:04:05.678Z`` → ``2025-01-02 03:04:05``."""
    if not value:
        return "-"
    return value.replace("T", " ")[:19]
