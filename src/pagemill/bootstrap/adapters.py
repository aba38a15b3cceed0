"""The composition root's choices: which adapter each setting and URL selects, and the small
builders (ledger, live store, limits, tracing, secrets) the runtime is assembled from."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pagemill.adapters.filesystem import (
    load_or_create_secret,
    private_directory,
)
from pagemill.adapters.http import HttpWebhookSender
from pagemill.adapters.memory import MemoryLimitStore, MemoryLiveStore
from pagemill.adapters.sql import DispatchHook, PoolSizing, create_ledger, migrate_async
from pagemill.api.request_limits import RequestLimits
from pagemill.domain.clock import Clock, SystemClock
from pagemill.domain.limits import Backoff
from pagemill.domain.webhooks import RetryPolicy
from pagemill.ports.ledger import Ledger
from pagemill.ports.ledger.webhooks import WebhookLedger
from pagemill.ports.limits import LimitStore
from pagemill.ports.live import LiveStore
from pagemill.ports.tracing import NoTracing, Tracing
from pagemill.services.container import WorkerConfig
from pagemill.services.keys import DEFAULT_TEAM, IssuedKey, KeyService
from pagemill.services.ratelimit import LoginThrottle
from pagemill.services.secret_box import SecretBox
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


def open_live_store(url: str, clock: Clock | None = None) -> LiveStore:
    """The live store ``url`` names; ``clock`` times the in-process store's expiry (Redis
    expires keys by its own clock)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryLiveStore(clock=clock)
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
        await open_queue(url).apply_schema()
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
        retention_sweep_interval_seconds=settings.retention_sweep_interval_seconds,
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


def open_queue(database_url: str) -> ProcrastinateQueue:
    # Imported here: Procrastinate is the `postgres` extra, not needed in embedded mode.
    from pagemill.adapters.procrastinate import ProcrastinateQueue

    return ProcrastinateQueue(database_url)
