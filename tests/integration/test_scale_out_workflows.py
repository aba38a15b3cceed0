"""Legacy workflows and eval rubrics in the scale-out shape: a PostgreSQL ledger, Procrastinate
delivery, a Redis live store, and separate ``serve`` and ``worker`` processes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from docgen.pdfgen import make_pdf
from tests.integration.test_scale_out import Cluster, cluster  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PAGES = [
    [("h1", "Quarterly report"), ("p", "Revenue grew by twelve percent over the quarter.")],
    [("h1", "Outlook"), ("p", "We expect steady demand through the next year.")],
]


def uploaded(client: httpx.Client, pdf: Path) -> str:
    """A ``datalab://file-N`` reference, uploaded the way the SDK does."""
    created = client.post(
        "/api/v1/files/upload", json={"filename": pdf.name, "content_type": "application/pdf"}
    ).json()
    put = httpx.put(created["upload_url"], content=pdf.read_bytes(), timeout=30)
    assert put.status_code == 200, put.text
    assert client.get(f"/api/v1/files/{created['file_id']}/confirm").status_code == 200
    return str(created["reference"])


def until(check: Any, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_workflow_runs_on_separate_workers(cluster: Cluster, tmp_path: Path) -> None:  # noqa: F811
    api = cluster.api()
    cluster.worker(concurrency=2)
    pdf = make_pdf(tmp_path / "report.pdf", PAGES)
    with cluster.client(api) as client:
        reference = uploaded(client, pdf)
        steps = [
            {"step_key": "marker_parse", "unique_name": "parse", "settings": {}},
            {
                "step_key": "marker_segment",
                "unique_name": "segment",
                "settings": {"segmentation_schema": {"segmentation_strategy": "auto"}},
                "depends_on": ["parse"],
            },
            {
                "step_key": "marker_extract",
                "unique_name": "extract",
                "settings": {"page_schema": {"title": {"type": "string"}}},
                "depends_on": ["parse"],
            },
        ]
        workflow = client.post("/api/v1/workflows/workflows", json={"name": "w", "steps": steps})
        assert workflow.status_code == 200, workflow.text
        started = client.post(
            f"/api/v1/workflows/workflows/{workflow.json()['id']}/execute",
            json={"input_config": {"file_urls": [reference]}},
        )
        assert started.status_code == 200, started.text
        url = f"/api/v1/workflows/executions/{started.json()['execution_id']}"

        def finished() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(url).json()
            return body if body["status"] in ("COMPLETED", "FAILED") else None

        body = until(finished)
        assert body["status"] == "COMPLETED", body
        output = httpx.get(body["steps"]["parse"]["output_url"], timeout=30)  # no API key
        assert "Quarterly report" in output.json()["markdown"]
        segments = httpx.get(body["steps"]["segment"]["output_url"], timeout=30).json()
        assert segments["segmentation_results"]["segments"]


def test_run_evals_on_separate_workers(cluster: Cluster, tmp_path: Path) -> None:  # noqa: F811
    api = cluster.api()
    cluster.worker()
    pdf = make_pdf(tmp_path / "report.pdf", PAGES)
    with cluster.client(api) as client:
        rubric = client.post(
            "/api/v1/eval_rubrics",
            json={
                "name": "report",
                "eval_definition": {
                    "rules": [
                        {
                            "name": "title",
                            "type": "regex",
                            "field": "markdown",
                            "pattern": "Quarterly",
                        },
                        {"name": "pages", "type": "numeric_range", "field": "page_count", "min": 3},
                    ]
                },
            },
        ).json()
        pipeline = client.post(
            "/api/v1/pipelines",
            json={"steps": [{"type": "convert", "settings": {}, "eval_rubric_id": rubric["id"]}]},
        ).json()
        with pdf.open("rb") as handle:
            started = client.post(
                f"/api/v1/pipelines/{pipeline['pipeline_id']}/run",
                files={"file": (pdf.name, handle)},
                data={"run_evals": "True"},
            )
        assert started.status_code == 200, started.text
        url = f"/api/v1/pipelines/executions/{started.json()['execution_id']}"

        def finished() -> dict[str, Any] | None:
            body: dict[str, Any] = client.get(url).json()
            return (
                body if body["status"] in ("completed", "completed_with_errors", "failed") else None
            )

        assert until(finished)["status"] == "completed"
        result = client.get(f"{url}/steps/0/result").json()
        scores = {e["name"]: e["rule_score"] for e in result["evaluation"]["evaluations"]}
        assert scores == {"title": 1.0, "pages": 0.0}  # two pages, not three
        assert json.dumps(result["evaluation"]["eval_rubric_id"]) == json.dumps(rubric["id"])
