"""Settings: the one reader of the environment (``PAGEMILL_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pagemill.domain.rates import DEFAULT_RATES_CENTS_PER_1000_PAGES
from pagemill.domain.webhooks import DEFAULT_RETRY_SCHEDULE

MB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob of a pagemill process; each field is also ``PAGEMILL_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PAGEMILL_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".pagemill"),
        description="State directory: the SQLite ledger (`pagemill.db`), blobs and the "
        "generated secrets; created (or tightened to) mode 0700. An existing `pagemill.db` that "
        "is empty, corrupt or not a pagemill ledger stops every command with a one-line error "
        "(only a missing one is a first start).",
    )
    database_url: str | None = Field(
        default=None,
        description="Ledger URL: `sqlite:///path` or `postgresql://user:pass@host:port/db`; "
        "unset: the SQLite file `pagemill.db` in the data dir.",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        description="PostgreSQL: connections each process keeps open once opened; keep it at or "
        "above the requests an API process serves at once, since every connection beyond it is "
        "a new server session per use. Single-row reads of the poll path use up to half as "
        "many more of their own.",
    )
    database_max_overflow: int = Field(
        default=20,
        ge=0,
        description="PostgreSQL: extra connections under load, closed after use. A process may "
        "open `pool size + overflow + pool size / 2` connections: keep the sum over all "
        "processes (API and workers; Procrastinate adds its own) under the server's "
        "`max_connections`.",
    )
    database_pool_recycle_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="PostgreSQL: a connection older than this is replaced at its next use (set "
        "it below any idle timeout of the server or of a proxy in between). Connections are "
        "not pinged before use: one the server dropped fails its request with a 503 and is "
        "replaced with all connections opened before it (single-row reads retry once on a new "
        "one).",
    )
    live_url: str = Field(
        default="memory://",
        description="The live store: `memory://` (in-process) or `redis://host:6379/0` (shared "
        "by every process of a scale-out deployment).",
    )
    blob_dir: Path | None = Field(
        default=None,
        description="Uploads, step results and checkpoints; unset: `<data dir>/blobs`. In a "
        "scale-out deployment, a directory shared by every node.",
    )
    queue: Literal["auto", "local", "procrastinate"] = Field(
        default="auto",
        description="Step delivery: `local` (a claim loop over the ledger), `procrastinate` "
        "(Procrastinate jobs in the ledger's PostgreSQL), `auto` (procrastinate on PostgreSQL, "
        "local otherwise).",
    )

    host: str = Field(default="127.0.0.1", description="Interface `pagemill serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `pagemill serve` listens on.")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies (comma-separated IPs or CIDRs; `*`: any) whose `X-Forwarded-For` "
        "and `X-Forwarded-Proto` give the client address and scheme.",
    )
    header_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A request's line and headers must arrive within this time of its first "
        "byte (or of connecting); else 408 and the connection is closed.",
    )
    max_header_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Request line and headers together; more: 431 and the connection is closed.",
    )
    keep_alive_timeout_seconds: float = Field(
        default=5.0, gt=0, description="An idle keep-alive connection is closed after this."
    )
    body_read_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="A request may wait for its body this long plus one second per "
        "`body_min_rate_bytes_per_second` bytes received; else 408 and the connection is "
        "closed.",
    )
    body_min_rate_bytes_per_second: int = Field(
        default=500,
        ge=1,
        description="The pace a request body must keep after `body_read_timeout_seconds`.",
    )
    max_json_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="The largest body of any request but a run's or a file upload's; larger: "
        "413, refused while reading (or at once from `Content-Length`).",
    )

    max_upload_bytes: int = Field(
        default=200 * MB,
        ge=1,
        description="Cap for uploads (run and files API) and `file_url` downloads, checked while "
        "streaming (200 MiB by default); over it: 413. A run body declaring more than this "
        "(plus its form fields) is refused before it is read.",
    )
    team_storage_quota_bytes: int = Field(
        default=0,
        ge=0,
        description="Bytes a team may store: uploads, run inputs (a run of an uploaded file "
        "counts its copy), results and checkpoints; an upload that would not fit: 413, nothing "
        "kept. `0`: no quota (the bytes are still counted: `GET /api/v1/teams/current/usage`).",
    )
    max_pages_per_request: int = Field(
        default=7000,
        ge=1,
        description="Pages one run may process, counted at submit (PDF pages, TIFF frames, "
        "slides, sheets; 1 for other formats) after `page_range`; over it: 400.",
    )
    max_pages_in_flight: int = Field(
        default=5000,
        ge=1,
        description="Pages of a team's pending and running executions, the new run included; "
        "over it: 429 with `Retry-After`. With a Redis live store the check holds across API "
        "replicas.",
    )
    page_count_processes: int = Field(
        default=2,
        ge=1,
        description="Processes that count a submitted document's pages (never the API process; "
        "started on the first submit).",
    )
    page_count_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="A document whose pages are not counted within this time is refused (400) "
        "and its counting process killed.",
    )
    page_count_memory_bytes: int = Field(
        default=512 * MB,
        ge=16 * MB,
        description="Memory a page-counting process may add for one document (an address-space "
        "limit); past it the document is refused (400).",
    )
    step_timeout_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="A step running longer fails without retry (its worker process is killed); "
        "a step's `settings.timeout_seconds` may only lower it.",
    )
    url_signing_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the signed file upload/download URLs; unset: 32 random bytes "
        "generated on the first start into `<data dir>/url_signing_secret` (mode 0600). Set the "
        "same value on every API process of a scale-out deployment that does not share the "
        "data dir; changing it invalidates outstanding URLs.",
    )
    download_timeout_seconds: float = Field(
        default=30.0, gt=0, description="`file_url` downloads: connecting, and each read."
    )
    download_deadline_seconds: float = Field(
        default=120.0,
        gt=0,
        description="`file_url` downloads: the whole download, redirects included; past it: 400 "
        "(a server trickling bytes never trips a read timeout).",
    )
    url_allow_networks: list[str] = Field(
        default_factory=list,
        description='JSON list of CIDRs (e.g. `["10.0.0.0/8"]`) that `file_url` and webhook '
        "URLs may reach although they are not public; loopback, private, link-local (cloud "
        "metadata), multicast and reserved addresses are refused otherwise.",
    )
    public_url: str | None = Field(
        default=None,
        description="This server's external base URL (`https://pagemill.example.com`, a path "
        "prefix allowed): signed file URLs are built on it and the URLs in webhook payloads are "
        "absolute, and so is a single-shot request's `request_check_url`. Unset: those use "
        "the request's `Host` header (trusted) and webhook URLs are paths.",
    )
    request_retention_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How long the result of a single-shot request (`/api/v1/convert` and the "
        "others) or of a step, polled by its `request_id`/`lookup_key`, stays readable after "
        "it ended; later polls answer 404 (the hosted API keeps results one hour).",
    )
    request_poll_wait_seconds: float = Field(
        default=0.25,
        ge=0,
        le=5,
        description="How long a poll of a running single-shot request (or step lookup key) "
        "waits for it to finish before answering `processing`: a request that ends meanwhile "
        "is answered complete at once instead of at the client's next poll. 0: never wait.",
    )
    webhook_retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE),
        description="JSON list: delays between webhook attempts (about 24 h in all); after the "
        "last, the delivery fails.",
    )
    webhook_retry_jitter: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Each webhook retry delay is multiplied by a random factor in "
        "`[1 - jitter, 1 + jitter]`.",
    )
    webhook_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Per webhook attempt: connecting."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Per webhook attempt: the whole request."
    )
    batch_in_flight_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of a team's `max_pages_in_flight` its batch runs may fill; the rest "
        "stays free for its other submissions.",
    )
    webhook_concurrency: int = Field(
        default=4, ge=1, description="Webhook attempts in flight per process that runs workers."
    )
    webhook_secret_rotation_grace_seconds: float = Field(
        default=86400.0,
        ge=0,
        description="After a rotation, how long the previous team webhook secret still signs "
        "(a second signature).",
    )

    workers: int = Field(
        default=2, ge=0, description="In-process step workers of `pagemill serve` (0: API only)."
    )
    process_pool_size: int = Field(
        default=2, ge=1, description="Worker processes for CPU-heavy steps (conversion)."
    )
    slice_pages: int = Field(
        default=50,
        ge=0,
        description="A PDF converting more pages than this is read in page slices of at most "
        "this many pages, in parallel in the worker processes of the worker that runs the step, "
        "then merged: the output is the same as unsplit (0: never split).",
    )
    process_max_tasks_per_child: int = Field(
        default=500,
        ge=1,
        description="A worker process is replaced after this many steps (its successor starts "
        "in the background, with the PDF parser already imported).",
    )
    lease_seconds: float = Field(
        default=30.0, gt=0, description="A step's lease; the reaper requeues it when it runs out."
    )
    heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="How often a running step renews its lease."
    )
    reaper_interval_seconds: float = Field(
        default=5.0, gt=0, description="How often expired leases are looked for."
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Attempts per step (a lost worker counts as one)."
    )
    retry_base_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Full-jitter backoff between attempts: "
        "`uniform(0, min(retry_max, retry_base * 2^(attempt - 1)))`.",
    )
    retry_max_seconds: float = Field(
        default=60.0, ge=0, description="The longest backoff between attempts."
    )
    live_ttl_after_finish_seconds: float = Field(
        default=3600.0, ge=0, description="How long a finished execution stays in the live store."
    )
    events_keep_alive_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How often an idle event stream (`GET …/executions/{id}/events`) sends a "
        "`: keep-alive` comment, so proxies do not close it.",
    )
    retention_seconds: float = Field(
        default=30 * 86400.0,
        ge=0,
        description="How long an execution's input, results and checkpoints are kept after it "
        "ends, unless its pipeline or team sets its own (API: `PUT "
        "/api/v1/pipelines/{id}/retention`, `PUT /api/v1/team/retention`); then its results "
        "answer 410 Gone and the sweeper removes them. 0: kept until deleted.",
    )
    retention_sweep_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the retention sweeper (in every process that runs steps) looks "
        "for expired executions; a pass that filled its batch is followed by another at once.",
    )
    retention_sweep_batch: int = Field(
        default=100,
        ge=1,
        description="Expired executions one sweeper pass purges (one short transaction each).",
    )
    orphan_blob_min_age_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How old a blob of an execution (input, result, checkpoint) must be before "
        "the retention sweeper deletes it for being named by no execution (left by a crash "
        "between a purge and its deletions). Longer than any upload, page count or step takes, "
        "so a blob written just before the row naming it commits is never taken.",
    )
    idempotency_key_ttl_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="How long an `Idempotency-Key` of a submission is remembered: within this "
        "time the same key and request give the same execution (a different request with it is "
        "refused with 409); after it the key is free again.",
    )
    shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On shutdown, how long running steps may finish before they are handed back.",
    )
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long an authenticated key (or browser session) is trusted without a "
        "ledger read: a revoked key or ended session stops working within this time on other "
        "API processes. Requests with the same key share one read; once an entry is half this "
        "old, a request renews it in the background.",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the `wos-session` cookies and CSRF tokens (at least 16 "
        "characters); unset: a random secret generated on the first start and stored in the "
        "ledger (table `server_secrets`, sealed with `secrets_key`), shared by every replica. "
        "Changing it logs everyone out.",
    )
    secrets_key: SecretStr | None = Field(
        default=None,
        description="Seals the secrets the ledger must keep readable (webhook secrets, the "
        "session signing key) with AES-256-GCM; at least 32 characters, the same on every API "
        "and worker process. Unset: a key generated once into `<data dir>/secrets_key` (mode "
        "0600) for a SQLite ledger; with PostgreSQL those secrets are then stored unsealed (a "
        "warning at start). Changing or losing it makes sealed secrets unreadable.",
    )
    session_ttl_seconds: float = Field(
        default=86400.0, gt=0, description="How long a browser session lasts after login."
    )
    invitation_ttl_seconds: float = Field(
        default=7 * 86400.0, gt=0, description="How long an invitation to a team can be accepted."
    )
    session_cookie_secure: bool = Field(
        default=True,
        description="Mark the session cookie `Secure`; `false` only for plain-http development "
        "(browsers do not send a Secure cookie over http).",
    )
    rate_limit_per_minute: int = Field(
        default=400,
        ge=0,
        description="Requests per minute per API key (or logged-in user): shared by every API "
        "replica with a Redis live store, per process otherwise; `0` turns the limit off.",
    )
    rate_limit_burst: int | None = Field(
        default=None,
        ge=1,
        description="How many requests a key may send at once before the per-minute refill "
        "paces it; unset: the per-minute rate.",
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        description="The failed login of one account that starts its lock-outs (429 with "
        "`Retry-After`).",
    )
    login_free_failures_per_address: int = Field(
        default=20,
        ge=1,
        description="The failed login from one client address that starts its lock-outs.",
    )
    login_lockout_base_seconds: float = Field(
        default=1.0,
        gt=0,
        description="The first lock-out after failed logins; each further failure doubles it.",
    )
    login_lockout_max_seconds: float = Field(
        default=900.0, gt=0, description="The longest lock-out after failed logins."
    )
    login_failures_forget_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Failed logins are forgotten this long after the last lock-out ends; a "
        "successful login clears an account's at once.",
    )

    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint of the optional LLM extractor (needs the LLM "
        "key and model too).",
    )
    llm_api_key: SecretStr | None = Field(default=None, description="API key of the LLM endpoint.")
    llm_model: str | None = Field(default=None, description="Model name at the LLM endpoint.")

    admin_token: SecretStr | None = Field(
        default=None,
        description="Enables `GET /api/v1/admin/steps` with `X-Admin-Token`; unset: the admin "
        "API does not exist (404).",
    )
    stuck_lease_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="A step whose lease expired longer ago than this counts as stuck (report "
        "and gauges).",
    )
    stuck_queued_seconds: float = Field(
        default=300.0,
        ge=0,
        description="A step queued longer than this counts as stuck (no worker serves its type).",
    )
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint of an OpenTelemetry collector "
        "(`http://collector:4318`, or the full `…/v1/traces` URL): when set, every execution "
        "is traced (one trace per execution, a span per step attempt). Needs the `otel` extra "
        "(`pip install 'pagemill[otel]'`); unset: nothing is traced.",
    )
    otel_service_name: str = Field(
        default="pagemill",
        description="The `service.name` of the spans sent to the OpenTelemetry collector.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: one JSON object per log line, with execution and step ids.",
    )

    rates: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_RATES_CENTS_PER_1000_PAGES),
        description="JSON object: per-processor rates in cents per 1,000 pages, merged over the "
        'defaults, e.g. `{"convert": 250, "extract": 900}`.',
    )

    @field_validator("public_url")
    @classmethod
    def _absolute_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError("public_url must be an absolute http(s) URL without a query")
        return value.strip().rstrip("/")

    @field_validator("rates")
    @classmethod
    def _merge_rates(cls, value: dict[str, int]) -> dict[str, int]:
        if any(cents < 0 for cents in value.values()):
            raise ValueError("rates must not be negative")
        return {**DEFAULT_RATES_CENTS_PER_1000_PAGES, **value}

    def ledger_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'pagemill.db').resolve()}"

    def uses_procrastinate(self) -> bool:
        if self.queue == "auto":
            return self.ledger_url().split(":", 1)[0].startswith("postgres")
        return self.queue == "procrastinate"

    def blob_root(self) -> Path:
        return (self.blob_dir or self.data_dir / "blobs").resolve()
