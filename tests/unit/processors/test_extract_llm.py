"""The LLM path end to end with recorded answers: the real OpenAI-compatible adapter over a fake
transport (``httpx.MockTransport``), the extract step checking what comes back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from pagemill.adapters.llm import OpenAICompatibleExtractor
from pagemill.processors.document import Block, Document
from pagemill.processors.extract.llm import contains, extract_with
from tests.unit.processors.extract_blocks import DATE, NUMBER, STRING, page, schema

SCHEMA = schema(invoice_number=STRING, invoice_date=DATE, total=NUMBER, vendor_name=STRING)
BLOCKS = page(
    "Bakkerij De Molen B.V.",
    "Factuurnummer: 2024-0007",
    "Factuurdatum: 09-03-2024",
    "Totaal te betalen: 1.250,50 EUR",
)
# What a model answered for BLOCKS (recorded): right values with right citations, one value
# cited to a block that does not hold it, one citation of a block that does not exist.
RECORDED = {
    "invoice_number": "2024-0007",
    "invoice_number_citations": ["/page/0/Paragraph/1"],
    "invoice_date": "2024-03-09",
    "invoice_date_citations": ["[/page/0/Paragraph/2]", "/page/7/Paragraph/3"],
    "total": 1250.5,
    "total_citations": ["/page/0/Paragraph/3"],
    "vendor_name": "De Molen Catering",
    "vendor_name_citations": ["/page/0/Paragraph/0"],
}


class Recorder:
    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        content = json.dumps(self.answers.pop(0))
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})


def adapter(recorder: Recorder) -> OpenAICompatibleExtractor:
    return OpenAICompatibleExtractor(
        "http://llm.test/v1", "sk-test", "tiny", transport=httpx.MockTransport(recorder)
    )


def test_values_are_kept_only_where_their_citation_holds_them() -> None:
    recorder = Recorder(RECORDED)
    extraction = extract_with(adapter(recorder), BLOCKS, SCHEMA)
    assert extraction.data == {
        "invoice_number": "2024-0007",
        "invoice_date": "2024-03-09",
        "total": 1250.5,
    }
    assert extraction.citations["invoice_date"] == ["/page/0/Paragraph/2"]
    assert set(extraction.notes["rejected_fields"]) == {"vendor_name"}


def test_the_request_is_constrained_by_the_schema_and_carries_the_hints() -> None:
    recorder = Recorder(RECORDED)
    extract_with(adapter(recorder), BLOCKS, SCHEMA)
    body = recorder.bodies[0]
    response_schema = body["response_format"]["json_schema"]["schema"]
    assert set(SCHEMA["properties"]) < set(response_schema["properties"])
    assert "invoice_number_citations" in response_schema["properties"]
    user = body["messages"][-1]["content"]
    assert "[/page/0/Paragraph/1] Factuurnummer: 2024-0007" in user
    hints = json.loads(user.split("may be wrong):\n", 1)[1])
    assert hints["invoice_number"] == {"value": "2024-0007", "blocks": ["/page/0/Paragraph/1"]}
    assert hints["vendor_name"]["value"] == "Bakkerij De Molen B.V."


def test_an_answer_without_citations_is_empty_with_reasons() -> None:
    answer = {"invoice_number": "2024-0007", "total": 1250.5}
    extraction = extract_with(adapter(Recorder(answer)), BLOCKS, SCHEMA)
    assert extraction.data == {}
    assert extraction.notes["rejected_fields"] == {
        "invoice_number": "no citation of a block of the document",
        "total": "no citation of a block of the document",
    }


def test_containment_reads_numbers_and_dates_as_the_document_writes_them() -> None:
    assert contains("Totaal te betalen: 1.250,50 EUR", 1250.5)
    assert not contains("Totaal te betalen: 1.250,50 EUR", 1250.0)
    assert contains("Factuurdatum: 09-03-2024", "2024-03-09")
    assert contains("Factuurdatum: 03/09/2024", "2024-03-09")
    assert not contains("Factuurdatum: 09-03-2024", "2024-03-10")
    assert contains("Bill to:  ACME   Ltd.", "acme ltd")
    assert not contains("Bill to: ACME Ltd.", "Globex")


def test_the_extract_step_uses_the_checked_answer(tmp_path: Path) -> None:
    from pagemill.ports.processing import ProcessorInput
    from pagemill.processors.extract import ExtractProcessor

    checkpoint = tmp_path / "doc.checkpoint.json"
    checkpoint.write_bytes(Document(1, [0], list(BLOCKS)).to_json_bytes())
    job = ProcessorInput(
        document=tmp_path / "doc.pdf",
        filename="doc.pdf",
        settings={"page_schema": SCHEMA, "extraction_mode": "llm"},
        checkpoint=checkpoint,
    )
    output = ExtractProcessor(adapter(Recorder(RECORDED))).run(job)
    data = json.loads(output.result["extraction_schema_json"])
    assert data["total"] == 1250.5 and "vendor_name" not in data
    assert output.result["metadata"]["rejected_fields"]["vendor_name"].startswith("the cited")


def test_blocks_of_tables_are_cited_by_their_rows() -> None:
    table = Block(
        "/page/0/Table/0", 0, (60, 60, 400, 90), "table", "", rows=(("Total", "99,00 €"),)
    )
    answer = {"total": 99.0, "total_citations": ["/page/0/Table/0"]}
    extraction = extract_with(adapter(Recorder(answer)), [table], schema(total=NUMBER))
    assert extraction.data == {"total": 99.0}
