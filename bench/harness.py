"""Shared plumbing: start/stop the benchmark server, call the API, summarise latencies."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pagemill.bootstrap import issue_key
from pagemill.settings import Settings

BENCH_DIR = Path(__file__).resolve().parent
SERVER_SCRIPT = BENCH_DIR / "server.py"
HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
TINY_PDF = b"%PDF-1.4\n% pagemill benchmark document\n%%EOF\n"


def unique_pdf() -> bytes:
    """``TINY_PDF`` with random bytes after the header: the executor cache never answers for
    it, so the processors run (the benchmark's test processors accept any bytes)."""
    return TINY_PDF + f"% {secrets.token_hex(8)}\n".encode()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of ``values`` (not necessarily sorted); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Server:
    """A running ``bench/server.py`` process and an API key for it."""

    process: subprocess.Popen[bytes]
    base_url: str
    api_key: str
    data_dir: Path
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, timeout: float = 30.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url, headers={"X-API-Key": self.api_key}, timeout=timeout
        )

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


@contextlib.asynccontextmanager
async def running_server(workers: int = 2, processors: str = "bench") -> AsyncIterator[Server]:
    """Start a fresh server on a free loopback port with a temp data dir; always stop it.

    ``processors`` is ``bench`` (instant test processors) or ``standard`` (the real ones)."""
    with tempfile.TemporaryDirectory(prefix="pagemill-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        # Issue the key first: it also migrates the fresh ledger.
        issued = await issue_key(Settings(data_dir=data_dir, database_url=None), "bench")
        port = free_port()
        log_path = Path(tmp) / "server.log"
        # A clean environment: no PAGEMILL_* setting of the caller changes what is measured.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAGEMILL_")}
        # The load generators hammer one key on purpose: the per-key rate limit would measure
        # itself instead of the server.
        env["PAGEMILL_RATE_LIMIT_PER_MINUTE"] = "0"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(SERVER_SCRIPT),
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data_dir),
                    "--workers",
                    str(workers),
                    "--processors",
                    processors,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        server = Server(process, f"http://{HOST}:{port}", issued.secret, data_dir, log_path)
        try:
            await _wait_ready(server)
            yield server
        finally:
            await asyncio.to_thread(_stop, process)


async def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server exited at start-up:\n{server.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server was not ready in {STARTUP_TIMEOUT_SECONDS} s")


def expect(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} → "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json()


async def create_pipeline(client: httpx.AsyncClient, steps: list[dict[str, Any]]) -> str:
    body = expect(await client.post("/api/v1/pipelines", json={"steps": steps}))
    return str(body["pipeline_id"])


async def run_small(
    client: httpx.AsyncClient, pipeline_id: str, document: bytes = TINY_PDF
) -> dict[str, Any]:
    """Run ``pipeline_id`` on ``document``; the same bytes every time are answered by the
    executor cache from the second execution on (pass ``unique_pdf()`` to run processors)."""
    files = {"file": ("bench.pdf", document, "application/pdf")}
    result: dict[str, Any] = expect(
        await client.post(f"/api/v1/pipelines/{pipeline_id}/run", files=files)
    )
    return result


async def get_execution(
    client: httpx.AsyncClient, execution_id: str
) -> tuple[dict[str, Any], str | None]:
    response = await client.get(f"/api/v1/pipelines/executions/{execution_id}")
    return expect(response), response.headers.get("x-pagemill-source")
