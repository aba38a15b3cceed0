"""The composition root: settings in, adapters chosen by URL, services out."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pagemill.adapters.compute import InlineComputePool, ProcessComputePool
from pagemill.adapters.filesystem import (
    FilesystemBlobStore,
    load_or_create_secret,
    private_directory,
)
from pagemill.adapters.http import HttpWebhookSender, HttpxFetcher
from pagemill.adapters.llm import configured_extractor
from pagemill.adapters.memory import LocalDispatcher, MemoryLimitStore, MemoryLiveStore
from pagemill.adapters.prometheus import PrometheusMetrics
from pagemill.adapters.sql import DispatchHook, PoolSizing, create_ledger, migrate_async
from pagemill.api.request_limits import RequestLimits
from pagemill.domain.clock import Clock, SystemClock
from pagemill.domain.limits import Backoff
from pagemill.domain.webhooks import RetryPolicy
from pagemill.ports.compute import ComputePool
from pagemill.ports.dispatch import Dispatcher
from pagemill.ports.ledger import Ledger
from pagemill.ports.ledger.webhooks import WebhookLedger
from pagemill.ports.limits import LimitStore
from pagemill.ports.live import LiveStore
from pagemill.ports.tracing import NoTracing, Tracing
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.admission import Admission, AdmissionLimits
from pagemill.services.batch_admitter import AdmitterConfig, BatchAdmitter
from pagemill.services.batches import BatchService
from pagemill.services.container import Runtime, Services, WorkerConfig
from pagemill.services.custom_processors import CustomProcessorService
from pagemill.services.executions import ExecutionService, chain_step_settings_hooks
from pagemill.services.extraction_schemas import ExtractionSchemaService
from pagemill.services.files import FileService
from pagemill.services.invitations import InvitationService
from pagemill.services.keys import DEFAULT_TEAM, IssuedKey, KeyService
from pagemill.services.operations import OperationsService
from pagemill.services.pipelines import PipelineService
from pagemill.services.ratelimit import LoginThrottle, RateLimiter
from pagemill.services.secret_box import SecretBox
from pagemill.services.sessions import SessionService, load_session_secret
from pagemill.services.step_runner import RunnerConfig, StepRunner
from pagemill.services.storage import StorageQuota
from pagemill.services.teams import TeamService
from pagemill.services.webhooks import WebhookConfig, WebhookService
from pagemill.settings import Settings

if TYPE_CHECKING:
    from pagemill.adapters.procrastinate import ProcrastinateQueue

log = logging.getLogger("pagemill")

SCALE_OUT_EXTRAS = "pip install 'pagemill[postgres,redis]'"
# What a page-counting process imports before its first document.
PAGE_COUNT_PRELOAD = ("pagemill.processors.pages", "pypdfium2")


class MissingExtras(ValueError):
    """A configured service needs a package of an optional extra that is not installed."""


def check_extras(settings: Settings) -> None:
    """Refuse, in one line that says what to install, settings that name a service whose
    driver is not installed (PostgreSQL: psycopg and Procrastinate; Redis: redis-py)."""
    needed: list[tuple[str, str]] = []
    if urlsplit(settings.ledger_url()).scheme.lower().startswith("postgres"):
        needed.append(("psycopg", "a PostgreSQL ledger"))
        if settings.uses_procrastinate():
            needed.append(("procrastinate", "Procrastinate step delivery"))
    if urlsplit(settings.live_url).scheme in ("redis", "rediss"):
        needed.append(("redis", "a Redis live store"))
    for module, feature in needed:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise MissingExtras(
                f"{feature} needs the Python package {module!r}, which is not installed: "
                f"{SCALE_OUT_EXTRAS}"
            ) from error


def open_limit_store(url: str) -> LimitStore:
    """Limits shared by every API replica in the live store's Redis, else in this process."""
    if urlsplit(url).scheme in ("redis", "rediss"):
        from pagemill.adapters.redis import RedisLimitStore  # only scale-out needs redis-py

        return RedisLimitStore(url, MemoryLimitStore())
    return MemoryLimitStore()


def login_throttle(settings: Settings, store: LimitStore) -> LoginThrottle:
    backoff = Backoff(
        base_seconds=settings.login_lockout_base_seconds,
        max_seconds=settings.login_lockout_max_seconds,
        forget_seconds=settings.login_failures_forget_seconds,
    )
    return LoginThrottle(
        store,
        per_account=dataclasses.replace(backoff, free_failures=settings.login_free_failures),
        per_address=dataclasses.replace(
            backoff, free_failures=settings.login_free_failures_per_address
        ),
    )


def open_live_store(url: str) -> LiveStore:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryLiveStore()
    if scheme in ("redis", "rediss"):
        from pagemill.adapters.redis import RedisLiveStore  # only scale-out needs redis-py

        return RedisLiveStore(url)
    raise ValueError(
        f"Unsupported live store URL {url!r}: this version supports memory://, redis://, rediss://"
    )


def open_tracing(settings: Settings) -> Tracing:
    """OpenTelemetry traces when a collector is configured (the ``otel`` extra), else none."""
    if settings.otel_endpoint is None:
        return NoTracing()
    try:
        from pagemill.adapters.otel import otlp_tracing
    except ImportError as error:
        raise ValueError(
            "PAGEMILL_OTEL_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'pagemill[otel]'"
        ) from error
    return otlp_tracing(settings.otel_endpoint, settings.otel_service_name)


def ledger_pool(settings: Settings) -> PoolSizing:
    """The PostgreSQL connection pool of this process, as configured."""
    return PoolSizing(
        size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        recycle_seconds=settings.database_pool_recycle_seconds,
    )


