"""The composition root: settings in, adapters chosen by URL, services out.

Only the entry points (the CLI and the library API) import it. ``adapters`` holds which adapter
each setting and URL selects; ``runtime`` assembles them into the services one process runs.
"""

from __future__ import annotations

# The library API runs a pipeline in its own process on the inline pool.
from pagemill.adapters.compute import InlineComputePool
from pagemill.bootstrap.adapters import (
    SCALE_OUT_EXTRAS,
    Admin,
    MissingExtras,
    check_extras,
    first_run_key,
    issue_key,
    ledger_pool,
    open_admin,
    open_ledger,
    open_limit_store,
    open_live_store,
    open_tracing,
    request_limits,
    url_signing_secret,
    worker_config,
)
from pagemill.bootstrap.runtime import open_runtime

__all__ = [
    "SCALE_OUT_EXTRAS",
    "Admin",
    "InlineComputePool",
    "MissingExtras",
    "check_extras",
    "first_run_key",
    "issue_key",
    "ledger_pool",
    "open_admin",
    "open_ledger",
    "open_limit_store",
    "open_live_store",
    "open_runtime",
    "open_tracing",
    "request_limits",
    "url_signing_secret",
    "worker_config",
]
