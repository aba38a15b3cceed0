"""Real ``pagemill serve`` processes on loopback, driven like users drive them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import PagemillProcess, free_port

# Short leases and retries so that crash recovery shows within seconds.
FAST_RECOVERY = {
    "PAGEMILL_HEARTBEAT_SECONDS": "0.5",
    "PAGEMILL_LEASE_SECONDS": "3",
    "PAGEMILL_REAPER_INTERVAL_SECONDS": "0.5",
    "PAGEMILL_RETRY_BASE_SECONDS": "0.1",
    "PAGEMILL_RETRY_MAX_SECONDS": "0.5",
    # Tests poll every few milliseconds with one key; the per-key rate limit has its own tests.
    "PAGEMILL_RATE_LIMIT_PER_MINUTE": "0",
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **FAST_RECOVERY, **extra}
    for name in ("DATALAB_HOST", "DATALAB_API_KEY", "PAGEMILL_DATABASE_URL", "PAGEMILL_LIVE_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


class ServerProcess(PagemillProcess):
    @property
    def data_dir(self) -> Path:
        return Path(self.args[self.args.index("--data-dir") + 1])


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        args=["serve", "--data-dir", str(tmp_path / "data")],
        env=clean_env(),
        log=tmp_path / "serve.log",
        port=free_port(),
    )
    server.start()
    assert server.api_key, "the first start prints an API key"
    try:
        yield server
    finally:
        server.stop()
