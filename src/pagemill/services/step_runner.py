"""The step runner: claim a step, heartbeat, process, record the result, hand off or finalize.

The ledger decides every transition; this module only moves data between the ports and mirrors
each committed snapshot into the live store. Any failure of a step ends as a ledger transition
(retry or failure), never as an exception that kills the worker loop; which transition is the
table of ``step_outcomes``.

The runner owns an attempt from the moment the ledger hands it over: the claim registers it
before anything else can run, so a shutdown (``release_all``) always finds it and hands it
back, uncharged, instead of leaving it running for the next start to charge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pagemill.domain.clock import Clock
from pagemill.domain.ids import CHECKPOINT_PREFIX, new_id
from pagemill.domain.models import Claim, ExecutionSnapshot, StepOutput, StepRef, StepRun
from pagemill.domain.statuses import StepStatus
from pagemill.logs import log_context
from pagemill.ports.blobs import BlobStore
from pagemill.ports.compute import ComputePool
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.ledger.steps import StepLedger
from pagemill.ports.live import LiveStore
from pagemill.ports.metrics import Metrics, NoMetrics
from pagemill.ports.processing import ProcessorOutput
from pagemill.ports.tracing import NO_SPAN, AttemptSpan, Attributes, NoTracing, Tracing
from pagemill.processors.provenance import attempt_record
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.executor_cache import Reusable, checkpoint_key
from pagemill.services.live_mirror import LiveMirror
from pagemill.services.step_heartbeat import Heartbeat
from pagemill.services.step_outcomes import Act, Action, StopReason, retry_delay, step_action
from pagemill.services.step_work import StepWork
from pagemill.services.storage import StorageQuota

# The logger keeps the name it had when this was "the engine": operators filter on it.
log = logging.getLogger("pagemill.engine")

STOP_SECONDS = 5.0  # how long a shutdown waits for claims in flight, then for releases


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    live_ttl_after_finish_seconds: float = 3600.0
    rates: Mapping[str, int] | None = None
    # A step running longer fails for good; a step's ``settings.timeout_seconds`` may lower it.
    step_timeout_seconds: float = 1800.0
    slice_pages: int = 0  # see ``StepWork``; 0: documents are never split into page slices


@dataclass(slots=True)
class _Attempt:
    """A claimed attempt this process holds the lease of, until its end is recorded."""

    worker: str
    task: asyncio.Task[None] | None = None  # publish, then run: the whole attempt
    work: asyncio.Task[ProcessorOutput | Reusable] | None = None  # once its work began
    stop: StopReason | None = None
    span: AttemptSpan = NO_SPAN  # the attempt's trace span, while it runs


class StepRunner:
    """Runs the attempts this process claims (embedded claim loops, or queue delivery) and
    reaps the attempts of workers that are gone."""

    def __init__(
        self,
        steps: StepLedger,
        live: LiveStore,
        blobs: BlobStore,
        dispatcher: Dispatcher,
        compute: ComputePool,
        processors: ProcessorRegistry,
        clock: Clock,
        config: RunnerConfig,
        metrics: Metrics | None = None,
        storage: StorageQuota | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        """``storage`` counts the bytes of results and checkpoints against their team's
        storage (None: not counted)."""
        self._steps = steps
        self._live = live
        self._blobs = blobs
        self._dispatcher = dispatcher
        self._processors = processors
        self._clock = clock
        self._config = config
        self._rates = dict(config.rates or {})
        self._metrics = metrics or NoMetrics()
        self._storage = storage
        self._tracing = tracing or NoTracing()
        self._work = StepWork(steps, blobs, compute, processors, config.slice_pages)
        self._mirror = LiveMirror(live, config.live_ttl_after_finish_seconds)
        self._beats = Heartbeat(
            steps,
            live,
            self._mirror,
            self._work,
            clock,
            lease_seconds=config.lease_seconds,
            interval_seconds=config.heartbeat_seconds,
        )
        self._attempts: dict[StepRef, _Attempt] = {}
        self._all_stopped = asyncio.Event()
        self._claiming = 0  # ledger claims in flight
        self._claims_settled = asyncio.Event()
        self._closing = False  # release_all began: no new work starts here
        # Told of every committed snapshot after it is mirrored (webhook delivery wake-ups).
        self._observers: list[Callable[[ExecutionSnapshot], None]] = []

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
    async def start_next(self, worker: str) -> asyncio.Task[None] | None:
        """Claim the oldest due step for ``worker`` and start its attempt; the task ends when
        the attempt's end is recorded. None when nothing is due or this runner is closing."""
        if self._closing:
            return None
        claim = await self._claiming_from(
            self._steps.claim_next(
                worker, self._clock.now(), self._config.lease_seconds, self._processors.step_types
            )
        )
        return None if claim is None else self._start(claim, worker)

    async def claim_and_run(self, ref: StepRef, worker: str) -> None:
        """Queue delivery: claim exactly this attempt and run it; a stale or duplicate
        delivery (the attempt moved on, the step is done or cancelled) is a no-op."""
        claim = await self._claiming_from(
            self._steps.claim(ref, worker, self._clock.now(), self._config.lease_seconds)
        )
        if claim is None:
            with _step_context(ref):
                log.info("delivery of %s is stale; ignored", ref)
            return
        await self._start(claim, worker)

    async def _claiming_from(self, claiming: Awaitable[Claim | None]) -> Claim | None:
        """Await a ledger claim, counted: ``release_all`` waits until none is in flight."""
        self._claiming += 1
        self._claims_settled.clear()
        try:
            return await claiming
        finally:
            self._claiming -= 1
            if self._claiming == 0:
                self._claims_settled.set()

    def _start(self, claim: Claim, worker: str) -> asyncio.Task[None]:
        # No await between the ledger's answer and this registration: whatever happens next
        # (a shutdown, a cancellation), the runner knows it holds the attempt.
        attempt = self._attempts[claim.step.ref] = _Attempt(worker)
        attempt.task = asyncio.create_task(self._attempt(claim, worker), name=worker)
        return attempt.task

    async def _attempt(self, claim: Claim, worker: str) -> None:
        step = claim.step
        attributes: Attributes = {
            "pagemill.execution_id": step.execution_id,
            "pagemill.step.index": step.step_index,
            "pagemill.step.type": step.step_type,
            "pagemill.step.attempt": step.attempt,
            "pagemill.worker": worker,
        }
        try:
            with (
                _step_context(step.ref),  # every line of this attempt, its tasks' included
                self._tracing.step_attempt(claim.execution.traceparent, attributes) as span,
            ):
                self._attempts[step.ref].span = span
                await self.publish(claim.snapshot)
                await self._run(claim, worker)
        finally:
            self._ended(step.ref)

    async def next_due(self) -> datetime | None:
        return await self._steps.next_due(self._processors.step_types)

    # -- running -----------------------------------------------------------------------------
    async def _run(self, claim: Claim, worker: str) -> None:
        """Run a claimed attempt to its recorded end: completion, failure or release."""
        ref = claim.step.ref
        attempt = self._attempts[ref]
        if self._closing and attempt.stop is None:
            attempt.stop = StopReason.RELEASE  # shutting down: no new work starts here
        if attempt.stop is not None:  # stopped before its work began
            action = step_action(
                asyncio.CancelledError(), stop=attempt.stop, timed_out=False, timeout=0
            )
            await self._record_end(action, ref, worker)
            return
        cache_key = self._work.cache_key(claim)
        bypass = bool(claim.execution.input_config.get("skip_cache"))
        work = attempt.work = asyncio.create_task(self._work.do(claim, cache_key, bypass))
        beat = asyncio.create_task(self._heartbeat(ref, worker))
        timeout = self.step_timeout(claim.step.settings)
        deadline = asyncio.timeout(timeout)
        try:
            # On expiry ``work`` is cancelled, which kills a worker process running it.
            async with deadline:
                result = await work
        except (asyncio.CancelledError, Exception) as exc:
            action = step_action(
                exc, stop=attempt.stop, timed_out=deadline.expired(), timeout=timeout
            )
            if action.act is Act.PROPAGATE:
                raise  # this coroutine itself is being cancelled
            if action.note:
                level = logging.ERROR if action.trace else logging.WARNING
                log.log(
                    level,
                    "step %s %s",
                    ref,
                    action.note,
                    exc_info=exc if action.trace else None,
                )
            await self._record_end(action, ref, worker)
            return
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        if isinstance(result, Reusable):
            await self._reuse(claim, worker, result, cache_key)
            return
        cache = {"status": "bypass" if bypass else "miss"} if cache_key else None
        await self._complete(claim, worker, result, cache, cache_key)

    async def _reuse(
        self, claim: Claim, worker: str, reusable: Reusable, cache_key: str | None
    ) -> None:
        source = reusable.payload.get("provenance")
        provenance = {**self._provenance(claim, worker), "reused": source}
        payload = {
            **reusable.payload,
            "lookup_key": claim.step.lookup_key,
            "provenance": provenance,
        }
        key, size = await self._work.write_result(claim.step.ref, payload)
        entry = reusable.entry
        output = StepOutput(key, entry.checkpoint_id, entry.page_count, reusable.outcome, cache_key)
        await self._record(claim, worker, output, stored_bytes=size)

    async def _record_end(self, action: Action, ref: StepRef, worker: str) -> None:
        """Record an attempt that ended without output (``step_action``'s verdict)."""
        if action.act is Act.FAIL:
            await self._fail(ref, worker, action.error, action.retryable)
        elif action.act is Act.RELEASE:
            await self._release(ref, worker)

    def _ended(self, ref: StepRef) -> None:
        self._attempts.pop(ref, None)
        if not self._attempts:
            self._all_stopped.set()

    def step_timeout(self, settings: Mapping[str, Any]) -> float:
        """The server's step timeout, or the step's ``timeout_seconds`` when that is lower."""
        limit = self._config.step_timeout_seconds
        own = settings.get("timeout_seconds")
        if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
            return min(float(own), limit)
        return limit

    async def _heartbeat(self, ref: StepRef, worker: str) -> None:
        self._stop(ref, await self._beats.beat(ref, worker))

    # -- stopping work early -----------------------------------------------------------------
    def _stop(self, ref: StepRef, reason: StopReason) -> bool:
        """Stop the work of an attempt held here (a worker process running it is killed), or
        keep it from beginning; the first reason given is the one recorded."""
        attempt = self._attempts.get(ref)
        if attempt is None or attempt.stop is not None:
            return False
        if attempt.work is not None:
            if attempt.work.done():
                return False
            attempt.work.cancel()
        attempt.stop = reason
        return True

    def interrupt(self, execution_id: str) -> int:
        """Stop at once the steps of a cancelled execution that run in this process; steps
        running elsewhere stop at their next heartbeat."""
        refs = [ref for ref in self._attempts if ref.execution_id == execution_id]
        return sum(self._stop(ref, StopReason.CANCEL) for ref in refs)

    async def release_all(self, grace_seconds: float) -> None:
        """Shutting down: start no new work, let running steps finish for ``grace_seconds``,
        then hand the rest back to the queue (uncharged) so another worker picks them up at
        once. Every attempt claimed before or during the call is either finished or handed
        back when this returns (unless recording it takes longer than a few seconds)."""
        self._closing = True
        # A claim the ledger is committing right now becomes an attempt here: wait for it.
        await _within(STOP_SECONDS, self._claims_settled, unless=not self._claiming)
        pending = [a.work for a in self._attempts.values() if a.work and not a.work.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace_seconds)
        for ref in list(self._attempts):
            self._stop(ref, StopReason.RELEASE)
        # Give each attempt the chance to record its end before the loops are cancelled.
        self._all_stopped.clear()
        await _within(STOP_SECONDS, self._all_stopped, unless=not self._attempts)

    async def _release(self, ref: StepRef, worker: str) -> None:
        snapshot = await self._steps.release(ref, worker, self._clock.now())
        if snapshot is not None:
            log.info("released %s for another worker", ref)
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
            "provenance": self._provenance(claim, worker),
        }
        key, size = await self._work.write_result(claim.step.ref, payload)
        await self._record(
            claim,
            worker,
            StepOutput(key, checkpoint_id, output.page_count, cache, cache_key),
            own_checkpoint=True,
            stored_bytes=stored + size,
        )

    def _provenance(self, claim: Claim, worker: str) -> dict[str, Any]:
        step = claim.step
        version = self._processors.get(step.step_type).version
        return attempt_record(
            step.step_type,
            version,
            worker=worker,
            attempt=step.attempt,
            started_at=step.started_at,
            finished_at=self._clock.now(),
        )

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
        self._span(ref).set({"pagemill.pages": output.page_count})
        snapshot = await self._steps.complete(ref, worker, self._clock.now(), output, self._rates)
        if snapshot is None:
            # Fenced: another attempt owns the step now. Its result, not ours, is the one kept.
            log.warning("late completion of %s rejected by the fence", ref)
            await self._blobs.delete(output.result_key)
            if own_checkpoint and output.checkpoint_id:
                await self._blobs.delete(checkpoint_key(output.checkpoint_id))
            return
        self._observe(snapshot, ref)
        await self.publish(snapshot)
        if self._storage is not None:
            # Counted after the hand-off to the next step: never on its path, never failing it.
            await self._storage.record(claim.execution.team_id, stored_bytes)

    async def _fail(self, ref: StepRef, worker: str, error: str, retryable: bool) -> None:
        retry_at = self._retry_at(ref.attempt) if retryable else None
        snapshot = await self._steps.fail(
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
        span = self._span(ref)
        span.set({"pagemill.outcome": outcome, "pagemill.cache": (step.cache or {}).get("status")})
        if outcome in ("failed", "retried", "lost"):
            span.fail(step.error_message or outcome)

    def _span(self, ref: StepRef) -> AttemptSpan:
        attempt = self._attempts.get(ref)
        return attempt.span if attempt is not None else NO_SPAN

    def _retry_at(self, attempt: int) -> datetime:
        config = self._config
        return self._clock.now() + retry_delay(
            attempt, config.retry_base_seconds, config.retry_max_seconds
        )

    # -- recovery ----------------------------------------------------------------------------
    async def reap(self, limit: int = 100) -> int:
        """Requeue (or fail, past max attempts) steps whose worker stopped heartbeating."""
        expired = await self._steps.expired_leases(self._clock.now(), limit)
        for step in expired:
            await self._requeue_lost(step, "The worker running this step was lost (lease expired).")
        return len(expired)

    async def recover_previous_boot(self, boot_prefix: str) -> int:
        """Embedded start-up: steps leased by an earlier run of this server go back at once."""
        orphans = await self._steps.leased_by_others(boot_prefix)
        for step in orphans:
            await self._requeue_lost(step, "The server restarted while this step was running.")
        return len(orphans)

    async def _requeue_lost(self, step: StepRun, reason: str) -> None:
        if step.lease_owner is None:
            return
        # The lost attempt counts: a document that kills every worker ends failed, not looping.
        snapshot = await self._steps.fail(
            step.ref,
            step.lease_owner,
            self._clock.now(),
            reason,
            self._retry_at(step.attempt),
            self._rates,
        )
        if snapshot is not None:
            with _step_context(step.ref):
                log.warning("requeued %s: %s", step.ref, reason)
            self._observe(snapshot, step.ref, "lost")
            await self.publish(snapshot)


async def _within(seconds: float, event: asyncio.Event, *, unless: bool) -> None:
    """Wait for ``event`` at most ``seconds``; not at all when ``unless``."""
    if unless:
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _step_context(ref: StepRef) -> contextlib.AbstractContextManager[object]:
    """The fields of every log line about one step attempt, bound for the block."""
    return log_context(
        execution_id=ref.execution_id, step_index=ref.step_index, attempt=ref.attempt
    )
