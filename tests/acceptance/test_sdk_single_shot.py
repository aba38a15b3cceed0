"""Every single-shot method of the public datalab-python-sdk, sync and async, against a real
``pagemill serve``; each answer the SDK polled is checked against the model it built, so a
field the server sends is never dropped or changed on the way (only documented extensions are
outside the models)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from datalab_sdk import AsyncDatalabClient, DatalabClient
from datalab_sdk.models import (
    ConvertOptions,
    CustomProcessorOptions,
    ExtractOptions,
    FormFillingOptions,
    OCROptions,
    SegmentOptions,
    TrackChangesOptions,
)

from docgen.pdfgen import make_pdf
from tests.acceptance.conftest import ServerProcess
from tests.formgen import acroform_pdf, change, paragraph, run, tracked_docx

pytestmark = pytest.mark.slow

SCHEMA = json.dumps({"type": "object", "properties": {"total": {"type": "number"}}})
SEGMENTS = json.dumps({"Invoice": "The invoice", "Terms": "Terms and conditions"})
# Fields pagemill sends beyond the SDK's models (docs/api.md, "Single-shot requests").
EXTENSIONS = {
    "request_id",
    "provenance",  # what produced the result (see GET …/executions/{id}/provenance)
    "metadata",
    "runtime",
    "checkpoint_id",
    "images",
    "output_format",
    "custom_processor",  # a custom step: which processor and version ran
    "page_classification",  # a custom step: its page classes
}
POLL = {"max_polls": 240, "poll_interval": 0.25}


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


@pytest.fixture
def polled(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every final answer the SDK's poll loop returned, as the server sent it."""
    answers: list[dict[str, Any]] = []
    original = AsyncDatalabClient._poll_result

    async def spy(self: AsyncDatalabClient, *args: Any, **kwargs: Any) -> Any:
        answer = await original(self, *args, **kwargs)
        if isinstance(answer, dict):
            answers.append(answer)
        return answer

    monkeypatch.setattr(AsyncDatalabClient, "_poll_result", spy)
    return answers


@dataclasses.dataclass
class Documents:
    pdf: Path
    form: Path
    docx: Path


@pytest.fixture
def documents(tmp_path: Path) -> Documents:
    pdf = make_pdf(
        tmp_path / "invoice.pdf",
        [
            [("h1", "Invoice"), ("p", "Total: 42.00 USD")],
            [("h2", "Terms"), ("p", "Payment is due within thirty days.")],
        ],
    )
    body = paragraph(run("Pay in "), change("ins", "Ann", run("30")), run(" days"))
    return Documents(
        pdf, acroform_pdf(tmp_path / "form.pdf"), tracked_docx(tmp_path / "c.docx", body)
    )


def assert_nothing_dropped(model: Any, answer: dict[str, Any]) -> None:
    names = {f.name for f in dataclasses.fields(model)}
    for name in names & set(answer):
        assert getattr(model, name) == answer[name], name
    assert set(answer) - names <= EXTENSIONS, set(answer) - names


def custom_processor(server: ServerProcess) -> str:
    response = httpx.post(
        f"{server.base_url}/api/v1/custom_processors",
        json={
            "name": "no headings",
            "definition": {"rules": [{"action": "drop", "match": {"type": "heading"}}]},
        },
        headers={"X-API-Key": server.api_key},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["processor_id"])


def check_all(results: dict[str, Any], polled: list[dict[str, Any]]) -> None:
    """What each method returned, and that its model kept every field it was sent."""
    assert len(polled) == len(results)
    for model, answer in zip(results.values(), polled, strict=True):
        assert answer["status"] == "complete" and answer["success"] is True, answer.get("error")
        assert_nothing_dropped(model, answer)
    convert = results["convert"]
    assert "# Invoice" in convert.markdown and convert.html and convert.page_count == 2
    assert convert.checkpoint_id and convert.versions["convert"]
    assert json.loads(results["extract"].extraction_schema_json)["total"] == 42.0
    assert json.loads(results["extract_checkpoint"].extraction_schema_json)["total"] == 42.0
    assert results["segment"].segmentation_results["segments"]
    assert "# Invoice" not in results["custom"].markdown
    assert "<ins" in results["track_changes"].markdown
    assert base64.b64decode(results["create_document"].output_base64).startswith(b"PK")
    assert "Invoice" in results["ocr"].get_text()
    assert results["fill"].fields_filled == ["full_name"]


