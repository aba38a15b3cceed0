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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.errors import PagemillError, ProcessingError
from pagemill.domain.ids import CHECKPOINT_PREFIX, new_id
from pagemill.domain.models import Claim, ExecutionSnapshot, StepOutput, StepRef, StepRun
from pagemill.domain.statuses import TERMINAL_EXECUTION, StepStatus
from pagemill.ports.blobs import BlobStore
from pagemill.ports.compute import ComputePool, WorkerCrashed
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.ledger import Ledger
from pagemill.ports.live import LiveStore
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.executor_cache import ExecutorCache, checkpoint_key

log = logging.getLogger("pagemill.engine")


@dataclass(frozen=True, slots=True)
class EngineConfig:
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    live_ttl_after_finish_seconds: float = 3600.0
    rates: Mapping[str, int] | None = None


def result_key(ref: StepRef) -> str:
    # Attempt-scoped: a late attempt can never overwrite the result the ledger points at.
    return f"results/{ref.execution_id}/{ref.step_index}/{ref.attempt}.json"


class LeaseLost(Exception):
    """The ledger gave this attempt's step to someone else (reaped or cancelled)."""


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
        self._cache = ExecutorCache(ledger, blobs, processors)

    # -- mirroring ---------------------------------------------------------------------------
    async def publish(self, snapshot: ExecutionSnapshot) -> None:
        """Mirror a committed snapshot into the live store and wake workers for new work."""
        try:
            await self._live.put(snapshot)
            if snapshot.execution.status in TERMINAL_EXECUTION:
                await self._live.expire(
                    snapshot.execution.execution_id, self._config.live_ttl_after_finish_seconds
                )
        except Exception:  # the live store is a cache: its outage must not fail a step
            log.warning("live store write failed", exc_info=True)
        await self._dispatcher.dispatched(
            [s.ref for s in snapshot.steps if s.status is StepStatus.DISPATCHED]
        )

    # -- claiming ----------------------------------------------------------------------------
    async def claim_next(self, worker: str) -> Claim | None:
        claim = await self._ledger.claim_next(
            worker, self._clock.now(), self._config.lease_seconds, self._processors.step_types
        )
        if claim is not None:
            await self.publish(claim.snapshot)
        return claim

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
                key = await self._write_result(ref, payload)
                entry = reusable.entry
                await self._record(
                    claim,
                    worker,
                    StepOutput(
                        key, entry.checkpoint_id, entry.page_count, reusable.outcome, cache_key
                    ),
                )
                return
        work = asyncio.create_task(self._process(claim))
        beat = asyncio.create_task(self._heartbeat(ref, worker, work))
        try:
            output = await work
        except asyncio.CancelledError:
            if beat.done() and isinstance(beat.exception(), LeaseLost):
                log.warning("step %s lost its lease; output discarded", ref)
                return
            raise
        except ProcessingError as exc:
            await self._fail(ref, worker, exc.message, retryable=exc.retryable)
            return
        except WorkerCrashed as exc:
            await self._fail(ref, worker, str(exc), retryable=True)
            return
        except PagemillError as exc:
            await self._fail(ref, worker, exc.detail, retryable=False)
            return
        except Exception as exc:
            log.exception("step %s failed unexpectedly", ref)
            await self._fail(ref, worker, f"Internal error: {type(exc).__name__}: {exc}", True)
            return
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, LeaseLost):
                await beat
        cache = {"status": "bypass" if bypass else "miss"} if cache_key else None
        await self._complete(claim, worker, output, cache, cache_key)

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
            )
            if processor.cpu_heavy:
                return await self._compute.run(processor.run, job)
            return await asyncio.to_thread(processor.run, job)

    async def _heartbeat(self, ref: StepRef, worker: str, work: asyncio.Task[Any]) -> None:
        while True:
            await asyncio.sleep(self._config.heartbeat_seconds)
            now = self._clock.now()
            try:
                beat = await self._ledger.heartbeat(ref, worker, now, self._config.lease_seconds)
            except Exception:  # a database blip: keep the work, try again next beat
                log.warning("heartbeat for %s failed; retrying", ref, exc_info=True)
                continue
            if not beat.held or beat.cancel_requested:
                work.cancel()
                raise LeaseLost(str(ref))
            with contextlib.suppress(Exception):
                await self._live.progress(
                    ref.execution_id, ref.step_index, {"heartbeat_at": now.isoformat()}
                )

    async def _complete(
        self,
        claim: Claim,
        worker: str,
        output: ProcessorOutput,
        cache: dict[str, Any] | None,
        cache_key: str | None,
    ) -> None:
        checkpoint_id = None
        if output.checkpoint is not None:
            checkpoint_id = new_id(CHECKPOINT_PREFIX)
            await self._blobs.write_bytes(checkpoint_key(checkpoint_id), output.checkpoint)
        payload = {
            **output.result,
            "checkpoint_id": checkpoint_id,
            "lookup_key": claim.step.lookup_key,
        }
        key = await self._write_result(claim.step.ref, payload)
        await self._record(
            claim,
            worker,
            StepOutput(key, checkpoint_id, output.page_count, cache, cache_key),
            own_checkpoint=True,
        )

    async def _write_result(self, ref: StepRef, payload: dict[str, Any]) -> str:
        key = result_key(ref)
        await self._blobs.write_bytes(key, json.dumps(payload, ensure_ascii=False).encode())
        return key

    async def _record(
        self, claim: Claim, worker: str, output: StepOutput, *, own_checkpoint: bool = False
    ) -> None:
        """Commit a completion; an attempt that was fenced off deletes what it wrote."""
        ref = claim.step.ref
        snapshot = await self._ledger.complete_step(
            ref, worker, self._clock.now(), output, self._rates
        )
        if snapshot is None:
            # Fenced: another attempt owns the step now. Its result, not ours, is the one kept.
            log.warning("late completion of %s rejected by the fence", ref)
            await self._blobs.delete(output.result_key)
            if own_checkpoint and output.checkpoint_id:
                await self._blobs.delete(checkpoint_key(output.checkpoint_id))
            return
        await self.publish(snapshot)

    async def _fail(self, ref: StepRef, worker: str, error: str, retryable: bool) -> None:
        retry_at = self._retry_at(ref.attempt) if retryable else None
        snapshot = await self._ledger.fail_step(
            ref, worker, self._clock.now(), error, retry_at, self._rates
        )
        if snapshot is not None:
            await self.publish(snapshot)

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
            log.warning("requeued %s: %s", step.ref, reason)
            await self.publish(snapshot)
