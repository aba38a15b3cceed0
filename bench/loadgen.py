"""HTTP GET load on keep-alive connections: ``wrk`` if installed, else asyncio.

Each of ``connections`` clients sends a request, waits for the whole response and sends the
next, for ``duration`` seconds: a closed loop, or, with ``pause_ms``, a poller that pauses
between its requests. The asyncio fallback speaks just enough HTTP/1.1 for this server
(Content-Length bodies), so the load generator costs little CPU.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from harness import percentile

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"


@dataclass(frozen=True)
class LoadResult:
    tool: str
    connections: int
    requests: int
    seconds: float
    errors: int  # transport errors + non-2xx responses
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def tool_name() -> str:
    return "wrk" if shutil.which("wrk") else "asyncio"


async def measure(
    url: str,
    headers: dict[str, str],
    connections: int,
    duration: float,
    pause_ms: int | None = None,
) -> LoadResult:
    """Load ``url`` for ``duration`` seconds. With ``pause_ms`` each connection pauses between
    its requests for a time uniform in [0.5, 1.5] x ``pause_ms``: a fixed pause would keep all
    connections in lock-step and send every poll in bursts of ``connections``, which no fleet
    of real clients does."""
    if shutil.which("wrk"):
        return await asyncio.to_thread(_wrk, url, headers, connections, duration, pause_ms)
    return await _asyncio_load(url, headers, connections, duration, pause_ms)


def _pause_seconds(pause_ms: int | None) -> float:
    return 0.0 if pause_ms is None else pause_ms * (0.5 + random.random()) / 1000


def _wrk(
    url: str, headers: dict[str, str], connections: int, duration: float, pause_ms: int | None
) -> LoadResult:
    if pause_ms is None:
        return _run_wrk(WRK_SCRIPT, url, headers, connections, duration)
    with tempfile.TemporaryDirectory(prefix="pagemill-wrk-") as tmp:
        script = Path(tmp) / "paced.lua"
        script.write_text(
            f"dofile({str(WRK_SCRIPT)!r})\n"
            "function init(args)\n"
            "  math.randomseed(os.time() + math.floor(os.clock() * 1e6))\n"
            "end\n"
            f"function delay()\n  return math.floor({int(pause_ms)} * (0.5 + math.random()))\n"
            "end\n"
        )
        return _run_wrk(script, url, headers, connections, duration)


def _run_wrk(
    script: Path, url: str, headers: dict[str, str], connections: int, duration: float
) -> LoadResult:
    threads = min(connections, 2)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 30, check=False
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        tool="wrk",
        connections=connections,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p99_ms=data["p99"] / 1000,
    )


async def _asyncio_load(
    url: str, headers: dict[str, str], connections: int, duration: float, pause_ms: int | None
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (head + "\r\n").encode()
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    deadline = start + duration

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(request)
                header = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in header.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                if not header.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")):
                    errors += 1
                if pause_ms is not None:
                    await asyncio.sleep(_pause_seconds(pause_ms))
        finally:
            writer.close()

    results = await asyncio.gather(*(client() for _ in range(connections)), return_exceptions=True)
    errors += sum(1 for r in results if isinstance(r, BaseException))
    elapsed = time.perf_counter() - start
    ms = [latency * 1000 for latency in latencies]
    return LoadResult(
        tool="asyncio",
        connections=connections,
        requests=len(ms),
        seconds=elapsed,
        errors=errors,
        p50_ms=percentile(ms, 50),
        p90_ms=percentile(ms, 90),
        p99_ms=percentile(ms, 99),
    )
