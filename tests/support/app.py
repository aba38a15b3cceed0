"""An in-process app and client for API tests: SQLite in a temp dir, fake processors."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI

from pagemill import bootstrap
from pagemill.adapters.compute import InlineComputePool
from pagemill.adapters.sql.sqlite_files import sqlite_path
from pagemill.api import create_app
from pagemill.domain.clock import Clock
from pagemill.ports.tracing import Tracing
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.container import Runtime, Services
from pagemill.settings import Settings
from pagemill.worker import embedded
from tests.support.ledger_template import copy_migrated_ledger


@dataclass
class TestServer:
    client: httpx.AsyncClient
    services: Services
    runtime: Runtime
    settings: Settings
    keys: dict[str, str]  # team name → API key
    app: FastAPI | None = None  # for tests that walk the routes

    __test__ = False

    def headers(self, team: str = "alpha") -> dict[str, str]:
        return {"X-API-Key": self.keys[team]}


@contextlib.asynccontextmanager
async def test_server(
    data_dir: Path,
    processors: ProcessorRegistry,
    *,
    tracing: Tracing | None = None,  # noqa: PT028 (a helper named test_…, not a test)
    clock: Clock | None = None,  # noqa: PT028
    **overrides: object,
) -> AsyncIterator[TestServer]:
    settings = Settings(
        data_dir=data_dir,
        heartbeat_seconds=0.2,
        lease_seconds=2.0,
        reaper_interval_seconds=0.2,
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
        # Tests poll hard with one key; test_rate_limit.py turns the limit on.
        **{"rate_limit_per_minute": 0, "workers": 2, **overrides},  # type: ignore[arg-type]
    )
    ledger_file = sqlite_path(settings.ledger_url())
    if ledger_file is not None and not ledger_file.exists():
        await copy_migrated_ledger(ledger_file)  # instead of migrating it from scratch
    holder: dict[str, Runtime] = {}

    @contextlib.asynccontextmanager
    async def open_runtime() -> AsyncIterator[Services]:
        async with (
            bootstrap.open_runtime(
                settings,
                clock=clock,
                compute=InlineComputePool(),
                processors=processors,
                tracing=tracing,
            ) as runtime,
            embedded(runtime) as services,
        ):
            holder["runtime"] = runtime
            yield services

    app = create_app(open_runtime, bootstrap.request_limits(settings))
    async with app.router.lifespan_context(app):
        runtime = holder["runtime"]
        keys = {
            team: (await runtime.services.keys.issue(team)).secret for team in ("alpha", "beta")
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://pagemill.test"
        ) as client:
            yield TestServer(client, runtime.services, runtime, settings, keys, app)


test_server.__test__ = False  # type: ignore[attr-defined]
