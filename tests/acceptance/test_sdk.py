"""The public datalab-python-sdk against a real ``pagemill serve``: every pipeline method."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from datalab_sdk import DatalabClient
from datalab_sdk.models import PipelineProcessor

from docgen.pdfgen import make_pdf
from tests.acceptance.conftest import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def sdk_loop() -> Iterator[None]:
    """The sync SDK runs on ``asyncio.get_event_loop()`` and never closes it: give it one."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield
    finally:
        loop.close()
        asyncio.set_event_loop(None)


@pytest.mark.usefixtures("sdk_loop")
def test_the_sdk_runs_a_pipeline_end_to_end(server_process: ServerProcess, tmp_path: Path) -> None:
    pdf = make_pdf(
        tmp_path / "report.pdf",
        [
            [
                ("h1", "Quarterly Report"),
                ("p", "Revenue grew by twelve percent over the quarter, driven by exports."),
            ],
            [("h2", "Outlook"), ("p", "We expect steady demand through the next year.")],
        ],
    )
    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)

    pipeline = client.create_pipeline(steps=[PipelineProcessor(type="convert", settings={})])
    assert pipeline.pipeline_id.startswith("pl_") and pipeline.is_saved is False
    saved = client.save_pipeline(pipeline.pipeline_id, name="Reports")
    assert saved.is_saved and saved.name == "Reports"
    version = client.create_pipeline_version(pipeline.pipeline_id, description="first")
    assert version.version == 1

    execution = client.run_pipeline(pipeline.pipeline_id, file_path=str(pdf))
    assert execution.execution_id.startswith("pex_")
    finished = client.get_pipeline_execution(
        execution.execution_id, max_polls=120, poll_interval=0.25
    )
    assert finished.status == "completed", finished
    assert finished.steps[0].status == "completed"
    assert finished.pipeline_version == 1

    result = client.get_step_result(execution.execution_id, 0)
    markdown = result["markdown"]
    assert "# Quarterly Report" in markdown
    assert "## Outlook" in markdown
    assert "Revenue grew by twelve percent over the quarter, driven by exports." in markdown
    assert result["page_count"] == 2

    paginated = client.run_pipeline(
        pipeline.pipeline_id, file_path=str(pdf), page_range="1", version=0
    )
    done = client.get_pipeline_execution(paginated.execution_id, max_polls=120, poll_interval=0.25)
    assert done.status == "completed" and done.pipeline_version == 0
    second_page = client.get_step_result(paginated.execution_id, 0)["markdown"]
    assert "Outlook" in second_page and "Quarterly" not in second_page

    listed = client.list_pipelines()
    assert [p.pipeline_id for p in listed["pipelines"]] == [pipeline.pipeline_id]
    assert client.get_pipeline(pipeline.pipeline_id).active_version == 1
    updated = client.update_pipeline(
        pipeline.pipeline_id, steps=[PipelineProcessor(type="convert", settings={"paginate": True})]
    )
    assert updated.steps[0]["settings"] == {"paginate": True}
    reset = client.discard_pipeline_draft(pipeline.pipeline_id)
    assert reset.steps[0]["settings"] == {}
    versions = client.list_pipeline_versions(pipeline.pipeline_id)
    assert [v.version for v in versions["versions"]] == [1]
    executions = client.list_pipeline_executions(pipeline.pipeline_id)
    assert executions["total"] == 2
    assert client.archive_pipeline(pipeline.pipeline_id)["archived"] is True
    assert client.unarchive_pipeline(pipeline.pipeline_id)["archived"] is False
    rate = client.get_pipeline_rate(pipeline.pipeline_id)
    assert rate["rate_per_1000_pages_cents"] > 0


@pytest.mark.usefixtures("sdk_loop")
def test_the_sdk_extracts_with_a_saved_schema_from_an_uploaded_file(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    # The example of docs/sdk.md.
    pdf = make_pdf(
        tmp_path / "invoice.pdf",
        [
            [
                ("h1", "Invoice INV-1042"),
                ("p", "Invoice number: INV-1042"),
                ("p", "Total due: 1,250.00 EUR"),
            ]
        ],
    )
    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)
    schema = client.create_extraction_schema(
        name="Invoice",
        schema_json={
            "type": "object",
            "properties": {
                "invoice_number": {"type": "string", "description": "Invoice number"},
                "total_due": {"type": "number", "description": "Total due"},
            },
        },
    )
    pipeline = client.create_pipeline(
        steps=[
            PipelineProcessor(type="convert", settings={}),
            PipelineProcessor(type="extract", settings={"schema_id": schema.schema_id}),
        ]
    )
    client.save_pipeline(pipeline.pipeline_id, name="Invoices")
    client.create_pipeline_version(pipeline.pipeline_id, description="first")

    uploaded = client.upload_files(str(pdf))
    execution = client.run_pipeline(pipeline.pipeline_id, file_url=uploaded.reference)
    execution = client.get_pipeline_execution(
        execution.execution_id, max_polls=120, poll_interval=0.25
    )

    assert execution.status == "completed", execution
    assert [step.status for step in execution.steps] == ["completed", "completed"]
    extracted = json.loads(
        client.get_step_result(execution.execution_id, 1)["extraction_schema_json"]
    )
    assert extracted["invoice_number"] == "INV-1042"
    assert extracted["total_due"] == 1250
