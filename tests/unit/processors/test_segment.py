"""The segment processor on generated multi-document PDFs converted by the real convert step."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from docgen.extractgen import GeneratedDoc, corpus, invoice, letter, resume, write_pdf
from docgen.pdfgen import make_large_pdf
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.document import SEGMENTS_KEY, Document
from pagemill.processors.segment import SegmentProcessor
from pagemill.processors.segment.lexical import stem, tokens
from pagemill.processors.segment.schema import SegmentSpec, parse_segmentation_schema

NAME_MAP = {
    "Invoice": "A bill for goods or services, with line items and a total",
    "Resume": "The applicant's resume or CV",
    "Letter": "A letter to a customer",
}
SEGMENTS = {"segments": [{"name": name, "description": text} for name, text in NAME_MAP.items()]}
SECTIONS = {"sections": [{"name": name, "description": text} for name, text in NAME_MAP.items()]}
EXPECTED = [("Invoice", [0]), ("Resume", [1, 2]), ("Letter", [3])]


def checkpoint_of(tmp: Path, docs: list[GeneratedDoc], name: str) -> tuple[Path, Path]:
    """Write ``docs`` as one PDF, convert it, and store the checkpoint; return both paths."""
    pdf = write_pdf(tmp / f"{name}.pdf", docs)
    output = ConvertProcessor().run(ProcessorInput(document=pdf, filename=pdf.name, settings={}))
    assert output.checkpoint is not None
    checkpoint = tmp / f"{name}.checkpoint.json"
    checkpoint.write_bytes(output.checkpoint)
    return pdf, checkpoint


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[GeneratedDoc]]:
    """An invoice (1 page), a résumé (2 pages, the second without a heading on top), a letter."""
    docs = [invoice(1), resume(0), letter(2)]
    pdf, checkpoint = checkpoint_of(tmp_path_factory.mktemp("segment"), docs, "bundle")
    return pdf, checkpoint, docs


def segment(pdf: Path, checkpoint: Path | None, schema: Any = None) -> ProcessorOutput:
    settings = {} if schema is None else {"segmentation_schema": schema}
    job = ProcessorInput(document=pdf, filename=pdf.name, settings=settings, checkpoint=checkpoint)
    return SegmentProcessor().run(job)


def spans(output: ProcessorOutput) -> list[tuple[str, list[int]]]:
    return [(s["name"], s["pages"]) for s in output.result["segmentation_results"]["segments"]]


@pytest.mark.parametrize(
    "encoding", [NAME_MAP, SEGMENTS, SECTIONS], ids=["map", "segments", "sections"]
)
@pytest.mark.parametrize("as_string", [False, True], ids=["object", "json-string"])
def test_schema_encodings_give_the_page_spans(
    bundle: tuple[Path, Path, list[GeneratedDoc]], encoding: dict[str, Any], as_string: bool
) -> None:
    pdf, checkpoint, _ = bundle
    output = segment(pdf, checkpoint, json.dumps(encoding) if as_string else encoding)
    assert spans(output) == EXPECTED
    results = output.result["segmentation_results"]
    assert results["metadata"] == {"total_pages": 4, "segmentation_method": "schema_matching"}
    assert all(s["confidence"] in ("high", "medium", "low") for s in results["segments"])


def test_clear_matches_are_high_confidence(bundle: tuple[Path, Path, list[GeneratedDoc]]) -> None:
    pdf, checkpoint, _ = bundle
    segments = segment(pdf, checkpoint, NAME_MAP).result["segmentation_results"]["segments"]
    assert [s["confidence"] for s in segments] == ["high", "high", "high"]


def test_segment_order_in_the_schema_does_not_matter(
    bundle: tuple[Path, Path, list[GeneratedDoc]],
) -> None:
    pdf, checkpoint, _ = bundle
    reordered = {"Letter": "Correspondence", "CV": "", "Invoice": "Invoice"}
    assert spans(segment(pdf, checkpoint, reordered)) == [
        ("Invoice", [0]),
        ("CV", [1, 2]),
        ("Letter", [3]),
    ]


@pytest.mark.parametrize("schema", [None, {}, "", "{}", {"segments": []}, {"sections": []}])
def test_empty_schema_auto_detects_at_document_headings(
    bundle: tuple[Path, Path, list[GeneratedDoc]], schema: Any
) -> None:
    pdf, checkpoint, docs = bundle
    output = segment(pdf, checkpoint, schema)
    # Each document starts on a new page with a heading; the résumé's second page continues.
    assert spans(output) == [(docs[0].title, [0]), (docs[1].title, [1, 2]), (docs[2].title, [3])]
    results = output.result["segmentation_results"]
    assert results["metadata"]["segmentation_method"] == "auto_detected"
    assert {s["confidence"] for s in results["segments"]} == {"high"}


def test_two_documents_of_one_kind_stay_apart(tmp_path: Path) -> None:
    pdf, checkpoint = checkpoint_of(tmp_path, [invoice(4), invoice(5), letter(6)], "two")
    output = segment(pdf, checkpoint, {"Invoice": "An invoice", "Letter": "A letter"})
    assert spans(output) == [("Invoice", [0]), ("Invoice", [1]), ("Letter", [2])]


def test_a_packet_of_many_documents(tmp_path: Path) -> None:
    docs = [*corpus(12, start=30), resume(1), resume(2)]
    docs = [docs[i] for i in (3, 12, 0, 7, 1, 13, 5, 10, 2, 8, 4, 11, 6, 9)]  # mixed kinds
    pdf, checkpoint = checkpoint_of(tmp_path, docs, "packet")
    names = {"invoice": "Invoice", "form": "Form", "letter": "Letter", "resume": "Resume"}
    expected, page = [], 0
    for doc in docs:
        expected.append((names[doc.kind], list(range(page, page + len(doc.pages)))))
        page += len(doc.pages)
    schema = {
        "Invoice": "An invoice",
        "Form": "An application form",
        "Letter": "A letter",
        "Resume": "A CV",
    }
    assert spans(segment(pdf, checkpoint, schema)) == expected
    auto = spans(segment(pdf, checkpoint))
    assert [pages for _, pages in auto] == [pages for _, pages in expected]


def test_a_report_with_a_section_per_page(tmp_path: Path) -> None:
    pdf = make_large_pdf(tmp_path / "report.pdf", 4)  # "Section N" on top of every page
    output = ConvertProcessor().run(ProcessorInput(document=pdf, filename=pdf.name, settings={}))
    assert output.checkpoint is not None
    checkpoint = tmp_path / "report.json"
    checkpoint.write_bytes(output.checkpoint)
    matched = segment(pdf, checkpoint, {"Report": "A generated report", "Invoice": "An invoice"})
    assert spans(matched) == [("Report", [0, 1, 2, 3])]
    # Auto-detection names the sections; those at the level of an earlier subsection are
    # reported with medium confidence.
    auto = segment(pdf, checkpoint).result["segmentation_results"]["segments"]
    assert [(s["name"], s["confidence"]) for s in auto] == [
        ("Generated Report", "high"),
        ("Section 2", "medium"),
        ("Section 3", "medium"),
        ("Section 4", "medium"),
    ]


def test_result_has_the_hosted_keys(bundle: tuple[Path, Path, list[GeneratedDoc]]) -> None:
    pdf, checkpoint, _ = bundle
    result = segment(pdf, checkpoint, NAME_MAP).result
    assert result["status"] == "complete"
    assert result["success"] is True
    assert result["page_count"] == 4
    json.dumps(result)  # the step result is stored as JSON


def test_checkpoint_is_the_document_with_the_segments(
    bundle: tuple[Path, Path, list[GeneratedDoc]],
) -> None:
    pdf, checkpoint, _ = bundle
    output = segment(pdf, checkpoint, NAME_MAP)
    assert output.checkpoint is not None
    passed_on = Document.from_json_bytes(output.checkpoint)
    original = Document.from_json_bytes(checkpoint.read_bytes())
    assert passed_on.blocks == original.blocks
    assert passed_on.pages == original.pages
    assert passed_on.metadata[SEGMENTS_KEY] == [
        {"name": name, "pages": pages, "confidence": "high"} for name, pages in EXPECTED
    ]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ('{"Invoice": ', "not valid JSON"),
        (["Invoice"], "must be an object"),
        ({"Invoice": 3}, "description"),
        ({"segments": [{"description": "no name"}]}, "name"),
        ({"segments": [{"name": "A"}, {"name": "a"}]}, "twice"),
        ({"segments": [{"name": "A"}], "extra": 1}, "no other keys"),
        ({"segments": ["A", 4]}, "segment 1"),
    ],
)
def test_bad_schemas_are_invalid_input(schema: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SegmentProcessor().check_settings({"segmentation_schema": schema})


def test_bad_schema_at_run_time_is_a_processing_error(
    bundle: tuple[Path, Path, list[GeneratedDoc]],
) -> None:
    pdf, checkpoint, _ = bundle
    with pytest.raises(ProcessingError, match="must be an object"):
        segment(pdf, checkpoint, [1, 2])


def test_missing_checkpoint_is_a_processing_error(
    bundle: tuple[Path, Path, list[GeneratedDoc]],
) -> None:
    pdf, _, _ = bundle
    with pytest.raises(ProcessingError, match="convert step") as caught:
        segment(pdf, None, NAME_MAP)
    assert caught.value.retryable is False


def test_unreadable_checkpoint_is_a_processing_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("not a checkpoint")
    with pytest.raises(ProcessingError, match="checkpoint"):
        segment(tmp_path / "doc.pdf", bad, NAME_MAP)


def test_schema_encodings_normalise_to_one_form() -> None:
    expected = [SegmentSpec(name, text) for name, text in NAME_MAP.items()]
    assert parse_segmentation_schema(NAME_MAP) == expected
    assert parse_segmentation_schema(SEGMENTS) == expected
    assert parse_segmentation_schema(json.dumps(SECTIONS)) == expected
    assert parse_segmentation_schema({"sections": ["A", {"title": "B"}]}) == [
        SegmentSpec("A"),
        SegmentSpec("B"),
    ]


def test_processor_is_light_and_pickles() -> None:
    processor = SegmentProcessor()
    assert processor.cpu_heavy is False
    assert pickle.loads(pickle.dumps(processor)).step_type == "segment"  # noqa: S301 - our own bytes


def test_light_stemming() -> None:
    assert stem("invoices") == stem("invoice")
    assert stem("applicants") == stem("applicant")
    assert tokens("The Resume of the applicant") == [stem("resume"), stem("applicant")]
