"""Running one step: claim, heartbeat, process, record the result, hand off or finalize.

The ledger decides every transition; this module only moves data between the ports and mirrors
each committed snapshot into the live store. Any failure of a step ends as a ledger transition
(retry or failure), never as an exception that kills the worker loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import PagemillError, ProcessingError
from pagemill.domain.ids import CHECKPOINT_PREFIX, new_id
from pagemill.domain.models import Claim, ExecutionSnapshot, StepOutput, StepRef, StepRun
from pagemill.domain.statuses import StepStatus
from pagemill.ports.blobs import BlobStore
from pagemill.ports.compute import ComputePool, WorkerCrashed
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.ledger import Ledger
from pagemill.ports.live import LiveStore
from pagemill.ports.metrics import Metrics, NoMetrics
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors import progress as progress_file
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.executor_cache import ExecutorCache, checkpoint_key
from pagemill.services.live_mirror import LiveMirror
from pagemill.services.storage import StorageQuota

log = logging.getLogger("pagemill.engine")

PROGRESS_SECONDS = 1.0  # how often a running step's progress is relayed to the live store


@dataclass(frozen=True, slots=True)
class EngineConfig:
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    live_ttl_after_finish_seconds: float = 3600.0
    rates: Mapping[str, int] | None = None
    # A step running longer fails for good; a step's ``settings.timeout_seconds`` may lower it.
    step_timeout_seconds: float = 1800.0


def result_key(ref: StepRef) -> str:
    # Attempt-scoped: a late attempt can never overwrite the result the ledger points at.
    # Filed under the id's last two (random) characters, not a directory per execution and
    # step: creating two directories per execution cost more than writing the result.
    execution_id = ref.execution_id
    return f"results/{execution_id[-2:]}/{execution_id}.{ref.step_index}.{ref.attempt}.json"


class StopReason(StrEnum):
    """Why a step's work was stopped before it finished."""

    LEASE_LOST = "lease-lost"  # the ledger gave the step to another attempt
    CANCEL = "cancel"  # its execution was cancelled
    RELEASE = "release"  # this worker is shutting down