@pytest.mark.usefixtures("sdk_loop")
def test_every_single_shot_method_of_the_sync_client(
    server_process: ServerProcess, documents: Documents, polled: list[dict[str, Any]]
) -> None:
    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)
    pdf = str(documents.pdf)
    results: dict[str, Any] = {}
    results["convert"] = client.convert(
        pdf, options=ConvertOptions(output_format="markdown,html", save_checkpoint=True), **POLL
    )
    results["extract"] = client.extract(pdf, options=ExtractOptions(page_schema=SCHEMA), **POLL)
    checkpoint = results["convert"].checkpoint_id
    results["extract_checkpoint"] = client.extract(
        options=ExtractOptions(page_schema=SCHEMA, checkpoint_id=checkpoint), **POLL
    )
    results["segment"] = client.segment(
        options=SegmentOptions(segmentation_schema=SEGMENTS, checkpoint_id=checkpoint), **POLL
    )
    processor_id = custom_processor(server_process)
    results["custom"] = client.run_custom_processor(
        pdf, options=CustomProcessorOptions(pipeline_id=processor_id), **POLL
    )
    results["track_changes"] = client.track_changes(
        str(documents.docx), options=TrackChangesOptions(), **POLL
    )
    results["create_document"] = client.create_document("# Title\n\nText.", **POLL)
    with pytest.warns(DeprecationWarning, match="ocr"):
        results["ocr"] = client.ocr(pdf, options=OCROptions(max_pages=1), **POLL)
    fields = {"full_name": {"value": "Ada Lovelace", "description": "Full name"}}
    results["fill"] = client.fill(
        str(documents.form), options=FormFillingOptions(field_data=fields), **POLL
    )
    check_all(results, polled)


def test_every_single_shot_method_of_the_async_client(
    server_process: ServerProcess, documents: Documents, polled: list[dict[str, Any]]
) -> None:
    pdf = str(documents.pdf)
    processor_id = custom_processor(server_process)
    fields = {"full_name": {"value": "Ada Lovelace", "description": "Full name"}}

    async def walk() -> dict[str, Any]:
        results: dict[str, Any] = {}
        async with AsyncDatalabClient(
            api_key=server_process.api_key, base_url=server_process.base_url
        ) as client:
            results["convert"] = await client.convert(
                pdf, options=ConvertOptions(output_format="markdown,html"), **POLL
            )
            results["extract"] = await client.extract(
                pdf, options=ExtractOptions(page_schema=SCHEMA), **POLL
            )
            checkpoint = results["convert"].checkpoint_id
            results["extract_checkpoint"] = await client.extract(
                options=ExtractOptions(page_schema=SCHEMA, checkpoint_id=checkpoint), **POLL
            )
            results["segment"] = await client.segment(
                pdf, options=SegmentOptions(segmentation_schema=SEGMENTS), **POLL
            )
            with pytest.warns(DeprecationWarning, match="run_custom_processor"):
                results["custom"] = await client.run_custom_pipeline(
                    pdf, options=CustomProcessorOptions(pipeline_id=processor_id), **POLL
                )
            results["track_changes"] = await client.track_changes(str(documents.docx), **POLL)
            results["create_document"] = await client.create_document("# T\n\nText.", **POLL)
            with pytest.warns(DeprecationWarning, match="ocr"):
                results["ocr"] = await client.ocr(pdf, **POLL)
            results["fill"] = await client.fill(
                str(documents.form), options=FormFillingOptions(field_data=fields), **POLL
            )
        return results

    check_all(asyncio.run(walk()), polled)


@pytest.mark.usefixtures("sdk_loop")
def test_a_streamed_result_and_a_failure_as_the_sdk_sees_them(
    server_process: ServerProcess, documents: Documents, tmp_path: Path
) -> None:
    from datalab_sdk.exceptions import DatalabAPIError

    client = DatalabClient(api_key=server_process.api_key, base_url=server_process.base_url)
    streamed = client.convert(str(documents.pdf), stream_response_to=tmp_path / "out.json", **POLL)
    assert streamed.success and streamed.status == "complete"
    assert "# Invoice" in json.loads((tmp_path / "out.json").read_text())["markdown"]

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    with pytest.raises(DatalabAPIError, match="Processing failed"):
        client.convert(str(broken), **POLL)
    with pytest.raises(DatalabAPIError) as refused:
        client.convert(str(documents.pdf), options=ConvertOptions(mode="sloppy"), **POLL)
    assert refused.value.status_code == 422


def test_thumbnails_are_drawn_in_a_worker_process(
    server_process: ServerProcess, documents: Documents
) -> None:
    with httpx.Client(
        base_url=server_process.base_url,
        headers={"X-API-Key": server_process.api_key},
        timeout=60,
    ) as client:
        submitted = client.post(
            "/api/v1/convert",
            files={"file": ("invoice.pdf", documents.pdf.read_bytes(), "application/pdf")},
        )
        assert submitted.status_code == 200, submitted.text
        request_id = submitted.json()["request_id"]
        thumbs = client.get(f"/api/v1/thumbnails/{request_id}", params={"thumb_width": 64})
        assert thumbs.status_code == 200, thumbs.text
        body = thumbs.json()
        assert body["success"] is True and len(body["thumbnails"]) == 2
        assert base64.b64decode(body["thumbnails"][0]).startswith(b"\xff\xd8")  # JPEG
