"""The SDK's workflow methods, sync and async, against a real ``pagemill serve``: what each
returns parses into the SDK's models with every field the server sends."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest
from datalab_sdk import AsyncDatalabClient, DatalabClient, InputConfig, WorkflowStep
from datalab_sdk.exceptions import DatalabAPIError

from docgen.pdfgen import make_pdf
from tests.acceptance.conftest import ServerProcess
from tests.acceptance.test_sdk import sdk_loop  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

STEPS = [
    WorkflowStep(step_key="marker_parse", unique_name="parse", settings={"max_pages": 2}),
    WorkflowStep(
        step_key="marker_extract",
        unique_name="extract",
        settings={"page_schema": {"title": {"type": "string", "description": "The title"}}},
        depends_on=["parse"],
    ),
]


@pytest.mark.usefixtures("sdk_loop")
def test_sync_workflow_methods(server_process: ServerProcess, tmp_path: Path) -> None:
    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)
    pdf = make_pdf(tmp_path / "memo.pdf", [[("h1", "Budget memo"), ("p", "Spend less.")]])
    reference = client.upload_files(pdf)
    reference = reference[0] if isinstance(reference, list) else reference

    created = client.create_workflow(name="Memo", steps=STEPS)
    spare = client.create_workflow(name="Spare", steps=STEPS[:1])
    got = client.get_workflow(created.id)
    listed = client.list_workflows()
    types = client.get_step_types()
    started = client.execute_workflow(created.id, InputConfig(file_urls=[reference.reference]))
    done = client.get_execution_status(started.id, max_polls=120, poll_interval=1)
    downloaded = client.get_execution_status(started.id, download_results=True)
    deleted = client.delete_workflow(spare.id)
    with pytest.raises(DatalabAPIError) as in_use:
        client.delete_workflow(created.id)

    assert isinstance(created.id, int) and created.name == "Memo"
    assert [s.unique_name for s in created.steps] == ["parse", "extract"]
    assert got.steps[1].depends_on == ["parse"] and got.steps[1].step_key == "marker_extract"
    assert got.steps[0].version == "1" and got.steps[0].name == "Parse"
    assert {w.id for w in listed} == {created.id, spare.id}
    assert {t["type"] for t in types["step_types"]} == {
        "marker_parse",
        "marker_segment",
        "marker_extract",
    }
    assert started.status == "IN_PROGRESS" and started.workflow_id == created.id
    assert done.status == "COMPLETED" and done.success is True and done.error is None
    assert done.input_config == {"file_urls": [reference.reference]}
    assert set(done.steps) == {"parse", "extract"}
    per_file = [v for v in downloaded.steps["extract"].values() if isinstance(v, dict)]
    assert per_file[0]["downloaded_data"]["status"] == "complete"
    assert deleted["success"] is True
    assert in_use.value.status_code == 400
    # Every field the server sends has a place in the SDK's model (execution_id is its id).
    raw = httpx.get(
        f"{server_process.base_url}/api/v1/workflows/executions/{started.id}",
        headers={"X-API-Key": server_process.api_key},
    ).json()
    assert set(raw) - {f.name for f in dataclasses.fields(done)} == {"execution_id"}
    assert raw["execution_id"] == done.id
    assert done.created and done.updated


def test_async_workflow_methods(server_process: ServerProcess, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "memo.pdf", [[("h1", "Budget memo"), ("p", "Spend less.")]])

    async def walk() -> None:
        async with AsyncDatalabClient(
            api_key=server_process.api_key, base_url=server_process.base_url
        ) as client:
            uploaded = await client.upload_files(pdf)
            reference = uploaded[0] if isinstance(uploaded, list) else uploaded
            created = await client.create_workflow(name="Memo", steps=STEPS)
            got = await client.get_workflow(created.id)
            listed = await client.list_workflows()
            started = await client.execute_workflow(
                created.id, InputConfig(file_urls=[reference.reference])
            )
            done = await client.get_execution_status(
                started.id, max_polls=120, poll_interval=1, download_results=True
            )
            other = AsyncDatalabClient(api_key="pm_not_a_key", base_url=server_process.base_url)
            async with other:
                with pytest.raises(DatalabAPIError) as refused:
                    await other.get_workflow(created.id)

            assert got.name == "Memo" and [w.id for w in listed] == [created.id]
            assert done.status == "COMPLETED"
            per_file = [v for v in done.steps["extract"].values() if isinstance(v, dict)]
            assert "extraction_schema_json" in per_file[0]["downloaded_data"]
            assert refused.value.status_code == 401

    asyncio.run(walk())


@pytest.mark.usefixtures("sdk_loop")
def test_run_evals_through_the_sdk(server_process: ServerProcess, tmp_path: Path) -> None:
    from datalab_sdk.models import PipelineProcessor

    pdf = make_pdf(tmp_path / "memo.pdf", [[("h1", "Budget memo"), ("p", "Spend less.")]])
    rubric = httpx.post(
        f"{server_process.base_url}/api/v1/eval_rubrics",
        json={
            "name": "memo",
            "eval_definition": {
                "rules": [
                    {"name": "title", "type": "regex", "field": "markdown", "pattern": "memo"}
                ]
            },
        },
        headers={"X-API-Key": server_process.api_key},
    ).json()
    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)
    pipeline = client.create_pipeline(
        steps=[PipelineProcessor(type="convert", settings={}, eval_rubric_id=rubric["id"])]
    )

    started = client.run_pipeline(pipeline.pipeline_id, file_path=str(pdf), run_evals=True)
    done = client.get_pipeline_execution(started.execution_id, max_polls=120, poll_interval=1)
    result = client.get_step_result(started.execution_id, 0)

    assert done.status == "completed"
    assert done.input_config["run_evals"] is True
    evaluation = result["evaluation"]
    assert evaluation["eval_rubric_id"] == rubric["id"]
    assert [(e["name"], e["rule_score"]) for e in evaluation["evaluations"]] == [("title", 1.0)]


@pytest.mark.usefixtures("sdk_loop")
def test_eval_rubric_id_on_a_single_shot_convert_through_the_sdk(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    from datalab_sdk.models import ConvertOptions

    pdf = make_pdf(tmp_path / "memo.pdf", [[("h1", "Budget memo"), ("p", "Spend less.")]])
    rubric = httpx.post(
        f"{server_process.base_url}/api/v1/eval_rubrics",
        json={
            "name": "memo",
            "eval_definition": {
                "rules": [
                    {"name": "title", "type": "regex", "field": "markdown", "pattern": "memo"},
                    {"name": "long", "type": "numeric_range", "field": "page_count", "min": 2},
                ]
            },
        },
        headers={"X-API-Key": server_process.api_key},
    ).json()
    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)

    result = client.convert(str(pdf), options=ConvertOptions(eval_rubric_id=rubric["id"]))

    assert result.success and result.evaluation is not None
    assert result.evaluation["eval_rubric_id"] == rubric["id"]
    scores = [(e["name"], e["rule_score"]) for e in result.evaluation["evaluations"]]
    assert scores == [("title", 1.0), ("long", 0.0)]
