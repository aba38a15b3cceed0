"""Pages whose text layer runs sideways or upside down: a landscape table or a whole page set
turned on its sheet, with no ``/Rotate`` to say so. Read turned upright, they must give what
the same page gives upright.

Each case turns a real corpus page (bench/quality/real) with pypdf at test time: its content
rotated by 90, 180 or 270 degrees onto a sheet of the turned size. Before pages were read
turned, pdfium's order for such text broke words apart ("E ach limitati on") and the reading
order ran across columns.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from pypdf import PdfWriter, Transformation
from pypdf.generic import RectangleObject

from pagemill.processors.convert.pdf.parse import parse_pdf
from pagemill.processors.document import Document
from tests.unit.processors.real_documents import real, real_path


def turned(name: str, angle: int, folder: Path) -> Path:
    writer = PdfWriter(clone_from=real_path(name))
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        page.add_transformation(
            Transformation().translate(-float(page.mediabox.left), -float(page.mediabox.bottom))
        )
        move = {90: (height, 0.0), 180: (width, height), 270: (0.0, width)}[angle]
        page.add_transformation(Transformation().rotate(angle).translate(*move))
        sheet = RectangleObject(
            [0, 0, height, width] if angle in (90, 270) else [0, 0, width, height]
        )
        page.mediabox = sheet
        page.cropbox = sheet
    path = folder / f"{angle}-{name}"
    writer.write(path)
    return path


def words(document: Document) -> list[str]:
    return " ".join(block.text for block in document.blocks).split()


@pytest.mark.parametrize("angle", [90, 180, 270])
@pytest.mark.parametrize("name", ["dmca-title-ii.pdf", "arxiv-llama-p1.pdf"])
def test_a_turned_page_reads_as_the_upright_page(name: str, angle: int, tmp_path: Path) -> None:
    upright = real(name)
    document = parse_pdf(turned(name, angle, tmp_path))
    similarity = difflib.SequenceMatcher(None, words(upright), words(document)).ratio()
    assert similarity >= 0.99, " ".join(words(document))[:400]
    headings = [block.text for block in document.blocks if block.type == "heading"]
    assert headings == [block.text for block in upright.blocks if block.type == "heading"]


@pytest.mark.parametrize("angle", [90, 270])
def test_a_sideways_ruled_table_keeps_its_cells(angle: int, tmp_path: Path) -> None:
    upright = real("mtcars-ruled.pdf")
    document = parse_pdf(turned("mtcars-ruled.pdf", angle, tmp_path))
    rows = [block.rows for block in document.blocks if block.type == "table"]
    assert rows and rows == [block.rows for block in upright.blocks if block.type == "table"]
