"""What the operator's commands share: the options named after settings, settings from the
command line, logging, and running until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from pagemill import logs
from pagemill.settings import Settings

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


def settings_from(**overrides: Any) -> Settings:
    """Settings from the environment; options given on the command line win over it."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def configure_logging(settings: Settings) -> None:
    logs.configure(settings.log_format)


def run_until_signal(main_coroutine: Coroutine[Any, Any, None]) -> None:
    """Run until SIGINT/SIGTERM, then cancel the work so it shuts down cleanly."""

    async def supervised() -> None:
        task = asyncio.ensure_future(main_coroutine)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(supervised())


def when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"
