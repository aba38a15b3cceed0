"""The composition root's runtime: settings in, the adapters ``adapters`` chose, services out."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from pagemill.adapters.compute import InlineComputePool, ProcessComputePool
from pagemill.adapters.filesystem import (
    FilesystemBlobStore,
)
from pagemill.adapters.http import HttpxFetcher
from pagemill.adapters.llm import configured_extractor
from pagemill.adapters.memory import LocalDispatcher
from pagemill.adapters.prometheus import PrometheusMetrics
from pagemill.bootstrap.adapters import (
    PAGE_COUNT_PRELOAD,
    Admin,
    check_extras,
    first_run_key,
    issue_key,
    ledger_pool,
    login_throttle,
    open_admin,
    open_ledger,
    open_limit_store,
    open_live_store,
    open_queue,
    open_tracing,
    secret_box,
    url_signing_secret,
    webhook_service,
    worker_config,
)
from pagemill.domain.clock import Clock, SystemClock
from pagemill.ports.compute import ComputePool
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.tracing import Tracing
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.admission import Admission, AdmissionLimits
from pagemill.services.batch_admitter import AdmitterConfig, BatchAdmitter
from pagemill.services.batches import BatchService
from pagemill.services.container import Runtime, Services
from pagemill.services.custom_processors import CustomProcessorService
from pagemill.services.dashboard import DashboardService
from pagemill.services.estimates import EstimateService
from pagemill.services.eval_rubrics import EvalRubricService
from pagemill.services.execution_events import EventStreamConfig, ExecutionEvents
from pagemill.services.executions import ExecutionService, chain_step_settings_hooks
from pagemill.services.extraction_schemas import ExtractionSchemaService
from pagemill.services.files import FileService
from pagemill.services.idempotency import Idempotency
from pagemill.services.invitations import InvitationService
from pagemill.services.keys import KeyService
from pagemill.services.operations import OperationsService
from pagemill.services.pipelines import PipelineService
from pagemill.services.provenance import ProvenanceService
from pagemill.services.ratelimit import RateLimiter
from pagemill.services.requests import RequestService
from pagemill.services.retention import build_retention
from pagemill.services.secret_box import SecretBox
from pagemill.services.sessions import SessionService, load_session_secret
from pagemill.services.step_runner import RunnerConfig, StepRunner
from pagemill.services.storage import StorageQuota
from pagemill.services.teams import TeamService
from pagemill.services.workflows import WorkflowService
from pagemill.settings import Settings


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    compute: ComputePool | None = None,
    processors: ProcessorRegistry | None = None,
    runs_steps: bool | None = None,
    tracing: Tracing | None = None,
) -> AsyncIterator[Runtime]:
    """Open every adapter the settings name; close them all on exit.

    ``clock``, ``compute``, ``processors`` and ``tracing`` replace the defaults (tests,
    benchmarks).
    ``runs_steps`` (default: ``settings.workers > 0``) starts the process pool's children
    before returning, so the first step does not wait for them; a queue worker passes True.
    """
    check_extras(settings)
    clock = clock or SystemClock()
    processors = processors or ProcessorRegistry.builtin(
        configured_extractor(
            settings.llm_base_url,
            settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            settings.llm_model,
        )
    )
    async with contextlib.AsyncExitStack() as stack:
        queue = open_queue(settings.ledger_url()) if settings.uses_procrastinate() else None
        ledger = await stack.enter_async_context(
            open_ledger(settings, queue.defer_in if queue is not None else None)
        )
        live = open_live_store(settings.live_url, clock)
        stack.push_async_callback(live.close)
        limits = open_limit_store(settings.live_url)
        stack.push_async_callback(limits.close)
        blobs = FilesystemBlobStore(settings.blob_root())
        metrics = PrometheusMetrics()
        if tracing is None:
            tracing = open_tracing(settings)
            stack.callback(tracing.close)  # sends the spans still buffered
        dispatcher: Dispatcher = queue.dispatcher() if queue else LocalDispatcher()
        counting: ComputePool | None = compute
        if counting is None:
            # Submitted documents are counted in their own small pool: never in the API
            # process, and never queued behind the steps running in the step pool.
            counting = ProcessComputePool(
                settings.page_count_processes,
                settings.process_max_tasks_per_child,
                preload=PAGE_COUNT_PRELOAD,
                memory_limit_bytes=settings.page_count_memory_bytes,
            )
            stack.push_async_callback(counting.close)
        if compute is None:
            pool = ProcessComputePool(
                settings.process_pool_size,
                settings.process_max_tasks_per_child,
                preload=processors.preload_modules,
            )
            if runs_steps if runs_steps is not None else settings.workers > 0:
                await pool.start()
            compute = pool
        stack.push_async_callback(compute.close)
        storage = StorageQuota(ledger.storage, settings.team_storage_quota_bytes or None)
        retention = build_retention(
            ledger,
            blobs,
            storage,
            live,
            clock,
            settings.retention_seconds,
            settings.retention_sweep_batch,
            orphan_min_age_seconds=settings.orphan_blob_min_age_seconds,
            metrics=metrics,
        )
        runner = StepRunner(
            ledger.steps,
            live,
            blobs,
            dispatcher,
            compute,
            processors,
            clock,
            RunnerConfig(
                lease_seconds=settings.lease_seconds,
                heartbeat_seconds=settings.heartbeat_seconds,
                retry_base_seconds=settings.retry_base_seconds,
                retry_max_seconds=settings.retry_max_seconds,
                live_ttl_after_finish_seconds=settings.live_ttl_after_finish_seconds,
                rates=settings.rates,
                step_timeout_seconds=settings.step_timeout_seconds,
                slice_pages=settings.slice_pages,
            ),
            metrics=metrics,
            storage=storage,
            tracing=tracing,
        )
        custom_processors = CustomProcessorService(ledger.custom_processors, processors, clock)
        extraction_schemas = ExtractionSchemaService(ledger.extraction_schemas, clock)
        eval_rubrics = EvalRubricService(ledger.eval_rubrics, clock)
        files = FileService(
            ledger.files,
            ledger.uploads,
            blobs,
            clock,
            signing_secret=url_signing_secret(settings),
            max_upload_bytes=settings.max_upload_bytes,
            quota=storage,
            public_url=settings.public_url,
        )
        box = secret_box(settings)
        if box.enabled:  # secrets an earlier version stored in plain text are sealed now
            await ledger.secrets.seal_stored(box.seal, SecretBox.is_sealed)
        webhooks = webhook_service(settings, ledger.webhooks, clock, box)
        runner.observe(webhooks.notice)
        keys = KeyService(ledger.tenancy, clock, settings.key_cache_seconds)
        stack.push_async_callback(keys.close)  # its background writes end before the ledger
        sessions = SessionService(
            ledger.tenancy,
            clock,
            await load_session_secret(
                ledger.tenancy,
                settings.session_secret.get_secret_value() if settings.session_secret else None,
                clock,
                box,
            ),
            ttl_seconds=settings.session_ttl_seconds,
            cache_seconds=settings.key_cache_seconds,
            secure_cookie=settings.session_cookie_secure,
            throttle=login_throttle(settings, limits),
        )

        def membership_changed(user_id: str) -> None:
            keys.forget_user(user_id)
            sessions.forget_user(user_id)

        invitations = InvitationService(
            ledger.invitations,
            ledger.tenancy,
            clock,
            ttl_seconds=settings.invitation_ttl_seconds,
            on_joined=sessions.forget_user,
        )
        admission = Admission(
            ledger.executions,
            blobs,
            AdmissionLimits(
                settings.max_pages_per_request,
                settings.max_pages_in_flight,
                settings.page_count_timeout_seconds,
            ),
            counting,
            limits,
        )
        pipelines = PipelineService(
            ledger.pipelines,
            processors,
            clock,
            settings.rates,
            custom_processors,
            extraction_schemas,
            eval_rubrics,
        )
        executions = ExecutionService(
            ledger.pipelines,
            ledger.executions,
            live,
            blobs,
            HttpxFetcher(
                settings.download_timeout_seconds,
                deadline_seconds=settings.download_deadline_seconds,
                allow_networks=settings.url_allow_networks,
            ),
            runner,
            processors,
            clock,
            max_upload_bytes=settings.max_upload_bytes,
            max_attempts=settings.max_attempts,
            quota=storage,
            step_settings_hook=chain_step_settings_hooks(
                custom_processors.freeze_steps, extraction_schemas.freeze_steps
            ),
            metrics=metrics,
            tracing=tracing,
            admission=admission,
            file_resolver=files.resolve,
            idempotency=Idempotency(
                ledger.idempotency, clock, settings.idempotency_key_ttl_seconds
            ),
            retention=retention.policy,
            eval_hook=eval_rubrics.freeze_for_run,
        )
        services = Services(
            keys=keys,
            teams=TeamService(
                ledger.tenancy,
                clock,
                invitations=invitations,
                on_membership_change=membership_changed,
            ),
            invitations=invitations,
            sessions=sessions,
            rate_limiter=RateLimiter(
                limits, settings.rate_limit_per_minute, settings.rate_limit_burst
            ),
            pipelines=pipelines,
            custom_processors=custom_processors,
            extraction_schemas=extraction_schemas,
            eval_rubrics=eval_rubrics,
            executions=executions,
            requests=RequestService(
                executions,
                ledger.executions,
                blobs,
                processors,
                clock,
                retention_seconds=settings.request_retention_seconds,
                public_url=settings.public_url,
                compute=counting,
                poll_wait_seconds=settings.request_poll_wait_seconds,
            ),
            events=ExecutionEvents(
                ledger.executions,
                live,
                EventStreamConfig(keep_alive_seconds=settings.events_keep_alive_seconds),
            ),
            provenance=ProvenanceService(ledger.executions, live, blobs),
            estimates=EstimateService(
                ledger.pipelines, ledger.executions, ledger.steps, admission, settings.rates
            ),
            workflows=WorkflowService(
                ledger.workflows,
                pipelines,
                executions,
                clock,
                signing_secret=url_signing_secret(settings),
                public_url=settings.public_url,
            ),
            dashboard=DashboardService(ledger.executions, blobs),
            files=files,
            storage=storage,
            runner=runner,
            operations=OperationsService(
                ledger.steps,
                ledger.executions,
                ledger.ping,
                live,
                metrics,
                clock,
                lease_grace_seconds=settings.stuck_lease_grace_seconds,
                queued_too_long_seconds=settings.stuck_queued_seconds,
                admin_token=settings.admin_token.get_secret_value()
                if settings.admin_token
                else None,
            ),
            webhooks=webhooks,
            retention=retention,
            batches=BatchService(
                ledger.collections,
                ledger.batch_runs,
                ledger.pipelines,
                executions,
                clock,
                rubrics=eval_rubrics.definition,
            ),
            batch_admitter=BatchAdmitter(
                ledger.batch_runs,
                ledger.executions,
                executions,
                clock,
                AdmitterConfig(
                    max_pages_in_flight=settings.max_pages_in_flight,
                    in_flight_share=settings.batch_in_flight_share,
                ),
                rubrics=eval_rubrics.definition,
            ),
        )
        yield Runtime(
            services=services,
            ledger=ledger,
            dispatcher=dispatcher,
            clock=clock,
            config=worker_config(settings),
            metrics=metrics,
            queue=queue,
        )


__all__ = [
    "Admin",
    "InlineComputePool",
    "first_run_key",
    "issue_key",
    "ledger_pool",
    "open_admin",
    "open_ledger",
    "open_runtime",
    "worker_config",
]
