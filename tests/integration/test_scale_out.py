"""Scale-out on real services: a PostgreSQL ledger, Procrastinate delivery, separate ``serve``
and ``worker`` processes — and what happens when those processes or the database die."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from docgen.pdfgen import make_large_pdf, make_pdf
from tests.acceptance.conftest import clean_env
from tests.support.postgres import postgres_database, require_service
from tests.support.processes import PagemillProcess, free_port
from tests.support.redis import private_redis_server
from tests.support.wire import assert_execution_shape

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TERMINAL = {"completed", "completed_with_errors", "failed"}


@dataclass
class Cluster:
    url: str
    root: Path
    env: dict[str, str]
    processes: list[PagemillProcess] = field(default_factory=list)
    api_key: str = ""

    def _process(self, args: list[str], name: str, port: int | None = None) -> PagemillProcess:
        process = PagemillProcess(
            args=[*args, "--data-dir", str(self.root / name)],
            env=self.env,
            log=self.root / f"{name}.log",
            port=port,
        )
        self.processes.append(process)
        return process

    def api(self) -> PagemillProcess:
        server = self._process(
            ["serve", "--workers", "0"], f"api{len(self.processes)}", free_port()
        )
        server.start()
        self.api_key = self.api_key or server.api_key
        return server

    def worker(self, concurrency: int = 1) -> PagemillProcess:
        worker = self._process(
            ["worker", "--concurrency", str(concurrency)], f"worker{len(self.processes)}"
        )
        worker.start(ready_text="pagemill worker serving")
        return worker

    def reaper(self) -> PagemillProcess:
        reaper = self._process(["reaper", "--interval", "0.5"], f"reaper{len(self.processes)}")
        reaper.start()
        return reaper

    def client(self, api: PagemillProcess) -> httpx.Client:
        return httpx.Client(base_url=api.base_url, headers={"X-API-Key": self.api_key}, timeout=30)

    def results_of(self, execution_id: str) -> int:
        with psycopg.connect(self.url.replace("+psycopg", "")) as conn:
            row = conn.execute(
                "SELECT count(*) FROM step_results WHERE execution_id = %s", (execution_id,)
            ).fetchone()
        assert row is not None
        return int(row[0])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with postgres_database() as url, private_redis_server(tmp_path / "redis") as redis:
        env = clean_env(
            PAGEMILL_DATABASE_URL=url,
            PAGEMILL_LIVE_URL=redis.url,  # one live store for every replica and worker
            PAGEMILL_BLOB_DIR=str(tmp_path / "shared-blobs"),  # the directory all nodes share
        )
        subprocess.run(
            [sys.executable, "-m", "pagemill", "migrate"],
            env=env,
            check=True,
            timeout=60,
            capture_output=True,
        )
        running = Cluster(url=url, root=tmp_path, env=env)
        try:
            yield running
        finally:
            for process in running.processes:
                process.stop()


def submit(client: httpx.Client, pdf: Path) -> str:
    pipeline = client.post("/api/v1/pipelines", json={"steps": [{"type": "convert"}]})
    assert pipeline.status_code == 200, pipeline.text
    with pdf.open("rb") as handle:
        started = client.post(
            f"/api/v1/pipelines/{pipeline.json()['pipeline_id']}/run",
            files={"file": (pdf.name, handle)},
        )
    assert started.status_code == 200, started.text
    return str(started.json()["execution_id"])


def poll(client: httpx.Client, execution_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/pipelines/executions/{execution_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert_execution_shape(body)
    return body


def wait_until(
    client: httpx.Client,
    execution_id: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 90,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = poll(client, execution_id)
        if done(body):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{execution_id} never reached the expected state: {body}")


def running_on(body: dict[str, Any]) -> int | None:
    """The pid of the worker process holding step 0's lease (ids are host:pid:boot/slot)."""
    step = body["steps"][0]
    if step["status"] != "running" or not step.get("worker"):
        return None
    return int(str(step["worker"]).split(":")[1])


