"""The single-shot endpoints (``/api/v1/convert`` and the others) through the ASGI app with the
real processors: submit, poll, results, checkpoints, failures, tenancy, expiry."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from docgen.pdfgen import make_pdf
from pagemill.processors.registry import ProcessorRegistry
from tests.component.test_executions_api import make_pipeline, run, wait_done
from tests.formgen import acroform_pdf, change, paragraph, tracked_docx
from tests.formgen import run as docx_run
from tests.support.app import TestServer, test_server

SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}}
SEGMENTS = {"Invoice": "The invoice with its total", "Terms": "Terms and conditions"}
INITIAL_KEYS = {"request_id", "request_check_url", "success", "error", "versions"}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[TestServer]:
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin()) as running:
        yield running


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    pages = [
        [("h1", "Invoice"), ("p", "Total: 42.00 USD")],
        [("h2", "Terms"), ("p", "Payment is due within thirty days.")],
    ]
    return make_pdf(tmp_path_factory.mktemp("single") / "invoice.pdf", pages).read_bytes()


async def submit(
    server: TestServer,
    endpoint: str,
    data: dict[str, str] | None = None,
    file: tuple[str, bytes, str] | None = None,
    team: str = "alpha",
) -> Any:
    files = {"file": file} if file is not None else None
    if files is None and not data:
        data = {"file_url": ""}
    return await server.client.post(
        f"/api/v1/{endpoint}", data=data or {}, files=files, headers=server.headers(team)
    )


async def started(response: Any) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= INITIAL_KEYS and body["success"] is True and body["error"] is None
    assert body["request_id"].startswith("req_")
    return str(body["request_check_url"])


async def poll(server: TestServer, url: str, team: str = "alpha") -> dict[str, Any]:
    """Poll as the SDK does until the answer is no longer ``processing``."""
    for _ in range(600):
        response = await server.client.get(url, headers=server.headers(team))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] != "processing":
            return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never finished")


async def test_convert_with_every_sdk_field_then_extract_and_segment_its_checkpoint(
    server: TestServer, pdf: bytes
) -> None:
    # What ConvertOptions(...).to_form_data() sends, booleans as "True"/"False".
    form = {
        "max_pages": "5",
        "skip_cache": "False",
        "page_range": "0-1",
        "paginate": "True",
        "disable_image_extraction": "True",
        "disable_image_captions": "False",
        "fence_synthetic_captions": "False",
        "save_checkpoint": "True",
        "output_format": "markdown,html,json,chunks",
        "mode": "balanced",
        "add_block_ids": "True",
        "include_markdown_in_chunks": "True",
        "token_efficient_markdown": "False",
        "extras": "extract_links,table_row_bboxes",
        "additional_config": json.dumps({"keep_spreadsheet_formatting": True}),
    }
    url = await started(await submit(server, "convert", form, ("invoice.pdf", pdf, "pdf")))
    assert url.startswith("http://pagemill.test/api/v1/convert/req_")

    result = await poll(server, url)

    assert result["status"] == "complete" and result["success"] is True
    assert result["output_format"] == "markdown,html,json,chunks"
    assert "# Invoice" in result["markdown"] and "Total: 42.00 USD" in result["markdown"]
    assert "data-block-id" in result["html"]
    assert result["json"] and result["chunks"]["blocks"]
    assert result["page_count"] == 2 and result["versions"]["convert"]
    assert result["cost_breakdown"]["total_cost_cents"] >= 1
    checkpoint_id = result["checkpoint_id"]
    assert checkpoint_id.startswith("ckpt_")

    extract = await submit(
        server,
        "extract",
        {"checkpoint_id": checkpoint_id, "page_schema": json.dumps(SCHEMA), "mode": "fast"},
    )
    execution_id = extract.json()["execution_id"]
    extracted = await poll(server, await started(extract))
    assert json.loads(extracted["extraction_schema_json"])["total"] == 42.0
    # No re-parse: the request ran the extract step alone, on the checkpoint.
    execution = await server.client.get(
        f"/api/v1/pipelines/executions/{execution_id}", headers=server.headers()
    )
    assert [s["step_type"] for s in execution.json()["steps"]] == ["extract"]
    assert execution.json()["pipeline_id"] == "request:extract"

    segment = await submit(
        server,
        "segment",
        {"checkpoint_id": checkpoint_id, "segmentation_schema": json.dumps(SEGMENTS)},
    )
    segmented = await poll(server, await started(segment))
    names = [s["name"] for s in segmented["segmentation_results"]["segments"]]
    assert "Invoice" in names and "Terms" in names


async def test_extract_and_segment_of_a_file_parse_it_first(server: TestServer, pdf: bytes) -> None:
    extract = await submit(
        server,
        "extract",
        {"page_schema": json.dumps(SCHEMA), "save_checkpoint": "True"},
        ("invoice.pdf", pdf, "application/pdf"),
    )
    result = await poll(server, await started(extract))
    assert json.loads(result["extraction_schema_json"])["total"] == 42.0
    assert "# Invoice" in result["markdown"]  # the parse's output comes with the extraction
    assert result["checkpoint_id"].startswith("ckpt_")
    assert set(result["versions"]) == {"convert", "extract"}

    marker = await submit(
        server,
        "marker",
        {"page_schema": json.dumps(SCHEMA), "segmentation_schema": json.dumps(SEGMENTS)},
        ("invoice.pdf", pdf, "application/pdf"),
    )
    both = await poll(server, await started(marker))
    assert json.loads(both["extraction_schema_json"])["segments"]
    assert both["segmentation_results"]["segments"]


async def test_fill_track_changes_create_document_and_custom_processor(
    server: TestServer, tmp_path: Path, pdf: bytes
) -> None:
    form_pdf = acroform_pdf(tmp_path / "form.pdf").read_bytes()
    fields = {"full_name": {"value": "Ada Lovelace", "description": "Full name"}}
    fill = await submit(
        server,
        "fill",
        {"field_data": json.dumps(fields), "confidence_threshold": "0.5", "context": "a form"},
        ("form.pdf", form_pdf, "application/pdf"),
    )
    filled = await poll(server, await started(fill))
    assert filled["success"] is True and filled["output_format"] == "pdf"
    assert filled["fields_filled"] == ["full_name"] and filled["fields_not_found"] == []
    assert base64.b64decode(filled["output_base64"]).startswith(b"%PDF")

    body = paragraph(docx_run("Pay in "), change("ins", "Ann", docx_run("30")), docx_run(" days"))
    docx = tracked_docx(tmp_path / "c.docx", body).read_bytes()
    changes = await submit(
        server, "track-changes", {"output_format": "markdown,html"}, ("c.docx", docx, "docx")
    )
    tracked = await poll(server, await started(changes))
    assert "<ins" in tracked["markdown"] and "Ann" in tracked["markdown"] and tracked["html"]

    created = await server.client.post(
        "/api/v1/create-document",
        json={"markdown": "# Title\n\nSome *text*.", "output_format": "docx"},
        headers=server.headers(),
    )
    document = await poll(server, await started(created))
    assert document["output_format"] == "docx"
    assert base64.b64decode(document["output_base64"]).startswith(b"PK")

    definition = {"rules": [{"action": "drop", "match": {"type": "heading"}}]}
    processor = await server.client.post(
        "/api/v1/custom_processors",
        json={"name": "no headings", "definition": definition},
        headers=server.headers(),
    )
    assert processor.status_code == 200, processor.text
    custom = await submit(
        server,
        "custom-processor",
        {"pipeline_id": processor.json()["processor_id"], "run_eval": "False", "mode": "fast"},
        ("invoice.pdf", pdf, "application/pdf"),
    )
    changed = await poll(server, await started(custom))
    assert "Total: 42.00 USD" in changed["markdown"] and "# Invoice" not in changed["markdown"]


async def test_ocr_answers_pages_or_says_why_not(server: TestServer, pdf: bytes) -> None:
    result = await poll(
        server, await started(await submit(server, "ocr", {}, ("a.pdf", pdf, "application/pdf")))
    )
    if result["success"]:
        assert [p["page"] for p in result["pages"]] == [1, 2]
        assert result["pages"][0]["text_lines"][0]["bbox"]
    else:  # no Tesseract on this machine: a failure that names it, never a hang
        assert result["status"] == "failed" and "esseract" in result["error"]


async def test_bad_input_is_a_clear_4xx(server: TestServer, pdf: bytes) -> None:
    pdf_file = ("a.pdf", pdf, "application/pdf")
    cases = [
        ("convert", {"totally_bogus": "1"}, pdf_file, "totally_bogus"),
        ("convert", {"mode": "sloppy"}, pdf_file, "mode"),
        ("convert", {"output_format": "pdf"}, pdf_file, "output_format"),
        ("convert", {"extras": "teleport"}, pdf_file, "teleport"),
        ("convert", {"page_range": "zz"}, pdf_file, "page"),
        ("convert", {"mode": "fast"}, None, "file"),
        ("extract", {"mode": "fast"}, pdf_file, "page_schema"),
        ("extract", {"checkpoint_id": "ckpt_x", "page_schema": "{}"}, pdf_file, "checkpoint_id"),
        ("segment", {"checkpoint_id": "ckpt_x", "file_url": "https://e.com/a.pdf"}, None, "not"),
        ("fill", {"field_data": "not json"}, pdf_file, "field_data"),
        ("custom-processor", {"mode": "fast"}, pdf_file, "pipeline_id"),
        ("track-changes", {"paginate": "maybe"}, pdf_file, "paginate"),
    ]
    for endpoint, data, file, named in cases:
        response = await submit(server, endpoint, data, file)
        assert response.status_code == 422, (endpoint, data, response.text)
        assert named in response.text, (endpoint, data, response.text)

    unknown_checkpoint = await submit(
        server, "extract", {"checkpoint_id": "ckpt_nope", "page_schema": json.dumps(SCHEMA)}
    )
    assert unknown_checkpoint.status_code == 404
    unknown = await server.client.get("/api/v1/convert/req_nope", headers=server.headers())
    assert unknown.status_code == 404 and "not found or expired" in unknown.text
    empty_markdown = await server.client.post(
        "/api/v1/create-document", json={"markdown": ""}, headers=server.headers()
    )
    assert empty_markdown.status_code == 422


async def test_a_document_that_cannot_be_converted_fails_the_poll(server: TestServer) -> None:
    url = await started(
        await submit(server, "convert", {}, ("a.pdf", b"%PDF-1.4 broken", "application/pdf"))
    )
    result = await poll(server, url)
    assert result["status"] == "failed" and result["success"] is False and result["error"]


async def test_text_under_a_file_type_not_converted_is_refused_at_submit(
    server: TestServer,
) -> None:
    # What the SDK sends for a ``.xyz`` file: its bytes read as text, its type is unknown.
    refused = await submit(
        server, "convert", {}, ("sample.xyz", b"test content", "application/octet-stream")
    )
    assert refused.status_code == 415, refused.text
    assert "Unsupported file type '.xyz'" in refused.json()["detail"]

    for name in ("sample.txt", "sample", "report.2021"):
        url = await started(
            await submit(server, "convert", {}, (name, b"test content", "text/plain"))
        )
        result = await poll(server, url)
        assert result["status"] == "complete", (name, result)
        assert result["markdown"].strip() == "test content", name


async def test_another_team_finds_neither_requests_nor_checkpoints(
    server: TestServer, pdf: bytes
) -> None:
    url = await started(
        await submit(server, "convert", {}, ("a.pdf", pdf, "application/pdf"), team="alpha")
    )
    done = await poll(server, url)
    request_id = url.rsplit("/", 1)[1]

    assert (await server.client.get(url, headers=server.headers("beta"))).status_code == 404
    thumbs = await server.client.get(
        f"/api/v1/thumbnails/{request_id}", headers=server.headers("beta")
    )
    assert thumbs.status_code == 404
    stolen = await submit(
        server,
        "extract",
        {"checkpoint_id": done["checkpoint_id"], "page_schema": json.dumps(SCHEMA)},
        team="beta",
    )
    assert stolen.status_code == 404, stolen.text


async def test_every_step_lookup_key_polls_and_has_thumbnails(
    server: TestServer, pdf: bytes
) -> None:
    pipeline_id = await make_pipeline(
        server,
        [
            {"type": "convert", "settings": {}},
            {"type": "segment", "settings": {"segmentation_schema": SEGMENTS}},
        ],
    )
    execution = await run(server, pipeline_id, content=pdf)
    done = await wait_done(server, execution.json()["execution_id"])
    convert_key, segment_key = (s["lookup_key"] for s in done["steps"])

    converted = await poll(server, f"/api/v1/convert/{convert_key}")
    assert "# Invoice" in converted["markdown"] and "segmentation_results" not in converted
    segmented = await poll(server, f"/api/v1/segment/{segment_key}")
    assert segmented["segmentation_results"]["segments"] and segmented["markdown"]

    thumbs = await server.client.get(
        f"/api/v1/thumbnails/{convert_key}",
        params={"page_range": "1", "thumb_width": "120"},
        headers=server.headers(),
    )
    assert thumbs.status_code == 200, thumbs.text
    body = thumbs.json()
    assert body["success"] is True and len(body["thumbnails"]) == 1
    image = Image.open(io.BytesIO(base64.b64decode(body["thumbnails"][0])))
    assert image.format == "JPEG" and image.width == 120
    too_wide = await server.client.get(
        f"/api/v1/thumbnails/{convert_key}",
        params={"thumb_width": "99999"},
        headers=server.headers(),
    )
    assert too_wide.status_code == 422


async def test_results_expire_and_the_check_url_uses_the_public_url(
    tmp_path: Path, pdf: bytes
) -> None:
    async with test_server(
        tmp_path / "data",
        ProcessorRegistry.builtin(),
        request_retention_seconds=0.5,
        public_url="https://docs.example.com/pm",
    ) as server:
        response = await server.client.post(
            "/api/v1/convert",
            files={"file": ("a.pdf", pdf, "application/pdf")},
            headers={**server.headers(), "Host": "attacker.example"},
        )
        url = await started(response)
        assert url.startswith("https://docs.example.com/pm/api/v1/convert/req_")
        path = "/api/v1/convert/" + url.rsplit("/", 1)[1]
        assert (await poll(server, path))["status"] == "complete"
        await asyncio.sleep(0.6)
        expired = await server.client.get(path, headers=server.headers())
        assert expired.status_code == 404 and "expired" in expired.text


async def test_a_cancelled_request_ends_every_poll_loop(tmp_path: Path, pdf: bytes) -> None:
    # No workers: the request waits in the queue until it is cancelled.
    async with test_server(tmp_path / "data", ProcessorRegistry.builtin(), workers=0) as server:
        response = await submit(server, "convert", {}, ("a.pdf", pdf, "application/pdf"))
        url = await started(response)
        waiting = await server.client.get(url, headers=server.headers())
        assert waiting.json()["status"] == "processing"
        execution = f"/api/v1/pipelines/executions/{response.json()['execution_id']}"
        cancelled = await server.client.post(f"{execution}/cancel", headers=server.headers())
        assert cancelled.json()["status"] == "failed" and cancelled.json()["cancelled"] is True

        body = (await server.client.get(url, headers=server.headers())).json()

        assert (body["status"], body["success"], body["cancelled"]) == ("failed", False, True)
        assert body["step_status"] == "cancelled" and "cancelled" in body["error"]


async def test_another_teams_custom_processor_is_as_unknown_as_a_missing_one(
    server: TestServer, pdf: bytes
) -> None:
    definition = {"rules": [{"action": "drop", "match": {"type": "heading"}}]}
    processor = await server.client.post(
        "/api/v1/custom_processors",
        json={"name": "alpha only", "definition": definition},
        headers=server.headers(),
    )
    response = await submit(
        server,
        "custom-processor",
        {"pipeline_id": processor.json()["processor_id"]},
        ("a.pdf", pdf, "application/pdf"),
        team="beta",
    )
    unknown = await submit(
        server,
        "custom-processor",
        {"pipeline_id": "cp_UnknownUnknown"},
        ("a.pdf", pdf, "application/pdf"),
        team="beta",
    )
    # As for a pipeline step naming it: the same answer as for an id that does not exist.
    assert response.status_code == unknown.status_code == 422, response.text
    assert "not found" in response.text and "not found" in unknown.text


async def test_an_idempotency_key_gives_the_same_request_and_refuses_another(
    server: TestServer, pdf: bytes
) -> None:
    async def send(key: str, form: dict[str, str]) -> Any:
        return await server.client.post(
            "/api/v1/convert",
            data=form,
            files={"file": ("invoice.pdf", pdf, "application/pdf")},
            headers={**server.headers("alpha"), "Idempotency-Key": key},
        )

    first = await send("shot-1", {"output_format": "markdown"})
    again = await send("shot-1", {"output_format": "markdown"})
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["request_id"] == first.json()["request_id"]
    assert again.json()["execution_id"] == first.json()["execution_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers

    other = await send("shot-1", {"output_format": "html"})
    assert other.status_code == 409, other.text
    malformed = await send("bad key\x7f", {"output_format": "markdown"})
    assert malformed.status_code == 422, malformed.text
    await poll(server, str(first.json()["request_check_url"]))


async def test_a_poll_waits_for_a_request_about_to_finish(tmp_path: Path, pdf: bytes) -> None:
    """The first poll, sent as soon as the submit is answered, waits for the convert to end
    instead of answering "processing"; with no wait it answers at once."""
    registry = ProcessorRegistry.builtin()
    async with test_server(tmp_path / "wait", registry, request_poll_wait_seconds=5.0) as waiting:
        url = await started(
            await submit(waiting, "convert", file=("a.pdf", pdf, "application/pdf"))
        )
        first = await waiting.client.get(url, headers=waiting.headers("alpha"))
        assert first.status_code == 200 and first.json()["status"] == "complete", first.text
    # No workers: the request cannot end, so only the setting decides that nothing waits.
    async with test_server(
        tmp_path / "now", registry, request_poll_wait_seconds=0, workers=0
    ) as at_once:
        url = await started(
            await submit(at_once, "convert", file=("a.pdf", pdf, "application/pdf"))
        )
        first = await at_once.client.get(url, headers=at_once.headers("alpha"))
        assert first.json()["status"] == "processing", first.text
