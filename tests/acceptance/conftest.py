"""Real ``pagemill serve`` processes on loopback, driven like users drive them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

KEY_PATTERN = re.compile(r"^\s+(pm_[A-Za-z0-9]+)\s*$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    api_key: str = ""
    starts: list[int] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as handle:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pagemill",
                    "serve",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        self.starts.append(self.process.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pagemill serve exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(f"pagemill serve did not start:\n{self.log.read_text()}")
        if not self.api_key:
            found = KEY_PATTERN.search(self.log.read_text())
            assert found, f"no API key printed on first start:\n{self.log.read_text()}"
            self.api_key = found.group(1)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {
        **os.environ,
        "PAGEMILL_HEARTBEAT_SECONDS": "0.5",
        "PAGEMILL_LEASE_SECONDS": "3",
        "PAGEMILL_REAPER_INTERVAL_SECONDS": "0.5",
        "PAGEMILL_RETRY_BASE_SECONDS": "0.1",
        "PAGEMILL_RETRY_MAX_SECONDS": "0.5",
    }
    for name in ("DATALAB_HOST", "DATALAB_API_KEY", "PAGEMILL_DATABASE_URL"):
        env.pop(name, None)
    server = ServerProcess(
        data_dir=tmp_path / "data", port=free_port(), env=env, log=tmp_path / "serve.log"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
