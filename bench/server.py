"""The benchmark server: ``pagemill serve`` with test processors and one extra bare endpoint.

    .venv/bin/python bench/server.py --port 8123 --data-dir /tmp/pm-bench

Composed like ``pagemill.cli.serve`` (settings → ``open_runtime`` → ``embedded`` workers →
``create_app``), with three differences: the processor registry holds the benchmark's fast
test processors (``bench_processors``), compute runs inline (no process pool to start), and
``GET /bench/constant`` returns a constant JSON body — the floor the API is compared with.
``--processors standard`` removes the first two differences (the throughput benchmark of a
real one-page document).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Response

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_processors import RELEASE, FastSegment, SleepyConvert
from pagemill.adapters.compute import InlineComputePool
from pagemill.api import create_app
from pagemill.bootstrap import open_runtime
from pagemill.processors.registry import ProcessorRegistry
from pagemill.services.container import Services
from pagemill.settings import Settings
from pagemill.worker import embedded

CONSTANT_BODY = b'{"status":"ok","bench":"constant"}'


def build_app(settings: Settings, *, standard_processors: bool = False) -> FastAPI:
    """The app; ``standard_processors`` swaps the test processors for pagemill's real ones and
    the inline compute for the real process pool (what ``pagemill serve`` runs)."""
    runtime_parts: dict[str, Any] = {}
    if not standard_processors:
        runtime_parts = {
            "compute": InlineComputePool(),
            "processors": ProcessorRegistry([SleepyConvert(), FastSegment()]),
        }

    @contextlib.asynccontextmanager
    async def serving() -> AsyncIterator[Services]:
        try:
            async with (
                open_runtime(settings, **runtime_parts) as runtime,
                embedded(runtime) as services,
            ):
                yield services
        finally:
            RELEASE.set()  # let a sleeping step's thread end, so the process can exit

    app = create_app(serving)

    @app.get("/bench/constant", include_in_schema=False)
    async def constant() -> Response:
        return Response(CONSTANT_BODY, media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2, help="embedded step workers")
    parser.add_argument(
        "--processors",
        choices=("bench", "standard"),
        default="bench",
        help="the instant test processors (default), or pagemill's real ones",
    )
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("the benchmark server listens on loopback only")
    settings = Settings(
        data_dir=args.data_dir, host=args.host, port=args.port, workers=args.workers
    )
    uvicorn.run(
        build_app(settings, standard_processors=args.processors == "standard"),
        host=args.host,
        port=args.port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
