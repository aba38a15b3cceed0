"""Redis for tests: the shared server from the environment, or a private ``redis-server``.

Set ``PAGEMILL_TEST_REDIS_URL`` (e.g. ``redis://127.0.0.1:6379/0``) to run the live-store contract
against Redis; each test gets a random key prefix and its keys are deleted afterwards, so the
shared server is never flushed. Tests that need to stop Redis start a private ``redis-server`` on
a free loopback port instead (no persistence, files in the test's temp dir). Without the URL or
the binary, these tests skip with the reason, except in CI (``CI=true``) where they fail.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from pagemill.adapters.memory import MemoryLimitStore
from pagemill.adapters.redis import RedisLimitStore, RedisLiveStore
from tests.support.postgres import require_service

ENV_VAR = "PAGEMILL_TEST_REDIS_URL"


def redis_test_url() -> str | None:
    return os.environ.get(ENV_VAR) or None


@contextlib.asynccontextmanager
async def _shared_server_prefix() -> AsyncIterator[tuple[str, str]]:
    """The shared test server's URL and a fresh key prefix; its keys are deleted afterwards."""
    url = redis_test_url()
    if url is None:
        require_service("Redis", f"set {ENV_VAR} to run this test")
    prefix = f"pmtest:{secrets.token_hex(6)}:"
    admin = aioredis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        try:
            await admin.ping()
        except (RedisError, OSError) as error:
            require_service("Redis", f"cannot connect with {ENV_VAR}: {error}")
        try:
            yield url, prefix
        finally:
            keys = [key async for key in admin.scan_iter(match=f"{prefix}*", count=1000)]
            if keys:
                await admin.delete(*keys)
    finally:
        await admin.aclose()


@contextlib.asynccontextmanager
async def redis_live_store(**options: Any) -> AsyncIterator[RedisLiveStore]:
    """A ``RedisLiveStore`` on the shared test server under a fresh prefix, cleaned up after."""
    async with _shared_server_prefix() as (url, prefix):
        store = RedisLiveStore(url, prefix=prefix, **options)
        try:
            yield store
        finally:
            await store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RedisServer:
    """A private ``redis-server`` this test may kill, freeze and restart (same port each time)."""

    binary: str
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        assert self.process is None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self._pong():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: connections drop at once, every key is lost (no persistence)."""
        if self.process is None:
            return
        self.process.kill()  # also ends a frozen (SIGSTOP) server
        self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung server)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextlib.contextmanager
def private_redis_server(workdir: Path) -> Iterator[RedisServer]:
    """Start a private ``redis-server``; always kill it on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        require_service("Redis", "redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(binary, workdir)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextlib.asynccontextmanager
async def redis_limit_store(**options: Any) -> AsyncIterator[RedisLimitStore]:
    """A ``RedisLimitStore`` on the shared test server under a fresh prefix, cleaned up after."""
    async with _shared_server_prefix() as (url, prefix):
        store = RedisLimitStore(url, MemoryLimitStore(), prefix=prefix, **options)
        try:
            yield store
        finally:
            await store.close()
