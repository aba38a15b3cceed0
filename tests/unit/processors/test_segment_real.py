"""Segmentation of real invoices whose pages say "Seite k von n" (page k of n).

Both are two-page sample e-invoices (``tests/fixtures/real``, sources in ``SOURCES.md``): the
second page starts with a heading of its own ("Positionsdaten", the line items), which alone
would read as a new document; the page marker in the running footer keeps the invoice whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.segment import SegmentProcessor

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"
INVOICES = [REAL / "invoice-zugferd-einfach.pdf", REAL / "invoice-zugferd-physiotherapeut.pdf"]
SCHEMA = {"Invoice": "An invoice (Rechnung) with its line items", "Letter": "A cover letter"}


def segments(pdf: Path, tmp_path: Path, schema: dict[str, str] | None = None) -> list[Any]:
    converted = ConvertProcessor().run(ProcessorInput(document=pdf, filename=pdf.name, settings={}))
    assert converted.checkpoint is not None
    checkpoint = tmp_path / f"{pdf.stem}.checkpoint.json"
    checkpoint.write_bytes(converted.checkpoint)
    output = SegmentProcessor().run(
        ProcessorInput(
            document=pdf,
            filename=pdf.name,
            settings={"segmentation_schema": schema} if schema else {},
            checkpoint=checkpoint,
        )
    )
    found: list[Any] = output.result["segmentation_results"]["segments"]
    return found


def joined(tmp_path: Path) -> Path:
    merged = pdfium.PdfDocument.new()
    for path in INVOICES:
        merged.import_pages(pdfium.PdfDocument(str(path)))
    target = tmp_path / "two-invoices.pdf"
    merged.save(str(target))
    return target


def test_a_two_page_invoice_is_one_segment(tmp_path: Path) -> None:
    found = segments(INVOICES[0], tmp_path)
    assert [segment["pages"] for segment in found] == [[0, 1]]
    assert found[0]["name"].startswith("Handelsrechnung")
    named = segments(INVOICES[0], tmp_path, SCHEMA)
    assert [(segment["name"], segment["pages"]) for segment in named] == [("Invoice", [0, 1])]


def test_two_invoices_in_a_row_are_two_segments_of_two_pages(tmp_path: Path) -> None:
    path = joined(tmp_path)
    assert [segment["pages"] for segment in segments(path, tmp_path)] == [[0, 1], [2, 3]]
    named = segments(path, tmp_path, SCHEMA)
    assert [(segment["name"], segment["pages"]) for segment in named] == [
        ("Invoice", [0, 1]),
        ("Invoice", [2, 3]),
    ]