def test_a_killed_worker_loses_its_step_to_another(cluster: Cluster, tmp_path: Path) -> None:
    api = cluster.api()
    workers = [cluster.worker(), cluster.worker()]
    cluster.reaper()
    with cluster.client(api) as client:
        execution_id = submit(client, make_large_pdf(tmp_path / "big.pdf", 300))
        body = wait_until(client, execution_id, lambda b: running_on(b) is not None)
        victim = next(w for w in workers if w.process and w.process.pid == running_on(body))
        victim.kill()

        finished = wait_until(client, execution_id, lambda b: b["status"] in TERMINAL)
        assert finished["status"] == "completed"
        assert finished["steps"][0]["attempt"] == 2
        assert cluster.results_of(execution_id) == 1


def test_a_document_that_kills_every_worker_fails_after_max_attempts(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.env["PAGEMILL_MAX_ATTEMPTS"] = "2"
    api = cluster.api()
    cluster.reaper()
    with cluster.client(api) as client:
        execution_id = submit(client, make_large_pdf(tmp_path / "poison.pdf", 300))
        for attempt in (1, 2):
            worker = cluster.worker()
            wait_until(
                client,
                execution_id,
                lambda b, n=attempt: running_on(b) is not None and b["steps"][0]["attempt"] == n,
            )
            worker.kill()  # this document "kills" whoever runs it
        failed = wait_until(client, execution_id, lambda b: b["status"] in TERMINAL)
        assert failed["status"] == "failed"
        assert "lost" in failed["steps"][0]["error_message"]
        assert cluster.results_of(execution_id) == 0


def test_two_replicas_and_two_workers_serve_every_poll(cluster: Cluster, tmp_path: Path) -> None:
    replicas = [cluster.api(), cluster.api()]
    cluster.worker(concurrency=2)
    cluster.worker(concurrency=2)
    pdf = make_pdf(tmp_path / "small.pdf", [[("h1", "Title"), ("p", "Body text here.")]])
    clients = [cluster.client(api) for api in replicas]
    try:
        # A step running on a worker is seen live by a replica that did not start it.
        slow = submit(clients[0], make_large_pdf(tmp_path / "big.pdf", 300))
        deadline = time.monotonic() + 60
        sources: set[str] = set()
        while time.monotonic() < deadline and "live" not in sources:
            seen = clients[1].get(f"/api/v1/pipelines/executions/{slow}")
            if seen.json()["steps"][0]["status"] == "running":
                sources.add(seen.headers["X-Pagemill-Source"])
            time.sleep(0.05)
        assert "live" in sources
        executions = [submit(clients[i % 2], pdf) for i in range(8)]
        for execution_id in executions:
            for client in clients:  # any replica answers about any execution
                finished = wait_until(client, execution_id, lambda b: b["status"] in TERMINAL)
                assert finished["status"] == "completed"
        for execution_id in executions:
            result = clients[1].get(f"/api/v1/pipelines/executions/{execution_id}/steps/0/result")
            assert "# Title" in result.json()["markdown"]
    finally:
        for client in clients:
            client.close()


def _restarts_allowed() -> None:
    # Stopping the machine's PostgreSQL disturbs anything else using it at the same moment, so
    # this runs only where the suite owns the machine (.ci/run sets the variable).
    if os.environ.get("PAGEMILL_TEST_ALLOW_SERVICE_RESTARTS") != "1":
        require_service(
            "PostgreSQL restart", "set PAGEMILL_TEST_ALLOW_SERVICE_RESTARTS=1 to stop/start it"
        )


def _cluster_ctl(action: str) -> None:
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None:
        require_service("pg_ctlcluster", "needed to stop and start the PostgreSQL server")
    version = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
        check=True,
        timeout=60,
        capture_output=True,
    )


def test_a_database_restart_loses_nothing(cluster: Cluster, tmp_path: Path) -> None:
    _restarts_allowed()
    api = cluster.api()
    cluster.worker()
    cluster.reaper()
    with cluster.client(api) as client:
        execution_id = submit(client, make_large_pdf(tmp_path / "big.pdf", 300))
        wait_until(client, execution_id, lambda b: running_on(b) is not None)
        _cluster_ctl("stop")
        try:
            down = client.get(f"/api/v1/pipelines/executions/{execution_id}")
            assert down.status_code == 503
            assert "database is unavailable" in down.json()["detail"]
        finally:
            _cluster_ctl("start")
        finished = wait_until(client, execution_id, lambda b: b["status"] in TERMINAL, 120)
        assert finished["status"] == "completed"
        assert cluster.results_of(execution_id) == 1


