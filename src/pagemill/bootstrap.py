"""The composition root: settings in, adapters chosen by URL, services out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from pagemill.adapters.compute import InlineComputePool, ProcessComputePool
from pagemill.adapters.filesystem import FilesystemBlobStore
from pagemill.adapters.http import HttpxFetcher
from pagemill.adapters.memory import LocalDispatcher, MemoryLiveStore
from pagemill.adapters.sql import create_ledger, migrate_async
from pagemill.domain.clock import Clock, SystemClock
from pagemill.ports.compute import ComputePool
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.ledger import Ledger
from pagemill.ports.live import LiveStore
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.container import Services
from pagemill.services.engine import EngineConfig, StepEngine
from pagemill.services.executions import ExecutionService
from pagemill.services.keys import DEFAULT_TEAM, IssuedKey, KeyService
from pagemill.services.pipelines import PipelineService
from pagemill.settings import Settings


def open_live_store(url: str) -> LiveStore:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryLiveStore()
    raise ValueError(f"Unsupported live store URL {url!r}: this version supports memory://")


@contextlib.asynccontextmanager
async def open_ledger(settings: Settings) -> AsyncIterator[Ledger]:
    """Migrate the ledger to the current schema and open it."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.ledger_url()
    await migrate_async(url)
    ledger = create_ledger(url)
    try:
        yield ledger
    finally:
        await ledger.close()


async def issue_key(settings: Settings, team: str, name: str = "default") -> IssuedKey:
    async with open_ledger(settings) as ledger:
        return await KeyService(ledger, SystemClock()).issue(team, name)


async def first_run_key(settings: Settings) -> IssuedKey | None:
    """On an empty database, create the default team and its first key."""
    async with open_ledger(settings) as ledger:
        keys = KeyService(ledger, SystemClock())
        if await keys.needs_first_key():
            return await keys.issue(DEFAULT_TEAM)
    return None


@dataclass(frozen=True, slots=True)
class Runtime:
    """The services plus what a worker loop needs next to them."""

    services: Services
    dispatcher: Dispatcher
    clock: Clock
    settings: Settings


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    compute: ComputePool | None = None,
    processors: ProcessorRegistry | None = None,
) -> AsyncIterator[Runtime]:
    """Open every adapter the settings name; close them all on exit.

    ``clock``, ``compute`` and ``processors`` replace the defaults (tests, benchmarks).
    """
    clock = clock or SystemClock()
    processors = processors or ProcessorRegistry.builtin()
    async with contextlib.AsyncExitStack() as stack:
        ledger = await stack.enter_async_context(open_ledger(settings))
        live = open_live_store(settings.live_url)
        stack.push_async_callback(live.close)
        blobs = FilesystemBlobStore(settings.blob_root())
        dispatcher = LocalDispatcher()
        if compute is None:
            pool = ProcessComputePool(
                settings.process_pool_size, settings.process_max_tasks_per_child
            )
            if settings.workers > 0:
                await pool.start()
            compute = pool
        stack.push_async_callback(compute.close)
        engine = StepEngine(
            ledger,
            live,
            blobs,
            dispatcher,
            compute,
            processors,
            clock,
            EngineConfig(
                lease_seconds=settings.lease_seconds,
                heartbeat_seconds=settings.heartbeat_seconds,
                retry_base_seconds=settings.retry_base_seconds,
                retry_max_seconds=settings.retry_max_seconds,
                live_ttl_after_finish_seconds=settings.live_ttl_after_finish_seconds,
                rates=settings.rates,
            ),
        )
        services = Services(
            keys=KeyService(ledger, clock, settings.key_cache_seconds),
            pipelines=PipelineService(ledger, processors, clock, settings.rates),
            executions=ExecutionService(
                ledger,
                live,
                blobs,
                HttpxFetcher(settings.download_timeout_seconds),
                engine,
                processors,
                clock,
                max_upload_bytes=settings.max_upload_bytes,
                max_attempts=settings.max_attempts,
            ),
            engine=engine,
            ledger=ledger,
        )
        yield Runtime(services=services, dispatcher=dispatcher, clock=clock, settings=settings)


__all__ = [
    "InlineComputePool",
    "Runtime",
    "first_run_key",
    "issue_key",
    "open_ledger",
    "open_runtime",
]
