"""Office documents from the real corpus (``bench/quality/real``, licences in its manifest)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import pytest

from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office import docx, pptx
from pagemill.processors.document import Document

DOCS = Path(__file__).resolve().parents[3] / "bench" / "quality" / "real" / "docs"


def tables(document: Document) -> list[tuple[tuple[str, ...], ...]]:
    return [block.rows or () for block in document.blocks if block.type == "table"]


def parse(parser: ModuleType, path: Path) -> Document:
    document: Document = parser.parse(ParseRequest(path=path, filename=path.name))
    return document


def test_an_xlsx_upload_stored_without_extension_converts(tmp_path: Path) -> None:
    # The server stores uploads under random names without an extension.
    stored = tmp_path / "upload"
    shutil.copyfile(DOCS / "xlsx-chart-column.xlsx", stored)
    output = ConvertProcessor().run(
        ProcessorInput(document=stored, filename="results.xlsx", settings={})
    )
    markdown = output.result["markdown"]
    assert markdown.startswith("# Sheet1")
    assert "| Number | Batch 1 | Batch 2 |" in markdown
    assert "| 7 | 50 | 30 |" in markdown


def test_a_pptx_chart_keeps_its_data_as_a_table() -> None:
    document = parse(pptx, DOCS / "pptx-charts.pptx")
    assert tables(document) == [
        (
            ("", "Series 1", "Series 2", "Series 3"),
            ("Category 1", "4.3", "2.4", "2"),
            ("Category 2", "2.5", "4.4", "2"),
            ("Category 3", "3.5", "1.8", "3"),
            ("Category 4", "4.5", "2.8", "5"),
        )
    ]


def test_a_shape_python_pptx_cannot_name_does_not_fail_the_deck(tmp_path: Path) -> None:
    from pptx import Presentation

    deck = Presentation(str(DOCS / "pptx-text-runs.pptx"))
    odd = next(
        shape
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame and shape.text_frame.text.strip()
    )
    # A shape without geometry: python-pptx cannot tell what it is.
    for geometry in odd._element.spPr.findall(
        "{http://schemas.openxmlformats.org/drawingml/2006/main}prstGeom"
    ):
        odd._element.spPr.remove(geometry)
    if odd._element.nvSpPr.cNvSpPr.get("txBox"):
        del odd._element.nvSpPr.cNvSpPr.attrib["txBox"]
    path = tmp_path / "odd-shape.pptx"
    deck.save(str(path))
    reread = Presentation(str(path))
    with pytest.raises(NotImplementedError):
        _ = next(s for s in reread.slides[0].shapes if s.shape_id == odd.shape_id).shape_type

    document = parse(pptx, path)
    text = " ".join(block.text for block in document.blocks)
    assert "Foo Bar Baz Zoo" in text
    assert "Text run in table cell" in text


def test_a_table_nested_in_a_docx_cell_keeps_its_rows() -> None:
    document = parse(docx, DOCS / "docx-nested-table.docx")
    assert tables(document) == [(("Text before",), ("Table",), ("Between",), ("Text after",))]


def test_docx_merged_cells_hold_their_text_once() -> None:
    found = tables(parse(docx, DOCS / "docx-merged-cells.docx"))
    assert found[1] == (("1", "2", "3"), ("4", "", "6"), ("7", "8", "9"))
    assert found[3] == (("1", "2", "3"), ("4", "", "6"), ("", "", "9"))