@contextlib.asynccontextmanager
async def open_ledger(
    settings: Settings, on_dispatch: DispatchHook | None = None
) -> AsyncIterator[Ledger]:
    """Migrate the ledger (and the queue's tables) to the current schema and open it."""
    check_extras(settings)
    private_directory(settings.data_dir)
    url = settings.ledger_url()
    await migrate_async(url)
    if settings.uses_procrastinate():
        await _queue(url).apply_schema()
    ledger = create_ledger(url, on_dispatch, ledger_pool(settings))
    try:
        yield ledger
    finally:
        await ledger.close()


async def issue_key(settings: Settings, team: str, name: str = "default") -> IssuedKey:
    async with open_ledger(settings) as ledger:
        return await KeyService(ledger.tenancy, SystemClock()).issue(team, name)


async def first_run_key(settings: Settings) -> IssuedKey | None:
    """On an empty database, create the default team and its first key."""
    async with open_ledger(settings) as ledger:
        keys = KeyService(ledger.tenancy, SystemClock())
        if await keys.needs_first_key():
            return await keys.issue(DEFAULT_TEAM)
    return None


@dataclass(frozen=True, slots=True)
class Admin:
    """What the operator's commands (``pagemill teams``, ``pagemill keys``) work with."""

    teams: TeamService
    keys: KeyService


@contextlib.asynccontextmanager
async def open_admin(settings: Settings) -> AsyncIterator[Admin]:
    async with open_ledger(settings) as ledger:
        clock = SystemClock()
        yield Admin(
            teams=TeamService(ledger.tenancy, clock), keys=KeyService(ledger.tenancy, clock)
        )


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        workers=settings.workers,
        reaper_interval_seconds=settings.reaper_interval_seconds,
        shutdown_grace_seconds=settings.shutdown_grace_seconds,
        webhook_concurrency=settings.webhook_concurrency,
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
    )


def request_limits(settings: Settings) -> RequestLimits:
    """The limits the API puts on request bodies (size and pace)."""
    return RequestLimits(
        max_body_bytes=settings.max_json_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        read_timeout_seconds=settings.body_read_timeout_seconds,
        min_rate_bytes_per_second=settings.body_min_rate_bytes_per_second,
    )


def secret_box(settings: Settings) -> SecretBox:
    """``PAGEMILL_SECRETS_KEY``, or for a SQLite ledger a key generated once in the data dir;
    a PostgreSQL ledger without the setting stores its secrets unsealed (and says so)."""
    if settings.secrets_key is not None:
        return SecretBox(settings.secrets_key.get_secret_value().encode())
    if urlsplit(settings.ledger_url()).scheme.startswith("sqlite"):
        return SecretBox(load_or_create_secret(settings.data_dir / "secrets_key"))
    log.warning(
        "PAGEMILL_SECRETS_KEY is not set: webhook secrets and the session key are stored "
        "unsealed in the database"
    )
    return SecretBox(None)


def url_signing_secret(settings: Settings) -> bytes:
    """``PAGEMILL_URL_SIGNING_SECRET``, or a secret generated once in the data dir."""
    if settings.url_signing_secret is not None:
        return settings.url_signing_secret.get_secret_value().encode()
    return load_or_create_secret(settings.data_dir / "url_signing_secret")


def webhook_service(
    settings: Settings, ledger: WebhookLedger, clock: Clock, box: SecretBox | None = None
) -> WebhookService:
    """Webhooks signed per team and sent behind the URL guard (file_url's allow-list)."""
    sender = HttpWebhookSender(
        connect_timeout_seconds=settings.webhook_connect_timeout_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_networks=settings.url_allow_networks,
    )
    config = WebhookConfig(
        retry=RetryPolicy(
            tuple(settings.webhook_retry_schedule_seconds), settings.webhook_retry_jitter
        ),
        public_url=settings.public_url,
        rotation_grace_seconds=settings.webhook_secret_rotation_grace_seconds,
        # A claim outlives its request many times over before another loop takes it over.
        lease_seconds=max(60.0, 3 * settings.webhook_timeout_seconds),
    )
    return WebhookService(ledger, sender, clock, config, box=box)


def _queue(database_url: str) -> ProcrastinateQueue:
    # Imported here: Procrastinate is the `postgres` extra, not needed in embedded mode.
    from pagemill.adapters.procrastinate import ProcrastinateQueue

    return ProcrastinateQueue(database_url)


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
        queue = _queue(settings.ledger_url()) if settings.uses_procrastinate() else None
        ledger = await stack.enter_async_context(
            open_ledger(settings, queue.defer_in if queue is not None else None)
        )
        live = open_live_store(settings.live_url)
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
            ),
            metrics=metrics,
            storage=storage,
            tracing=tracing,
        )
        custom_processors = CustomProcessorService(ledger.custom_processors, processors, clock)
        extraction_schemas = ExtractionSchemaService(ledger.extraction_schemas, clock)
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
            admission=Admission(
                ledger.executions,
                blobs,
                AdmissionLimits(
                    settings.max_pages_per_request,
                    settings.max_pages_in_flight,
                    settings.page_count_timeout_seconds,
                ),
                counting,
                limits,
            ),
            file_resolver=files.resolve,
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
            pipelines=PipelineService(
                ledger.pipelines,
                processors,
                clock,
                settings.rates,
                custom_processors,
                extraction_schemas,
            ),
            custom_processors=custom_processors,
            extraction_schemas=extraction_schemas,
            executions=executions,
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
            batches=BatchService(
                ledger.collections, ledger.batch_runs, ledger.pipelines, executions, clock
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
