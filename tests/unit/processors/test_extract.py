"""The extract processor on generated invoices, forms and letters converted by the real convert
step, scored field by field against the values they were generated with."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from docgen.extractgen import (
    FORM_SCHEMA,
    INVOICE_SCHEMA,
    LETTER_SCHEMA,
    GeneratedDoc,
    Score,
    corpus,
    form,
    invoice,
    letter,
    resume,
    score,
    write_pdf,
)
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.extractor import StructuredExtractor
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.document import Document
from pagemill.processors.extract import ExtractProcessor
from pagemill.processors.segment import SegmentProcessor

MIN_ACCURACY = 0.95
CORPUS_SIZE = 24  # 8 invoices, 8 forms, 8 letters, every layout twice


def convert(tmp: Path, docs: list[GeneratedDoc], name: str) -> tuple[Path, Path]:
    """Write ``docs`` as one PDF and convert it; return the PDF and its checkpoint."""
    pdf = write_pdf(tmp / f"{name}.pdf", docs)
    output = ConvertProcessor().run(ProcessorInput(document=pdf, filename=pdf.name, settings={}))
    assert output.checkpoint is not None
    checkpoint = tmp / f"{name}.checkpoint.json"
    checkpoint.write_bytes(output.checkpoint)
    return pdf, checkpoint


def extract(
    pdf: Path,
    checkpoint: Path | None,
    settings: dict[str, Any],
    extractor: StructuredExtractor | None = None,
) -> ProcessorOutput:
    job = ProcessorInput(document=pdf, filename=pdf.name, settings=settings, checkpoint=checkpoint)
    return ExtractProcessor(extractor).run(job)


def data_of(output: ProcessorOutput) -> dict[str, Any]:
    data = json.loads(output.result["extraction_schema_json"])
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[GeneratedDoc, Path, Path]]:
    tmp = tmp_path_factory.mktemp("extract")
    return [(doc, *convert(tmp, [doc], f"doc{i}")) for i, doc in enumerate(corpus(CORPUS_SIZE))]


def test_field_accuracy_over_generated_documents(
    converted: list[tuple[GeneratedDoc, Path, Path]],
) -> None:
    overall = Score()
    by_kind: dict[str, Score] = {}
    for doc, pdf, checkpoint in converted:
        data = data_of(extract(pdf, checkpoint, {"page_schema": doc.schema}))
        score(doc.expected, data, overall, f"{doc.kind}/{doc.layout}: ")
        score(doc.expected, data, by_kind.setdefault(doc.kind, Score()))
    kinds = ", ".join(f"{k} {s.accuracy:.3f} ({s.correct}/{s.total})" for k, s in by_kind.items())
    print(
        f"\nextraction accuracy over {len(converted)} documents: {overall.accuracy:.3f} "
        f"({overall.correct}/{overall.total} fields); {kinds}"
    )
    for miss in overall.misses:
        print("  miss:", miss)
    assert len({doc.layout for doc, _, _ in converted}) >= 10
    assert overall.accuracy >= MIN_ACCURACY


def test_line_items_come_from_the_table(tmp_path: Path) -> None:
    doc = invoice(11, "grid")
    pdf, checkpoint = convert(tmp_path, [doc], "invoice")
    data = data_of(extract(pdf, checkpoint, {"page_schema": INVOICE_SCHEMA}))
    assert data["line_items"] == doc.expected["line_items"]
    assert isinstance(data["line_items"][0]["quantity"], int)
    assert data["total"] == pytest.approx(doc.expected["total"])
    assert data["invoice_date"] == doc.expected["invoice_date"]  # ISO 8601: format date


def test_nested_object_is_read_from_its_section(tmp_path: Path) -> None:
    doc = form(5, "colon")  # "Name:" and "Phone:" appear in both sections
    pdf, checkpoint = convert(tmp_path, [doc], "form")
    data = data_of(extract(pdf, checkpoint, {"page_schema": FORM_SCHEMA}))
    assert data["emergency_contact"] == doc.expected["emergency_contact"]
    assert data["full_name"] == doc.expected["full_name"]
    assert data["phone"] == doc.expected["phone"]
    assert data["newsletter"] is doc.expected["newsletter"]
    assert data["membership_type"] == doc.expected["membership_type"]


def test_checkboxes_give_enums_and_booleans(tmp_path: Path) -> None:
    doc = form(3, "checkboxes")
    pdf, checkpoint = convert(tmp_path, [doc], "boxes")
    data = data_of(extract(pdf, checkpoint, {"page_schema": FORM_SCHEMA}))
    assert data["membership_type"] == doc.expected["membership_type"]
    assert data["newsletter"] is doc.expected["newsletter"]


def test_citations_are_block_ids_of_the_checkpoint(
    converted: list[tuple[GeneratedDoc, Path, Path]],
) -> None:
    for doc, pdf, checkpoint in converted[:6]:
        blocks = {b.block_id: b for b in Document.from_json_bytes(checkpoint.read_bytes()).blocks}
        data = data_of(extract(pdf, checkpoint, {"page_schema": doc.schema}))
        fields = [key for key in data if not key.endswith("_citations")]
        assert fields
        for key in fields:
            cited = data[f"{key}_citations"]
            assert cited, key
            assert set(cited) <= set(blocks), key
        for key in ("invoice_number", "reference", "email"):
            if key in data:  # a plain string value sits in the first block cited for it
                assert data[key] in blocks[data[f"{key}_citations"][0]].text


def test_extraction_per_segment(tmp_path: Path) -> None:
    docs = [invoice(2), letter(4)]
    pdf, checkpoint = convert(tmp_path, docs, "bundle")
    segmented = SegmentProcessor().run(
        ProcessorInput(
            document=pdf,
            filename=pdf.name,
            settings={"segmentation_schema": {"Invoice": "An invoice", "Letter": "A letter"}},
            checkpoint=checkpoint,
        )
    )
    assert segmented.checkpoint is not None
    segment_checkpoint = tmp_path / "segmented.json"
    segment_checkpoint.write_bytes(segmented.checkpoint)
    schema = {
        "type": "object",
        "properties": {
            "invoice_number": INVOICE_SCHEMA["properties"]["invoice_number"],
            "total": INVOICE_SCHEMA["properties"]["total"],
            "subject": LETTER_SCHEMA["properties"]["subject"],
            "date": LETTER_SCHEMA["properties"]["date"],
        },
    }
    output = extract(pdf, segment_checkpoint, {"page_schema": json.dumps(schema)})
    parts = data_of(output)["segments"]
    assert [(p["segment"], p["pages"]) for p in parts] == [("Invoice", [0]), ("Letter", [1])]
    invoice_data, letter_data = parts[0]["data"], parts[1]["data"]
    assert invoice_data["invoice_number"] == docs[0].expected["invoice_number"]
    assert invoice_data["total"] == pytest.approx(docs[0].expected["total"])
    assert "subject" not in invoice_data
    assert letter_data["subject"] == docs[1].expected["subject"]
    assert letter_data["date"] == docs[1].expected["date"]
    assert "invoice_number" not in letter_data
    assert all(c.startswith("/page/1/") for c in letter_data["subject_citations"])
    assert output.result["metadata"]["segments"][0]["segment"] == "Invoice"


def test_list_of_strings_from_list_items(tmp_path: Path) -> None:
    pdf, checkpoint = convert(tmp_path, [resume(3)], "resume")
    schema = {
        "type": "object",
        "properties": {"skills": {"type": "array", "items": {"type": "string"}}},
    }
    data = data_of(extract(pdf, checkpoint, {"page_schema": schema}))
    assert data["skills"] == ["Python and SQL", "Distributed systems", "Team leadership"]


def test_values_the_schema_refuses_are_dropped_and_reported(tmp_path: Path) -> None:
    doc = invoice(7, "stacked")
    pdf, checkpoint = convert(tmp_path, [doc], "strict")
    schema = json.loads(json.dumps(INVOICE_SCHEMA))
    schema["properties"]["invoice_number"]["pattern"] = "^NEVER"
    schema["properties"]["total"]["maximum"] = 0
    output = extract(pdf, checkpoint, {"page_schema": schema})
    data = data_of(output)
    assert "invoice_number" not in data and "invoice_number_citations" not in data
    assert "total" not in data
    assert data["due_date"] == doc.expected["due_date"]
    dropped = {item["field"] for item in output.result["metadata"]["invalid_fields"]}
    assert dropped == {"invoice_number", "total"}
    # Both were required: the problem is reported, the step still succeeds.
    assert output.result["metadata"]["schema_problems"]
    assert output.result["success"] is True


def test_result_has_the_hosted_keys(converted: list[tuple[GeneratedDoc, Path, Path]]) -> None:
    doc, pdf, checkpoint = converted[0]
    output = extract(pdf, checkpoint, {"page_schema": json.dumps(doc.schema)})
    result = output.result
    assert result["status"] == "complete"
    assert result["success"] is True
    assert isinstance(result["extraction_schema_json"], str)
    assert result["page_count"] == 1
    assert result["metadata"]["extraction_method"] == "offline"
    assert output.checkpoint is None  # extract is always the last step
    json.dumps(result)


class FakeLlm(StructuredExtractor):
    name = "fake:model-1"

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any], str]] = []

    def extract(self, text: str, schema: dict[str, Any], instructions: str) -> dict[str, Any]:
        self.calls.append((text, schema, instructions))
        return self.answer


def test_configured_extractor_is_used_with_checked_citations(
    converted: list[tuple[GeneratedDoc, Path, Path]],
) -> None:
    doc, pdf, checkpoint = converted[0]
    blocks = Document.from_json_bytes(checkpoint.read_bytes()).blocks
    number = doc.expected["invoice_number"]
    holder = next(b.block_id for b in blocks if number in b.text)
    llm = FakeLlm(
        {
            "invoice_number": number,
            "invoice_number_citations": [holder, "/page/9/Paragraph/99"],
            "customer_name": "Invented Trading Ltd",  # cited, but not in the cited block
            "customer_name_citations": [holder],
            "due_date": doc.expected["due_date"],  # no citation at all
            "total": "not a number",
            "total_citations": [holder],
        }
    )
    output = extract(pdf, checkpoint, {"page_schema": doc.schema}, llm)
    data = data_of(output)
    assert data == {"invoice_number": number, "invoice_number_citations": [holder]}
    metadata = output.result["metadata"]
    assert metadata["extraction_method"] == "llm"
    assert set(metadata["rejected_fields"]) == {"customer_name", "due_date", "total"}
    text, schema, _ = llm.calls[0]
    assert f"[{blocks[0].block_id}]" in text
    assert "total_citations" in schema["properties"]
    assert "Hints" in text and number in text.split("Hints")[1]  # offline values as hints
    assert ExtractProcessor(llm).version.endswith("fake:model-1")
    # "offline" still selects the built-in extractor.
    offline = extract(
        pdf, checkpoint, {"page_schema": doc.schema, "extraction_mode": "offline"}, llm
    )
    assert data_of(offline)["invoice_number"] == doc.expected["invoice_number"]
    assert len(llm.calls) == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"schema_id": "sch_123", "page_schema": INVOICE_SCHEMA}, "either page_schema or sch"),
        ({"schema_id": "pl_123"}, "must be an extraction schema id"),
        ({"schema_id": "sch_123", "schema_version": 0}, "version number ≥ 1"),
        ({"page_schema": INVOICE_SCHEMA, "schema_version": 2}, "'schema_version' needs a"),
        ({"page_schema": INVOICE_SCHEMA, "_schema": {"id": "sch_1"}}, "'_schema' is reserved"),
        ({"page_schema": {"$schema": {}, "properties": {"a": {}}}}, "URI of a JSON Schema"),
        ({"page_schema": {"$schema": "urn:x", "properties": {"a": {}}}}, "got 'urn:x'"),
        ({}, "needs a page_schema"),
        ({"page_schema": '{"type": "object"'}, "not valid JSON"),
        ({"page_schema": {"type": "object"}}, "properties"),
        ({"page_schema": ["a"]}, "properties"),
        ({"page_schema": {"properties": {"a": {"type": 5}}}}, "not a valid JSON schema"),
        ({"page_schema": INVOICE_SCHEMA, "extraction_mode": "magic"}, "extraction_mode"),
        ({"page_schema": INVOICE_SCHEMA, "extraction_mode": "llm"}, "LLM endpoint"),
    ],
)
def test_bad_settings_are_invalid_input(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ExtractProcessor().check_settings(settings)


@pytest.mark.parametrize(
    "settings",
    [{"schema_id": "sch_k8Hx9mP2nQ4v"}, {"schema_id": "sch_k8Hx9mP2nQ4v", "schema_version": "3"}],
)
def test_a_saved_schema_may_replace_page_schema(settings: dict[str, Any]) -> None:
    ExtractProcessor().check_settings(settings)


def test_llm_mode_is_accepted_with_an_extractor() -> None:
    ExtractProcessor(FakeLlm({})).check_settings(
        {"page_schema": INVOICE_SCHEMA, "extraction_mode": "llm"}
    )


def test_missing_checkpoint_is_a_processing_error(tmp_path: Path) -> None:
    with pytest.raises(ProcessingError, match="convert step") as caught:
        extract(tmp_path / "x.pdf", None, {"page_schema": INVOICE_SCHEMA})
    assert caught.value.retryable is False


def test_bad_settings_at_run_time_are_a_processing_error(
    converted: list[tuple[GeneratedDoc, Path, Path]],
) -> None:
    _, pdf, checkpoint = converted[0]
    with pytest.raises(ProcessingError, match="not resolved when the run started"):
        extract(pdf, checkpoint, {"schema_id": "sch_1"})


def test_a_frozen_saved_schema_runs_and_is_named_in_the_metadata(
    converted: list[tuple[GeneratedDoc, Path, Path]],
) -> None:
    doc, pdf, checkpoint = converted[0]
    frozen = {"page_schema": doc.schema, "_schema": {"id": "sch_1", "version": 3}}

    output = extract(pdf, checkpoint, frozen)

    assert data_of(output)["invoice_number"] == doc.expected["invoice_number"]
    assert output.result["metadata"]["extraction_schema"] == {"id": "sch_1", "version": 3}


def test_processor_pickles() -> None:
    processor = pickle.loads(pickle.dumps(ExtractProcessor()))  # noqa: S301 - our own bytes
    assert processor.step_type == "extract"
    assert processor.cpu_heavy is False
