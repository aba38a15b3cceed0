"""Procrastinate as pagemill's queue.

The only message is "run step *i* of execution *e*, attempt *n*". Jobs are deferred **inside the
ledger transaction that dispatched the step** (``defer_in``, installed as the SQL ledger's
dispatch hook), so a step is never dispatched without its job or the other way round. One queue
per step type lets convert workers and extract workers scale apart. Procrastinate's own retries
stay off: the ledger is the one retry authority, and a duplicate or stale job is a no-op at the
claim's compare-and-set.

Every query Procrastinate runs on its own pool is one statement (a function call such as
``procrastinate_fetch_job_v2``), so its connections run in autocommit: a fetch or a finish is one
round trip instead of four (the pool's liveness check, ``BEGIN``, the call, ``COMMIT``). Each
``NOTIFY`` of a deferred job wakes every idle worker process and each of them fetches, so the
empty fetches of the losers are the price of low hand-off latency; autocommit makes that price
one cheap round trip. Only connections that sat idle in the pool for a while are checked before
use (a busy connection just worked); a dead one still fails a query now and then, and the
worker loop reconnects (``worker.runner``).
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import procrastinate
import psycopg
import psycopg_pool
from procrastinate import jobs as procrastinate_jobs
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from pagemill.domain.errors import ServiceUnavailable
from pagemill.domain.models import StepRef, StepRun
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.queue import StepQueue

log = logging.getLogger("pagemill.queue")

RUN_STEP_TASK = "pagemill.run_step"
REAP_TASK = "pagemill.reap"
# Seconds between reaper runs; a periodic job runs once per tick across all workers.
REAP_CRON = "* * * * * */10"
REAPER_QUEUE = "pagemill-reaper"
# A pooled connection idle for longer is checked (one empty query) before it is handed out.
CHECK_IDLE_SECONDS = 5.0


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://…`` (SQLAlchemy) → ``postgresql://…`` (libpq, for psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateQueue(StepQueue):
    """The Procrastinate app plus pagemill's two tasks."""

    def __init__(self, database_url: str) -> None:
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=libpq_url(database_url),
                pool_factory=_pool_checking_idle_connections,
            )
        )
        self.handler = None
        self.reaper = None

        @self.app.task(name=RUN_STEP_TASK, retry=False, pass_context=False)
        async def run_step(execution_id: str, step_index: int, attempt: int) -> None:
            if self.handler is None:
                raise RuntimeError("this process does not run steps")
            await self.handler(StepRef(execution_id, step_index, attempt))

        # A periodic job is deferred once per tick whichever worker defers it, so exactly one
        # worker reaps at a time: leader election for free.
        @self.app.periodic(cron=REAP_CRON, periodic_id="reaper")
        @self.app.task(name=REAP_TASK, retry=False, pass_context=False, queue=REAPER_QUEUE)
        async def reap(timestamp: int) -> None:
            if self.reaper is not None:
                await self.reaper()
            await self.release_stalled_jobs()

    def dispatcher(self) -> ProcrastinateDispatcher:
        return ProcrastinateDispatcher()

    async def open(self) -> None:
        await self.app.open_async()

    async def close(self) -> None:
        await self.app.close_async()

    async def apply_schema(self) -> None:
        """Create Procrastinate's tables once; later runs leave an existing schema alone."""
        async with self.app.open_async():
            rows = await self.app.connector.execute_query_one_async(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
            )
            if not rows["present"]:
                await self.app.schema_manager.apply_schema_async()

    async def defer_in(self, conn: AsyncConnection, steps: Sequence[StepRun]) -> None:
        """The ledger's dispatch hook: defer one job per step on the ledger's own connection."""
        raw = await conn.get_raw_connection()
        jobs = [
            procrastinate_jobs.Job(
                queue=step.step_type,
                task_name=RUN_STEP_TASK,
                lock=None,
                queueing_lock=None,
                task_kwargs={
                    "execution_id": step.execution_id,
                    "step_index": step.step_index,
                    "attempt": step.attempt,
                },
                scheduled_at=_future_only(step.available_at),
            )
            for step in steps
        ]
        await self.app.job_manager.batch_defer_jobs_async(jobs, connection=raw.driver_connection)

    async def run_worker(
        self, *, queues: Iterable[str] | None, concurrency: int, name: str
    ) -> None:
        # Whatever step types a worker serves, it also takes its turn at reaping.
        options: dict[str, Any] = {"queues": [*queues, REAPER_QUEUE]} if queues is not None else {}
        await self.app.run_worker_async(
            concurrency=concurrency,
            name=name,
            wait=True,
            install_signal_handlers=False,
            listen_notify=True,
            delete_jobs=procrastinate_jobs.DeleteJobCondition.SUCCESSFUL,
            **options,
        )

    async def release_stalled_jobs(self, older_than_seconds: float = 60.0) -> int:
        """Queue rows of workers that died: the ledger already requeued their steps (as new
        jobs), so these are closed as failed to keep the queue tables clean."""
        released = 0
        with contextlib.suppress(Exception):  # best effort: the ledger is the truth
            stalled = await self.app.job_manager.get_stalled_jobs(
                seconds_since_heartbeat=older_than_seconds
            )
            for job in stalled:
                if job.id is not None:
                    await self.app.job_manager.finish_job_by_id_async(
                        job.id, status=procrastinate_jobs.Status.FAILED, delete_job=True
                    )
                    released += 1
        return released


def _pool_checking_idle_connections(**options: Any) -> psycopg_pool.AsyncConnectionPool:
    """Procrastinate's pool, in autocommit, with its check on every checkout (a round trip
    each) replaced by a check of connections that were idle for ``CHECK_IDLE_SECONDS``."""
    returned: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
        weakref.WeakKeyDictionary()
    )

    async def autocommit(conn: psycopg.AsyncConnection[Any]) -> None:
        # Not ``kwargs={"autocommit": True}``: Procrastinate's listener connects with those
        # kwargs plus its own ``autocommit=True``, and the duplicate is a TypeError.
        await conn.set_autocommit(True)

    async def note_return(conn: psycopg.AsyncConnection[Any]) -> None:
        returned[conn] = time.monotonic()

    async def check_if_idle(conn: psycopg.AsyncConnection[Any]) -> None:
        if time.monotonic() - returned.get(conn, 0.0) > CHECK_IDLE_SECONDS:
            await psycopg_pool.AsyncConnectionPool.check_connection(conn)

    options["check"] = check_if_idle
    return psycopg_pool.AsyncConnectionPool(**options, configure=autocommit, reset=note_return)


def _future_only(when: datetime | None) -> datetime | None:
    # A past schedule means "now"; sending None keeps Procrastinate's clock out of it.
    if when is None or when <= datetime.now(UTC):
        return None
    return when


class ProcrastinateDispatcher(Dispatcher):
    """Post-commit notifications are not needed: the jobs were deferred in the transaction and
    Procrastinate's LISTEN/NOTIFY wakes its workers. ``wait`` only serves embedded loops."""

    def __init__(self) -> None:
        self._generation = 0

    async def dispatched(self, refs: Sequence[StepRef]) -> None:
        return None

    def generation(self) -> int:
        return self._generation

    async def wait(self, since: int, timeout: float) -> None:
        raise ServiceUnavailable("steps are delivered by Procrastinate workers, not polled")
