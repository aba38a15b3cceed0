"""Settings: the one reader of the environment (``PAGEMILL_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pagemill.domain.rates import DEFAULT_RATES_CENTS_PER_1000_PAGES

MB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob of a pagemill process; each field is also ``PAGEMILL_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PAGEMILL_", extra="ignore")

    data_dir: Path = Field(default=Path(".pagemill"), description="Where embedded state lives.")
    database_url: str | None = Field(
        default=None, description="Ledger URL; default: SQLite file in the data dir."
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

    max_upload_bytes: int = Field(default=200 * MB, ge=1)
    download_timeout_seconds: float = Field(default=30.0, gt=0)
    url_allow_networks: list[str] = Field(
        default_factory=list,
        description='CIDRs (JSON list, e.g. ["10.0.0.0/8"]) that file_url may reach: loopback, '
        "private, link-local and other non-public addresses are refused unless listed here.",
    )

    workers: int = Field(default=2, ge=0, description="In-process step workers (embedded).")
    process_pool_size: int = Field(default=2, ge=1)
    process_max_tasks_per_child: int = Field(default=50, ge=1)
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
