"""Limits that hold across API replicas: two ``pagemill serve`` processes on one PostgreSQL
ledger and one Redis, a client spreading its requests over both. Per-replica limits would let
twice the limit through; with the limits in Redis the team gets the limit once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from docgen.pdfgen import make_pdf
from tests.acceptance.conftest import clean_env
from tests.support.postgres import postgres_database
from tests.support.processes import PagemillProcess, free_port
from tests.support.redis import private_redis_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def replicas(root: Path, **env: str) -> Iterator[list[PagemillProcess]]:
    with postgres_database() as url, private_redis_server(root / "redis") as redis:
        shared = clean_env(
            PAGEMILL_DATABASE_URL=url,
            PAGEMILL_LIVE_URL=redis.url,
            PAGEMILL_BLOB_DIR=str(root / "blobs"),
            PAGEMILL_URL_SIGNING_SECRET="one-secret-for-every-replica-0123456789",
            **env,
        )
        subprocess.run(
            [sys.executable, "-m", "pagemill", "migrate"],
            env=shared,
            check=True,
            timeout=60,
            capture_output=True,
        )
        running: list[PagemillProcess] = []
        try:
            for index in range(2):
                api = PagemillProcess(
                    # API only: no workers, so every submitted execution stays in flight.
                    args=["serve", "--workers", "0", "--data-dir", str(root / f"api{index}")],
                    env=shared,
                    log=root / f"api{index}.log",
                    port=free_port(),
                )
                running.append(api)
                api.start()
            yield running
        finally:
            for api in running:
                api.stop()


@pytest.fixture
def rate_limited(tmp_path: Path) -> Iterator[list[PagemillProcess]]:
    yield from replicas(tmp_path, PAGEMILL_RATE_LIMIT_PER_MINUTE="6", PAGEMILL_RATE_LIMIT_BURST="6")


@pytest.fixture
def page_limited(tmp_path: Path) -> Iterator[list[PagemillProcess]]:
    yield from replicas(tmp_path, PAGEMILL_MAX_PAGES_IN_FLIGHT="4")


def test_the_per_key_rate_holds_across_replicas(rate_limited: list[PagemillProcess]) -> None:
    key = rate_limited[0].api_key
    clients = [
        httpx.Client(base_url=api.base_url, headers={"X-API-Key": key}, timeout=30)
        for api in rate_limited
    ]
    try:
        statuses = [clients[i % 2].get("/api/v1/pipelines").status_code for i in range(20)]
    finally:
        for client in clients:
            client.close()

    admitted = statuses.count(200)
    # One bucket of 6 (plus what refills at 0.1 a second while the test runs); per-replica
    # buckets would have let 12 through.
    assert 6 <= admitted <= 8, statuses
    assert statuses.count(429) == 20 - admitted


def test_pages_in_flight_hold_across_replicas(
    page_limited: list[PagemillProcess], tmp_path: Path
) -> None:
    key = page_limited[0].api_key
    pdf = make_pdf(tmp_path / "one.pdf", [[("p", "One page.")]]).read_bytes()
    with httpx.Client(base_url=page_limited[0].base_url, headers={"X-API-Key": key}) as client:
        created = client.post("/api/v1/pipelines", json={"steps": [{"type": "convert"}]})
        pipeline_id = created.json()["pipeline_id"]

    def submit(index: int) -> int:
        api = page_limited[index % 2]
        with httpx.Client(base_url=api.base_url, headers={"X-API-Key": key}, timeout=60) as c:
            response = c.post(
                f"/api/v1/pipelines/{pipeline_id}/run",
                files={"file": (f"doc{index}.pdf", pdf, "application/pdf")},
            )
            return response.status_code

    # Twelve one-page runs at once, six through each replica, against a limit of 4 pages.
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(submit, range(12)))

    assert statuses.count(200) == 4, statuses
    assert statuses.count(429) == 8, statuses
