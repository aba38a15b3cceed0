"""Watching a running execution, and killing the processes that run steps."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from docgen.pdfgen import make_large_pdf
from tests.acceptance.conftest import ServerProcess, clean_env
from tests.support.processes import free_port
from tests.support.wire import assert_execution_shape

pytestmark = pytest.mark.slow

TERMINAL = {"completed", "completed_with_errors", "failed"}


@pytest.fixture
def client(server_process: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server_process.base_url,
        headers={"X-API-Key": server_process.api_key},
        timeout=30,
    ) as client:
        yield client


def start_big_run(client: httpx.Client, tmp_path: Path, pages: int = 300) -> str:
    pdf = make_large_pdf(tmp_path / "big.pdf", pages)
    pipeline = client.post("/api/v1/pipelines", json={"steps": [{"type": "convert"}]})
    pipeline_id = pipeline.json()["pipeline_id"]
    with pdf.open("rb") as handle:
        started = client.post(
            f"/api/v1/pipelines/{pipeline_id}/run", files={"file": ("big.pdf", handle)}
        )
    assert started.status_code == 200, started.text
    return str(started.json()["execution_id"])


def poll(client: httpx.Client, execution_id: str) -> httpx.Response:
    response = client.get(f"/api/v1/pipelines/executions/{execution_id}")
    assert response.status_code == 200, response.text
    assert_execution_shape(response.json())
    return response


def wait_for_step_status(
    client: httpx.Client, execution_id: str, status: str, timeout: float = 60
) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = poll(client, execution_id)
        if response.json()["steps"][0]["status"] == status:
            return response
        time.sleep(0.02)
    raise AssertionError(f"step 0 of {execution_id} never became {status}")


def wait_terminal(client: httpx.Client, execution_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = poll(client, execution_id).json()
        if body["status"] in TERMINAL:
            return body
        time.sleep(0.1)
    raise AssertionError(f"{execution_id} did not finish")


def stored_results(server: ServerProcess, execution_id: str) -> int:
    with sqlite3.connect(server.data_dir / "pagemill.db") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM step_results WHERE execution_id = ?", (execution_id,)
        ).fetchone()
    return int(count)


def test_running_steps_are_served_live_then_from_the_ledger(
    server_process: ServerProcess, client: httpx.Client, tmp_path: Path
) -> None:
    execution_id = start_big_run(client, tmp_path)
    running = wait_for_step_status(client, execution_id, "running")
    assert running.headers["X-Pagemill-Source"] == "live"
    body = running.json()
    assert body["status"] == "running" and body["steps"][0]["started_at"]
    assert body["started_at"]
    # Pages done so far show up while the step runs (live-only progress).
    deadline = time.monotonic() + 30
    progress: dict[str, Any] = {}
    while time.monotonic() < deadline and not progress.get("pages_done"):
        progress = poll(client, execution_id).json()["steps"][0].get("progress") or {}
        time.sleep(0.1)
    assert progress.get("pages_total") == 300
    assert 0 < progress["pages_done"] <= 300

    finished = wait_terminal(client, execution_id)
    final = poll(client, execution_id)
    assert final.headers["X-Pagemill-Source"] == "ledger"
    assert finished["status"] == "completed"
    assert finished["steps"][0]["started_at"] == body["steps"][0]["started_at"]
    assert finished["rate_breakdown"]["page_count"] == 300


def _pool_children(server: ServerProcess) -> list[psutil.Process]:
    assert server.process is not None
    return [
        child
        for child in psutil.Process(server.process.pid).children(recursive=True)
        if "spawn_main" in " ".join(child.cmdline())
    ]


@pytest.fixture
def unsliced_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that never splits a PDF in page slices: a killed child fails the attempt."""
    server = ServerProcess(
        args=["serve", "--data-dir", str(tmp_path / "data")],
        env=clean_env(PAGEMILL_SLICE_PAGES="0"),
        log=tmp_path / "serve.log",
        port=free_port(),
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_killed_worker_process_is_retried_with_one_result(
    unsliced_server: ServerProcess, tmp_path: Path
) -> None:
    server_process = unsliced_server
    with httpx.Client(
        base_url=server_process.base_url,
        headers={"X-API-Key": server_process.api_key},
        timeout=30,
    ) as client:
        _kill_children_during_a_big_run(server_process, client, tmp_path, expected_attempt=2)


def test_a_killed_worker_process_loses_only_its_page_slice(
    server_process: ServerProcess, client: httpx.Client, tmp_path: Path
) -> None:
    """Split in page slices (the default for 300 pages), the slices the killed children were
    reading are read again alone: the step's attempt does not fail."""
    _kill_children_during_a_big_run(server_process, client, tmp_path, expected_attempt=1)


def _kill_children_during_a_big_run(
    server_process: ServerProcess, client: httpx.Client, tmp_path: Path, expected_attempt: int
) -> None:
    execution_id = start_big_run(client, tmp_path)
    if expected_attempt == 1:  # kill while slices are being read, not while planning
        deadline = time.monotonic() + 60
        progress: dict[str, Any] = {}
        while time.monotonic() < deadline and not progress.get("slices"):
            progress = poll(client, execution_id).json()["steps"][0].get("progress") or {}
            time.sleep(0.02)
        assert progress.get("slices") == 6 and progress["pages_done"] < 300, progress
    wait_for_step_status(client, execution_id, "running")
    time.sleep(0.3)  # well inside the conversion of 300 pages
    children = _pool_children(server_process)
    assert children, "the server runs steps in child processes"
    for child in children:
        child.kill()

    finished = wait_terminal(client, execution_id)
    assert finished["status"] == "completed"
    assert finished["steps"][0]["attempt"] == expected_attempt
    assert stored_results(server_process, execution_id) == 1
    result = client.get(f"/api/v1/pipelines/executions/{execution_id}/steps/0/result").json()
    assert result["page_count"] == 300


def test_a_killed_server_resumes_the_step_after_restart(
    server_process: ServerProcess, client: httpx.Client, tmp_path: Path
) -> None:
    execution_id = start_big_run(client, tmp_path)
    wait_for_step_status(client, execution_id, "running")
    server_process.kill()
    server_process.start()

    finished = wait_terminal(client, execution_id)
    assert finished["status"] == "completed"
    assert finished["steps"][0]["attempt"] == 2
    assert stored_results(server_process, execution_id) == 1