class StepEngine:
    def __init__(
        self,
        ledger: Ledger,
        live: LiveStore,
        blobs: BlobStore,
        dispatcher: Dispatcher,
        compute: ComputePool,
        processors: ProcessorRegistry,
        clock: Clock,
        config: EngineConfig,
        metrics: Metrics | None = None,
        storage: StorageQuota | None = None,
    ) -> None:
        self._ledger = ledger
        self._live = live
        self._blobs = blobs
        self._dispatcher = dispatcher
        self._compute = compute
        self._processors = processors
        self._clock = clock
        self._config = config
        self._rates = dict(config.rates or {})
        self._metrics = metrics or NoMetrics()
        self._storage = storage or StorageQuota(ledger, None)  # counts what results store
        self._cache = ExecutorCache(ledger, blobs, processors)
        self._mirror = LiveMirror(live, config.live_ttl_after_finish_seconds)
        self._running: dict[StepRef, asyncio.Task[ProcessorOutput]] = {}
        self._stop_reasons: dict[StepRef, StopReason] = {}
        self._all_stopped = asyncio.Event()
        # Told of every committed snapshot after it is mirrored (webhook delivery wake-ups).
        self._observers: list[Callable[[ExecutionSnapshot], None]] = []
        # Progress files of steps running on this machine (see ``processors.progress``); the
        # names are unique per attempt, so processes on one machine can share the directory.
        self._progress_dir = Path(tempfile.gettempdir()) / "pagemill-progress"
        self._progress_dir.mkdir(exist_ok=True)

    @property
    def rates(self) -> dict[str, int]:
        return dict(self._rates)

    # -- mirroring ---------------------------------------------------------------------------
    async def publish(self, snapshot: ExecutionSnapshot) -> None:
        """Mirror a committed snapshot into the live store and wake workers for new work."""
        await self._mirror.write(snapshot)  # never raises: the live store is a cache
        await self._dispatcher.dispatched(
            [s.ref for s in snapshot.steps if s.status is StepStatus.DISPATCHED]
        )
        for observer in self._observers:
            observer(snapshot)

    def observe(self, observer: Callable[[ExecutionSnapshot], None]) -> None:
        """Call ``observer`` (cheap, never raising) with every snapshot ``publish`` mirrors."""
        self._observers.append(observer)

    # -- claiming ----------------------------------------------------------------------------
    async def claim_next(self, worker: str) -> Claim | None:
        claim = await self._ledger.claim_next(
            worker, self._clock.now(), self._config.lease_seconds, self._processors.step_types
        )
        if claim is not None:
            await self.publish(claim.snapshot)
        return claim

    async def claim_and_run(self, ref: StepRef, worker: str) -> None:
        """Queue delivery: claim exactly this attempt and run it; a stale or duplicate
        delivery (the attempt moved on, the step is done or cancelled) is a no-op."""
        claim = await self._ledger.claim(ref, worker, self._clock.now(), self._config.lease_seconds)
        if claim is None:
            log.info("delivery of %s is stale; ignored", ref, extra=_fields(ref))
            return
        await self.publish(claim.snapshot)
        await self.run(claim, worker)

    async def next_due(self) -> datetime | None:
        return await self._ledger.next_due(self._processors.step_types)

    # -- running -----------------------------------------------------------------------------
    async def run(self, claim: Claim, worker: str) -> None:
        ref = claim.step.ref
        cache_key = self._cache.key_for(claim)
        bypass = bool(claim.execution.input_config.get("skip_cache"))
        if cache_key is not None and not bypass:
            reusable = await self._cache.find(claim.execution.team_id, cache_key)
            if reusable is not None:
                payload = {**reusable.payload, "lookup_key": claim.step.lookup_key}
                key, size = await self._write_result(ref, payload)
                entry = reusable.entry
                await self._record(
                    claim,
                    worker,
                    StepOutput(
                        key, entry.checkpoint_id, entry.page_count, reusable.outcome, cache_key
                    ),
                    stored_bytes=size,
                )
                return
        work = asyncio.create_task(self._process(claim))
        self._running[ref] = work
        beat = asyncio.create_task(self._heartbeat(ref, worker))
        timeout = self.step_timeout(claim.step.settings)
        deadline = asyncio.timeout(timeout)
        try:
            # On expiry ``work`` is cancelled, which kills a worker process running it.
            async with deadline:
                output = await work
        except asyncio.CancelledError:
            reason = self._stop_reasons.pop(ref, None)
            if reason is None:
                raise  # this coroutine itself is being cancelled
            await self._stopped(ref, worker, reason)
            return
        except ProcessingError as exc:
            await self._fail(ref, worker, exc.message, retryable=exc.retryable)
            return
        except WorkerCrashed as exc:
            await self._fail(ref, worker, str(exc), retryable=True)
            return
        except TimeoutError as exc:
            if not deadline.expired():  # raised by the processor itself: an internal error
                log.exception("step %s failed unexpectedly", ref, extra=_fields(ref))
                await self._fail(ref, worker, f"Internal error: TimeoutError: {exc}", True)
                return
            log.warning("step %s timed out after %g s", ref, timeout, extra=_fields(ref))
            await self._fail(ref, worker, f"The step took longer than {timeout:g} s.", False)
            return
        except PagemillError as exc:
            await self._fail(ref, worker, exc.detail, retryable=False)
            return
        except Exception as exc:
            log.exception("step %s failed unexpectedly", ref, extra=_fields(ref))
            await self._fail(ref, worker, f"Internal error: {type(exc).__name__}: {exc}", True)
            return
        finally:
            self._running.pop(ref, None)
            if not self._running:
                self._all_stopped.set()
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        cache = {"status": "bypass" if bypass else "miss"} if cache_key else None
        await self._complete(claim, worker, output, cache, cache_key)

    def step_timeout(self, settings: Mapping[str, Any]) -> float:
        """The server's step timeout, or the step's ``timeout_seconds`` when that is lower."""
        limit = self._config.step_timeout_seconds
        own = settings.get("timeout_seconds")
        if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
            return min(float(own), limit)
        return limit

    async def _process(self, claim: Claim) -> ProcessorOutput:
        step, execution = claim.step, claim.execution
        processor = self._processors.get(step.step_type)
        config = execution.input_config
        async with contextlib.AsyncExitStack() as stack:
            document = await stack.enter_async_context(self._blobs.local_path(execution.input_key))
            checkpoint = None
            if claim.upstream is not None and claim.upstream.checkpoint_id:
                checkpoint = await stack.enter_async_context(
                    self._blobs.local_path(checkpoint_key(claim.upstream.checkpoint_id))
                )
            job = ProcessorInput(
                document=document,
                filename=str(config.get("filename") or "document"),
                settings=dict(step.settings),
                page_range=config.get("page_range"),
                output_format=config.get("output_format") if step.step_type == "convert" else None,
                checkpoint=checkpoint,
                progress_file=self._progress_path(step.ref),
            )
            try:
                if processor.cpu_heavy:
                    return await self._compute.run(processor.run, job)
                return await asyncio.to_thread(processor.run, job)
            finally:
                self._progress_path(step.ref).unlink(missing_ok=True)

    def _progress_path(self, ref: StepRef) -> Path:
        return self._progress_dir / f"{ref.execution_id}.{ref.step_index}.{ref.attempt}.json"

    async def _heartbeat(self, ref: StepRef, worker: str) -> None:
        """Renew the lease every ``heartbeat_seconds``; relay progress every second."""
        loop = asyncio.get_running_loop()
        interval = self._config.heartbeat_seconds
        next_beat = loop.time() + interval
        last_progress: dict[str, Any] | None = None
        while True:
            await asyncio.sleep(min(PROGRESS_SECONDS, interval))
            await self._mirror.repair(ref.execution_id)  # a write the live store missed
            progress = progress_file.read(self._progress_path(ref))
            if progress is not None and progress != last_progress:
                last_progress = progress
                with contextlib.suppress(Exception):
                    await self._live.progress(ref.execution_id, ref.step_index, progress)
            if loop.time() < next_beat:
                continue
            next_beat += interval
            now = self._clock.now()
            try:
                beat = await self._ledger.heartbeat(ref, worker, now, self._config.lease_seconds)
            except Exception:  # a database blip: keep the work, try again next beat
                log.warning(
                    "heartbeat for %s failed; retrying", ref, exc_info=True, extra=_fields(ref)
                )
                continue
            if not beat.held or beat.cancel_requested:
                self._stop(ref, StopReason.CANCEL if beat.held else StopReason.LEASE_LOST)
                return
            with contextlib.suppress(Exception):
                await self._live.progress(
                    ref.execution_id, ref.step_index, {"heartbeat_at": now.isoformat()}
                )

    # -- stopping work early -----------------------------------------------------------------
    def _stop(self, ref: StepRef, reason: StopReason) -> bool:
        """Stop the work of a step running here (a worker process running it is killed)."""
        work = self._running.get(ref)
        if work is None or work.done():
            return False
        self._stop_reasons[ref] = reason
        work.cancel()
        return True

    def interrupt(self, execution_id: str) -> int:
        """Stop at once the steps of a cancelled execution that run in this process; steps
        running elsewhere stop at their next heartbeat."""
        refs = [ref for ref in self._running if ref.execution_id == execution_id]
        return sum(self._stop(ref, StopReason.CANCEL) for ref in refs)

    async def release_all(self, grace_seconds: float) -> None:
        """Shutting down: let running steps finish for ``grace_seconds``, then hand the rest
        back to the queue (uncharged) so another worker picks them up at once."""
        pending = [task for task in self._running.values() if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)
        for ref in list(self._running):
            self._stop(ref, StopReason.RELEASE)
        # Give each run() the chance to record the release before the loops are cancelled.
        if self._running:
            self._all_stopped.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._all_stopped.wait()

    async def _stopped(self, ref: StepRef, worker: str, reason: StopReason) -> None:
        if reason is StopReason.LEASE_LOST:
            log.warning("step %s lost its lease; output discarded", ref, extra=_fields(ref))
            return
        if reason is StopReason.CANCEL:
            await self._fail(ref, worker, "Cancelled.", retryable=False)
            return
        snapshot = await self._ledger.release_step(ref, worker, self._clock.now())
        if snapshot is not None:
            log.info("released %s for another worker", ref, extra=_fields(ref))
            self._observe(snapshot, ref, "released")
            await self.publish(snapshot)

    async def _complete(
        self,
        claim: Claim,
        worker: str,
        output: ProcessorOutput,
        cache: dict[str, Any] | None,
        cache_key: str | None,
    ) -> None:
        checkpoint_id = None
        stored = 0
        if output.checkpoint is not None:
            checkpoint_id = new_id(CHECKPOINT_PREFIX)
            await self._blobs.write_bytes(checkpoint_key(checkpoint_id), output.checkpoint)
            stored = len(output.checkpoint)
        payload = {
            **output.result,
            "checkpoint_id": checkpoint_id,
            "lookup_key": claim.step.lookup_key,
        }
        key, size = await self._write_result(claim.step.ref, payload)
        await self._record(
            claim,
            worker,
            StepOutput(key, checkpoint_id, output.page_count, cache, cache_key),
            own_checkpoint=True,
            stored_bytes=stored + size,
        )

    async def _write_result(self, ref: StepRef, payload: dict[str, Any]) -> tuple[str, int]:
        """The result's key and size."""
        key = result_key(ref)
        data = json.dumps(payload, ensure_ascii=False).encode()
        await self._blobs.write_bytes(key, data)
        return key, len(data)

    async def _record(
        self,
        claim: Claim,
        worker: str,
        output: StepOutput,
        *,
        own_checkpoint: bool = False,
        stored_bytes: int = 0,
    ) -> None:
        """Commit a completion; an attempt that was fenced off deletes what it wrote."""
        ref = claim.step.ref
        snapshot = await self._ledger.complete_step(
            ref, worker, self._clock.now(), output, self._rates
        )
        if snapshot is None:
            # Fenced: another attempt owns the step now. Its result, not ours, is the one kept.
            log.warning("late completion of %s rejected by the fence", ref, extra=_fields(ref))
            await self._blobs.delete(output.result_key)
            if own_checkpoint and output.checkpoint_id:
                await self._blobs.delete(checkpoint_key(output.checkpoint_id))
            return
        self._observe(snapshot, ref)
        await self.publish(snapshot)
        # Counted after the hand-off to the next step: never on its path, never failing it.
        await self._storage.record(claim.execution.team_id, stored_bytes)

    async def _fail(self, ref: StepRef, worker: str, error: str, retryable: bool) -> None:
        retry_at = self._retry_at(ref.attempt) if retryable else None
        snapshot = await self._ledger.fail_step(
            ref, worker, self._clock.now(), error, retry_at, self._rates
        )
        if snapshot is not None:
            self._observe(snapshot, ref)
            await self.publish(snapshot)

    def _observe(self, snapshot: ExecutionSnapshot, ref: StepRef, outcome: str = "") -> None:
        """Count the end of an attempt, named after what the ledger made of it."""
        step = snapshot.steps[ref.step_index]
        if not outcome:
            outcome = {
                StepStatus.COMPLETED: "cached"
                if (step.cache or {}).get("status") == "hit"
                else "completed",
                StepStatus.DISPATCHED: "retried",
            }.get(step.status, step.status.value)
        started = step.started_at or self._clock.now()
        seconds = ((step.finished_at or self._clock.now()) - started).total_seconds()
        self._metrics.step_finished(step.step_type, outcome, max(0.0, seconds))

    def _retry_at(self, attempt: int) -> datetime:
        # Full jitter: spreads retries of documents that failed together.
        ceiling = min(
            self._config.retry_max_seconds, self._config.retry_base_seconds * 2 ** (attempt - 1)
        )
        return self._clock.now() + timedelta(seconds=random.uniform(0, ceiling))

    # -- recovery ----------------------------------------------------------------------------
    async def reap(self, limit: int = 100) -> int:
        """Requeue (or fail, past max attempts) steps whose worker stopped heartbeating."""
        expired = await self._ledger.expired_leases(self._clock.now(), limit)
        for step in expired:
            await self._requeue_lost(step, "The worker running this step was lost (lease expired).")
        return len(expired)

    async def recover_previous_boot(self, boot_prefix: str) -> int:
        """Embedded start-up: steps leased by an earlier run of this server go back at once."""
        orphans = await self._ledger.leased_by_others(boot_prefix)
        for step in orphans:
            await self._requeue_lost(step, "The server restarted while this step was running.")
        return len(orphans)

    async def _requeue_lost(self, step: StepRun, reason: str) -> None:
        if step.lease_owner is None:
            return
        # The lost attempt counts: a document that kills every worker ends failed, not looping.
        snapshot = await self._ledger.fail_step(
            step.ref,
            step.lease_owner,
            self._clock.now(),
            reason,
            self._retry_at(step.attempt),
            self._rates,
        )
        if snapshot is not None:
            log.warning("requeued %s: %s", step.ref, reason, extra=_fields(step.ref))
            self._observe(snapshot, step.ref, "lost")
            await self.publish(snapshot)


def _fields(ref: StepRef) -> dict[str, Any]:
    """Structured fields of a log line about one step attempt."""
    return {
        "execution_id": ref.execution_id,
        "step_index": ref.step_index,
        "attempt": ref.attempt,
    }
