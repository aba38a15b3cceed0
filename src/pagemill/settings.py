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

    data_dir: Path = Field(default=Path(".pagemill"), description="Where embedded state lives.")
    database_url: str | None = Field(
        default=None, description="Ledger URL; default: SQLite file in the data dir."
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        description="PostgreSQL connections each process keeps open (at least its concurrent "
        "requests).",
    )
    database_max_overflow: int = Field(
        default=20, ge=0, description="Extra PostgreSQL connections under load, closed after use."
    )
    database_pool_recycle_seconds: float = Field(
        default=1800.0, gt=0, description="A PostgreSQL connection older than this is replaced."
    )
    live_url: str = Field(default="memory://", description="Live store URL.")
    blob_dir: Path | None = Field(default=None, description="Blob directory; default: data dir.")
    queue: Literal["auto", "local", "procrastinate"] = Field(
        default="auto",
        description="Step delivery: 'local' polls the ledger in-process; 'procrastinate' uses "
        "Procrastinate in the ledger's PostgreSQL; 'auto' picks procrastinate on PostgreSQL.",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies (comma-separated IPs, CIDRs or '*') whose X-Forwarded-For and "
        "X-Forwarded-Proto headers uvicorn trusts for the client address and scheme.",
    )
    header_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A client must send a request's whole header within this time of its "
        "first byte (or of connecting); else 408 and the connection is closed.",
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Request line and headers, together; over → 431."
    )
    keep_alive_timeout_seconds: float = Field(
        default=5.0, gt=0, description="An idle keep-alive connection is closed after this."
    )
    body_read_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Time a request may spend waiting for its body, plus one second per "
        "body_min_rate_bytes_per_second bytes received; over → 408.",
    )
    body_min_rate_bytes_per_second: int = Field(default=500, ge=1)
    max_json_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest body of a JSON request (every route but the document uploads); "
        "over → 413, refused while reading.",
    )

    max_upload_bytes: int = Field(default=200 * MB, ge=1)
    team_storage_quota_bytes: int = Field(
        default=0,
        ge=0,
        description="Bytes a team may store (uploads, run inputs, results); past it uploads "
        "and runs get 413. 0: no quota (the bytes are still counted).",
    )
    max_pages_per_request: int = Field(
        default=7000, ge=1, description="Pages one run may process (counted at submit)."
    )
    max_pages_in_flight: int = Field(
        default=5000, ge=1, description="Pages in a team's unfinished executions (this run too)."
    )
    page_count_processes: int = Field(
        default=2, ge=1, description="Processes that count a submitted document's pages."
    )
    page_count_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Counting a document's pages longer than this refuses it."
    )
    page_count_memory_bytes: int = Field(
        default=512 * MB,
        ge=16 * MB,
        description="Memory a page-counting process may take for one document; past it the "
        "document is refused.",
    )
    step_timeout_seconds: float = Field(
        default=1800.0, gt=0, description="A step running longer fails (not retried)."
    )
    url_signing_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of signed file upload/download URLs; unset: generated once and "
        "kept in the data dir (set the same value on every API replica of a scale-out).",
    )
    download_timeout_seconds: float = Field(
        default=30.0, gt=0, description="file_url: connecting, and each read."
    )
    download_deadline_seconds: float = Field(
        default=120.0, gt=0, description="file_url: the whole download, redirects included."
    )
    url_allow_networks: list[str] = Field(
        default_factory=list,
        description='CIDRs (JSON list, e.g. ["10.0.0.0/8"]) that file_url may reach: loopback, '
        "private, link-local and other non-public addresses are refused unless listed here.",
    )
    public_url: str | None = Field(
        default=None,
        description="This server's external base URL (https://pagemill.example.com): signed "
        "file URLs are built on it and webhook payload URLs are absolute; unset: signed URLs use "
        "the request's Host header and webhook URLs are paths.",
    )
    webhook_retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_SCHEDULE),
        description="Delays between webhook attempts (JSON list); after the last, give up.",
    )
    webhook_retry_jitter: float = Field(default=0.2, ge=0, lt=1)
    webhook_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Per attempt, total.")
    webhook_concurrency: int = Field(default=4, ge=1, description="Attempts in flight/process.")
    webhook_secret_rotation_grace_seconds: float = Field(
        default=86400.0, ge=0, description="How long a rotated-out webhook secret still signs."
    )

    workers: int = Field(default=2, ge=0, description="In-process step workers (embedded).")
    process_pool_size: int = Field(default=2, ge=1)
    process_max_tasks_per_child: int = Field(default=500, ge=1)
    lease_seconds: float = Field(default=30.0, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    reaper_interval_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    retry_base_seconds: float = Field(default=1.0, ge=0)
    retry_max_seconds: float = Field(default=60.0, ge=0)
    live_ttl_after_finish_seconds: float = Field(default=3600.0, ge=0)
    shutdown_grace_seconds: float = Field(
        default=10.0, ge=0, description="On shutdown, how long running steps may finish."
    )
    key_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long an authenticated key is trusted without a read."
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs browser session cookies and CSRF tokens; unset: generated on the "
        "first start and stored in the ledger (table server_secrets).",
    )
    secrets_key: SecretStr | None = Field(
        default=None,
        description="Seals the secrets the ledger keeps (webhook secrets, the session key): at "
        "least 32 characters, the same on every process. Unset: generated once into the data "
        "dir for a SQLite ledger; with PostgreSQL those secrets are then stored unsealed.",
    )
    session_ttl_seconds: float = Field(default=86400.0, gt=0, description="Session lifetime.")
    invitation_ttl_seconds: float = Field(
        default=7 * 86400.0, gt=0, description="How long an invitation to a team may be accepted."
    )
    session_cookie_secure: bool = Field(
        default=True, description="Mark the session cookie Secure (false: plain-http dev only)."
    )
    rate_limit_per_minute: int = Field(
        default=400, ge=0, description="Requests per minute per API key or session; 0: off."
    )
    rate_limit_burst: int | None = Field(
        default=None, ge=1, description="Rate-limit bucket size; default: the per-minute rate."
    )
    login_free_failures: int = Field(
        default=5, ge=1, description="Failed logins of one account before lock-outs begin."
    )
    login_free_failures_per_address: int = Field(
        default=20, ge=1, description="Failed logins from one client address before lock-outs."
    )
    login_lockout_base_seconds: float = Field(
        default=1.0, gt=0, description="The first lock-out; each further failure doubles it."
    )
    login_lockout_max_seconds: float = Field(default=900.0, gt=0)
    login_failures_forget_seconds: float = Field(
        default=3600.0, gt=0, description="Failures are forgotten this long after the last one."
    )

    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint for the optional LLM extractor."
    )
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None

    admin_token: SecretStr | None = Field(
        default=None, description="Enables the admin API (X-Admin-Token); unset: disabled."
    )
    stuck_lease_grace_seconds: float = Field(default=30.0, ge=0)
    stuck_queued_seconds: float = Field(default=300.0, ge=0)
    log_format: Literal["text", "json"] = "text"

    rates: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_RATES_CENTS_PER_1000_PAGES))

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