def _poll_request(client: httpx.Client, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "processing":
            return body
        time.sleep(0.1)
    raise AssertionError(f"{url} did not finish")


def test_single_shot_requests_run_on_workers_and_poll_on_any_replica(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A /convert and an /extract on its checkpoint: queued through Procrastinate, run by a
    worker process, submitted to one replica and polled on the other."""
    replicas = [cluster.api(), cluster.api()]
    cluster.worker(concurrency=2)
    pdf = make_pdf(tmp_path / "invoice.pdf", [[("h1", "Invoice"), ("p", "Total: 42.00 USD")]])
    first, second = (cluster.client(api) for api in replicas)
    try:
        with pdf.open("rb") as handle:
            submitted = first.post(
                "/api/v1/convert", files={"file": (pdf.name, handle)}, data={"mode": "fast"}
            )
        assert submitted.status_code == 200, submitted.text
        request_id = submitted.json()["request_id"]
        converted = _poll_request(second, f"/api/v1/convert/{request_id}")
        assert converted["success"] is True and "# Invoice" in converted["markdown"]

        schema = '{"type": "object", "properties": {"total": {"type": "number"}}}'
        extract = second.post(
            "/api/v1/extract",
            data={"checkpoint_id": converted["checkpoint_id"], "page_schema": schema},
        )
        assert extract.status_code == 200, extract.text
        extracted = _poll_request(first, f"/api/v1/extract/{extract.json()['request_id']}")
        assert '"total": 42.0' in extracted["extraction_schema_json"]
        beta_key = subprocess.run(
            [sys.executable, "-m", "pagemill", "keys", "create", "--team", "beta"],
            env=cluster.env,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for url in (f"/api/v1/convert/{request_id}", f"/api/v1/thumbnails/{request_id}"):
            assert second.get(url, headers={"X-API-Key": beta_key}).status_code == 404, url
    finally:
        first.close()
        second.close()


def test_a_worker_converts_a_long_pdf_in_page_slices(cluster: Cluster, tmp_path: Path) -> None:
    """A ``pagemill worker`` splits a long PDF over its process pool: progress counts pages
    across slices, and the result is the one an unsplitting worker gives."""
    api = cluster.api()
    pdf = make_large_pdf(tmp_path / "long.pdf", 240)
    results: list[dict[str, Any]] = []
    seen_slices: list[dict[str, Any]] = []
    with cluster.client(api) as client:
        for slice_pages in ("0", "40"):
            cluster.env["PAGEMILL_SLICE_PAGES"] = slice_pages
            worker = cluster.worker()
            pipeline = client.post("/api/v1/pipelines", json={"steps": [{"type": "convert"}]})
            with pdf.open("rb") as handle:
                started = client.post(
                    f"/api/v1/pipelines/{pipeline.json()['pipeline_id']}/run",
                    files={"file": (pdf.name, handle)},
                    data={"skip_cache": "true"},
                )
            assert started.status_code == 200, started.text
            execution_id = str(started.json()["execution_id"])

            def finished(body: dict[str, Any]) -> bool:
                progress = body["steps"][0].get("progress") or {}
                if "slices" in progress:
                    seen_slices.append(progress)
                return body["status"] in TERMINAL

            done = wait_until(client, execution_id, finished, timeout=180)
            assert done["status"] == "completed", done
            result = client.get(f"/api/v1/pipelines/executions/{execution_id}/steps/0/result")
            assert result.status_code == 200, result.text
            results.append(result.json())
            worker.stop()
    assert seen_slices, "no progress of a sliced convert was seen"
    assert all(p["pages_total"] == 240 and p["slices"] == 6 for p in seen_slices)
    assert results[0]["markdown"] == results[1]["markdown"]
    assert results[0]["metadata"] == results[1]["metadata"]
