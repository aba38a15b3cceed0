"""Real pagemill processes (``serve``, ``worker``, ``reaper``) for acceptance and integration
tests, on loopback, with their output in a log file."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

KEY_PATTERN = re.compile(r"^\s+(pm_[A-Za-z0-9]+)\s*$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PagemillProcess:
    """``python -m pagemill <args>``; ``start`` waits until it is ready."""

    args: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None  # set for ``serve``: readiness is /readyz answering 200
    process: subprocess.Popen[bytes] | None = None
    api_key: str = ""
    pids: list[int] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_text: str | None = None) -> None:
        args = [*self.args, "--port", str(self.port)] if self.port is not None else self.args
        with self.log.open("ab") as handle:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pagemill", *args],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        self.pids.append(self.process.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pagemill {args[0]} exited:\n{self.log.read_text()}")
            if self._ready(ready_text):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"pagemill {args[0]} did not start:\n{self.log.read_text()}")
        if self.port is not None and not self.api_key:
            found = KEY_PATTERN.search(self.log.read_text())
            if found:
                self.api_key = found.group(1)

    def _ready(self, ready_text: str | None) -> bool:
        if self.port is None:
            return ready_text is None or ready_text in self.log.read_text()
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

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
