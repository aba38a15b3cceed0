"""Legacy workflows through the ASGI app: step types, CRUD, the DAG checks, execution on the
pipeline engine (one execution per root-to-leaf path and file), the status shape the SDK reads,
signed output URLs, and tenancy.

The server runs the real processors on a generated PDF: a resume followed by an invoice whose
values are known.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from docgen.extractgen import GeneratedDoc, invoice, resume, write_pdf
from pagemill.processors.registry import ProcessorRegistry
from tests.component.test_files_api import upload
from tests.support.app import TestServer, test_server

WF = "/api/v1/workflows"
INVOICE_FIELDS = {
    "invoice_number": {"type": "string", "description": "The invoice number"},
    "total": {"type": "number", "description": "Total amount due"},
}
PARALLEL: list[dict[str, Any]] = [
    {"step_key": "marker_parse", "unique_name": "parse", "settings": {}, "depends_on": []},
    {
        "step_key": "marker_segment",
        "unique_name": "segment",
        "settings": {
            "segmentation_schema": {
                "segments": [
                    {"name": "Resume", "description": "A resume or CV with work experience"},
                    {"name": "Invoice", "description": "An invoice with line items and a total"},
                ],
                "segmentation_strategy": "custom",
            }
        },
        "depends_on": ["parse"],
    },
    {
        "step_key": "marker_extract",
        "unique_name": "extract_invoice",
        "settings": {"segment_reference": {"name": "Invoice"}, "page_schema": INVOICE_FIELDS},
        "depends_on": ["segment"],
    },
    {
        "step_key": "marker_extract",
        "unique_name": "extract_all",
        "settings": {"page_schema": INVOICE_FIELDS},
        "depends_on": ["parse"],
    },
]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin()) as running:
        yield running


@pytest.fixture(scope="module")
def bill() -> GeneratedDoc:
    return invoice(3)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory, bill: GeneratedDoc) -> bytes:
    path = tmp_path_factory.mktemp("wf") / "bundle.pdf"
    return write_pdf(path, [resume(1), bill]).read_bytes()


async def create(server: TestServer, steps: list[dict[str, Any]], team: str = "alpha") -> Any:
    return await server.client.post(
        f"{WF}/workflows", json={"name": "Bundle", "steps": steps}, headers=server.headers(team)
    )


def message(response: Any) -> str:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    return str(detail if isinstance(detail, str) else detail[0]["msg"])


async def finish(server: TestServer, execution_id: int) -> dict[str, Any]:
    for _ in range(3000):
        body: dict[str, Any] = (
            await server.client.get(f"{WF}/executions/{execution_id}", headers=server.headers())
        ).json()
        if body["status"] in ("COMPLETED", "FAILED"):
            return body
        assert body["status"] == "IN_PROGRESS", body
        await asyncio.sleep(0.02)
    raise AssertionError("the workflow did not finish")


async def download(server: TestServer, url: str) -> Any:
    """An output URL as the SDK fetches it: no API key."""
    parts = urlsplit(url)
    response = await server.client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_step_types_describe_the_supported_steps(server: TestServer) -> None:
    body = (await server.client.get(f"{WF}/step-types", headers=server.headers())).json()
    types = {t["type"]: t for t in body["step_types"]}

    assert set(types) == {"marker_parse", "marker_segment", "marker_extract"}
    assert "paginate" in types["marker_parse"]["settings_schema"]["properties"]
    assert "segment_reference" in types["marker_extract"]["settings_schema"]["properties"]
    assert all({"version", "name", "description"} <= set(t) for t in types.values())


async def test_create_get_list_and_delete(server: TestServer) -> None:
    h = server.headers()
    created = await create(server, PARALLEL)
    assert created.status_code == 200, created.text
    body = created.json()
    got = (await server.client.get(f"{WF}/workflows/{body['id']}", headers=h)).json()
    listed = (await server.client.get(f"{WF}/workflows", headers=h)).json()
    pipelines = (
        await server.client.get("/api/v1/pipelines", params={"saved_only": "false"}, headers=h)
    ).json()

    assert isinstance(body["id"], int) and body["name"] == "Bundle"
    assert body["team_id"].startswith("team_")
    assert [s["unique_name"] for s in body["steps"]] == [s["unique_name"] for s in PARALLEL]
    assert body["steps"][1]["depends_on"] == ["parse"]
    assert body["steps"][2]["settings"] == PARALLEL[2]["settings"]  # echoed as sent
    assert [p["steps"] for p in body["paths"]] == [
        ["parse", "segment", "extract_invoice"],
        ["parse", "extract_all"],
    ]
    assert got == body
    assert listed == {"workflows": [body]}
    made = {p["pipeline_id"]: p for p in pipelines["pipelines"]}
    first = made[body["paths"][0]["pipeline_id"]]
    assert [s["type"] for s in first["steps"]] == ["convert", "segment", "extract"]
    assert first["steps"][2]["settings"]["page_schema"] == {
        "type": "object",
        "properties": INVOICE_FIELDS,
    }
    assert first["steps"][1]["settings"]["segmentation_schema"] == {
        "segments": PARALLEL[1]["settings"]["segmentation_schema"]["segments"]
    }

    deleted = await server.client.delete(f"{WF}/workflows/{body['id']}", headers=h)
    assert deleted.json()["success"] is True
    assert (await server.client.get(f"{WF}/workflows/{body['id']}", headers=h)).status_code == 404
    archived = await server.client.get(f"/api/v1/pipelines/{first['pipeline_id']}", headers=h)
    assert archived.json()["archived"] is True


async def test_bad_graphs_and_step_types_are_422(server: TestServer) -> None:
    parse = {"step_key": "marker_parse", "unique_name": "p", "settings": {}}

    def step(key: str, name: str, after: list[str], **settings: Any) -> dict[str, Any]:
        return {"step_key": key, "unique_name": name, "settings": settings, "depends_on": after}

    api_request = await create(server, [parse, step("api_request", "post", ["p"], url="x")])
    unknown = await create(server, [parse, step("marker_magic", "m", ["p"])])
    missing = await create(server, [parse, step("marker_extract", "e", ["nope"])])
    twice = await create(server, [parse, parse])
    two_parents = await create(
        server,
        [parse, {**parse, "unique_name": "q"}, step("marker_extract", "e", ["p", "q"])],
    )
    cycle = await create(
        server,
        [
            parse,
            step("marker_segment", "a", ["b"]),
            step("marker_segment", "b", ["a"]),
        ],
    )
    after_extract = await create(
        server,
        [
            parse,
            step("marker_extract", "e", ["p"], page_schema=INVOICE_FIELDS),
            step("marker_segment", "s", ["e"]),
        ],
    )
    bad_setting = await create(server, [step("marker_parse", "p", [], totally_bogus=1)])
    strategy = await create(
        server,
        [
            parse,
            step("marker_segment", "s", ["p"], segmentation_schema={"segmentation_strategy": "x"}),
        ],
    )

    assert "api_request step type is not supported" in message(api_request)
    assert "unknown step_key 'marker_magic'" in message(unknown)
    assert "depends on 'nope', which is not a step" in message(missing)
    assert "Two steps are named 'p'" in message(twice)
    assert "depends on exactly one step, not 2" in message(two_parents)
    assert "do not lead back to a marker_parse step" in message(cycle)
    assert "extract must be the last step" in message(after_extract)
    assert "'totally_bogus'" in message(bad_setting)
    assert "segmentation_strategy must be one of" in message(strategy)
    listed = (await server.client.get(f"{WF}/workflows", headers=server.headers())).json()
    assert listed == {"workflows": []}


async def test_execute_runs_every_path_and_reports_each_step(
    server: TestServer, bill: GeneratedDoc, pdf: bytes
) -> None:
    h = server.headers()
    workflow = (await create(server, PARALLEL)).json()
    reference = (await upload(server, pdf, filename="bundle.pdf"))["reference"]

    started = await server.client.post(
        f"{WF}/workflows/{workflow['id']}/execute",
        json={"input_config": {"file_urls": [reference]}},
        headers=h,
    )
    assert started.status_code == 200, started.text
    first = started.json()
    body = await finish(server, first["execution_id"])

    assert first["workflow_id"] == workflow["id"]
    assert first["status"] == "IN_PROGRESS"
    assert first["input_config"] == {"file_urls": [reference]}
    assert body["status"] == "COMPLETED", body
    assert body["success"] is True and body["error"] is None
    assert set(body["steps"]) == {"parse", "segment", "extract_invoice", "extract_all"}
    segment = body["steps"]["segment"]
    per_file = {k: v for k, v in segment.items() if isinstance(v, dict)}
    assert len(per_file) == 1  # one input file: keyed by the execution that ran the step
    (execution_id, entry) = next(iter(per_file.items()))
    assert execution_id.startswith("pex_")
    assert segment["status"] == entry["status"] == "COMPLETED"
    assert segment["output_url"] == entry["output_url"]
    assert {"started_at", "completed_at"} <= set(entry)

    segmented = await download(server, segment["output_url"])
    names = [s["name"] for s in segmented["segmentation_results"]["segments"]]
    assert names == ["Resume", "Invoice"]
    invoice_only = await download(server, body["steps"]["extract_invoice"]["output_url"])
    data = json.loads(invoice_only["extraction_schema_json"])
    assert [s["segment"] for s in data["segments"]] == ["Invoice"]
    assert data["segments"][0]["data"]["invoice_number"] == bill.expected["invoice_number"]
    whole = json.loads(
        (await download(server, body["steps"]["extract_all"]["output_url"]))[
            "extraction_schema_json"
        ]
    )
    assert whole["invoice_number"] == bill.expected["invoice_number"]

    forged = urlsplit(segment["output_url"])
    tampered = f"{forged.path}?{forged.query.replace('signature=', 'signature=0')}"
    assert (await server.client.get(tampered)).status_code in (403, 422)
    other_step = forged.path.rsplit("/", 1)[0] + "/2"
    assert (await server.client.get(f"{other_step}?{forged.query}")).status_code == 403
    in_use = await server.client.delete(f"{WF}/workflows/{workflow['id']}", headers=h)
    assert in_use.status_code == 400
    assert "has executions" in in_use.json()["detail"]


async def test_failed_steps_make_the_execution_failed(server: TestServer, pdf: bytes) -> None:
    steps = [
        PARALLEL[0],
        {
            "step_key": "marker_extract",
            "unique_name": "extract",
            "settings": {"segment_reference": {"name": "Invoice"}, "page_schema": INVOICE_FIELDS},
            "depends_on": ["parse"],
        },
    ]
    workflow = (await create(server, steps)).json()
    reference = (await upload(server, pdf, filename="bundle.pdf"))["reference"]
    started = await server.client.post(
        f"{WF}/workflows/{workflow['id']}/execute",
        json={"input_config": {"file_urls": [reference]}},
        headers=server.headers(),
    )
    body = await finish(server, started.json()["execution_id"])

    assert body["status"] == "FAILED" and body["success"] is False
    assert body["steps"]["parse"]["status"] == "COMPLETED"
    assert body["steps"]["extract"]["status"] == "FAILED"
    assert "no segment step ran before" in body["steps"]["extract"]["error"]
    assert body["error"].startswith("extract: ")


async def test_inputs_that_cannot_run_are_refused(server: TestServer) -> None:
    h = server.headers()
    workflow = (await create(server, PARALLEL[:1])).json()
    url = f"{WF}/workflows/{workflow['id']}/execute"

    bucket = await server.client.post(
        url, json={"input_config": {"bucket": "b", "prefix": "p/"}}, headers=h
    )
    empty = await server.client.post(url, json={"input_config": {"file_urls": []}}, headers=h)
    missing = await server.client.post(
        url, json={"input_config": {"file_urls": ["datalab://file-4294967296"]}}, headers=h
    )

    assert "bucket enumeration (bucket, prefix) is not supported" in message(bucket)
    assert "file_urls must be a non-empty list" in message(empty)
    assert missing.status_code == 404


async def test_another_teams_workflows_are_not_found(server: TestServer, pdf: bytes) -> None:
    workflow = (await create(server, PARALLEL[:1])).json()
    reference = (await upload(server, pdf, filename="bundle.pdf"))["reference"]
    started = await server.client.post(
        f"{WF}/workflows/{workflow['id']}/execute",
        json={"input_config": {"file_urls": [reference]}},
        headers=server.headers(),
    )
    execution_id = started.json()["execution_id"]
    beta = server.headers("beta")

    assert (
        await server.client.get(f"{WF}/workflows/{workflow['id']}", headers=beta)
    ).status_code == 404
    assert (
        await server.client.delete(f"{WF}/workflows/{workflow['id']}", headers=beta)
    ).status_code == 404
    assert (await server.client.get(f"{WF}/workflows", headers=beta)).json() == {"workflows": []}
    assert (
        await server.client.post(
            f"{WF}/workflows/{workflow['id']}/execute",
            json={"input_config": {"file_urls": [reference]}},
            headers=beta,
        )
    ).status_code == 404
    assert (
        await server.client.get(f"{WF}/executions/{execution_id}", headers=beta)
    ).status_code == 404
    await finish(server, execution_id)
