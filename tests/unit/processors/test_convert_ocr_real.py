"""OCR on real scans: pages turned 90/180/270°, blank pages, tables read from the word boxes.

The documents are in ``tests/fixtures/real`` (sources and licences in ``SOURCES.md`` there);
the references were written by hand from the page images.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageFilter

from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.ocr import tesseract as ocr
from pagemill.processors.convert.ocr.images import parse as parse_image
from pagemill.processors.convert.pdf.parse import parse as parse_pdf
from pagemill.processors.convert.render import RenderOptions, render_markdown
from pagemill.processors.document import Document

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "real"
CARDINAL = REAL / "ocr-linn-cardinal.pdf"  # one brochure page, upright and turned 90/180/270°
LINN = (REAL / "ocr-linn-cardinal.md").read_text(encoding="utf-8")
MIN_SIMILARITY = 0.95  # word-sequence similarity to the hand-written reference
WORD = re.compile(r"\w+")


def similarity(reference: str, text: str) -> float:
    matcher = difflib.SequenceMatcher(
        None, WORD.findall(reference.lower()), WORD.findall(text.lower()), autojunk=False
    )
    return matcher.ratio()


def markdown(document: Document) -> str:
    return render_markdown(document, RenderOptions())


def request(path: Path, **options: object) -> ParseRequest:
    return ParseRequest(path=path, filename=path.name, **options)  # type: ignore[arg-type]


def render(path: Path, page: int, dpi: int) -> Image.Image:
    pdf = pdfium.PdfDocument(str(path))
    try:
        image: Image.Image = pdf[page].render(scale=dpi / 72, grayscale=True).to_pil()
        return image.convert("L")
    finally:
        pdf.close()


def scanned(path: Path, page: int, target: Path, *, dpi: int = 300) -> Path:
    """The page printed and scanned: rendered, skewed half a degree, blurred a little."""
    image = render(path, page, dpi).rotate(0.5, resample=Image.Resampling.BICUBIC, fillcolor=255)
    image.filter(ImageFilter.GaussianBlur(0.6)).save(target, dpi=(dpi, dpi))
    return target


def test_orientation_data_ships_with_the_python_packages() -> None:
    assert ocr.orientation_available()


def test_a_pdf_page_scanned_upside_down_is_read_upright() -> None:
    document = parse_pdf(request(CARDINAL, page_range="2"))
    assert document.metadata["ocr_pages"] == [2]
    assert similarity(LINN, markdown(document)) >= MIN_SIMILARITY


def test_frames_turned_every_way_are_read_upright(tmp_path: Path) -> None:
    # Frames 1-3 of the scan are turned 90, 180 and 270 degrees; 150 dpi keeps the test quick.
    frames = [render(CARDINAL, page, 150) for page in (1, 2, 3)]
    path = tmp_path / "turned.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(150, 150))
    document = parse_image(request(path))
    for page in (0, 1, 2):
        text = " ".join(block.text for block in document.blocks_on(page))
        assert similarity(LINN, text) >= MIN_SIMILARITY, page
    assert set(document.metadata["rotated_pages"]) == {"0", "1", "2"}
    # Read upright, the landscape frames are portrait pages.
    width, height = document.metadata["page_sizes"]["0"]
    assert height > width


def test_a_blank_scan_is_an_empty_page_not_a_failure(tmp_path: Path) -> None:
    paper = Image.effect_noise((1275, 1650), 6).point(lambda value: 245 + value // 40)
    path = tmp_path / "blank.png"
    paper.convert("L").save(path, dpi=(150, 150))
    document = parse_image(request(path))
    assert document.pages == [0]
    assert document.blocks == []
    assert document.metadata["pages_without_text"] == [0]
    assert ocr.read_text_lines(paper.convert("L"), dpi=150) == []  # the ocr step's reader too


def test_a_ruled_table_on_a_scanned_page_is_a_table(tmp_path: Path) -> None:
    document = parse_image(request(scanned(REAL / "table-us-005.pdf", 0, tmp_path / "scan.png")))
    tables = [block for block in document.blocks if block.type == "table"]
    assert len(tables) == 1
    assert tables[0].rows == (
        ("Income level of individual or geography", "% of the area median income"),
        ("Low-income", "Less than 50"),
        ("Moderate-income", "At least 50 and less than 80"),
        ("Middle-income", "At least 80 and less than 120"),
        ("Upper-income", "120 or more"),
    )
    # The paragraphs around it stay paragraphs, and the bulleted list is not a table.
    text = markdown(document)
    assert "Home Mortgage Disclosure Act" in text
    assert "Assisting in fund raising" in text


def test_an_unruled_table_on_a_scanned_page_keeps_its_rows(tmp_path: Path) -> None:
    path = scanned(REAL / "table-census-12s0324.pdf", 0, tmp_path / "scan.png")
    document = parse_image(request(path))
    rows = [row for block in document.blocks if block.type == "table" for row in block.rows or ()]
    by_label = {row[0]: row for row in rows if row and row[0]}
    # Labels wrapped over two lines are one cell; dot leaders are gone.
    murder = by_label["Murder and nonnegligent manslaughter"]
    assert [cell for cell in murder[1:] if cell][:3] == ["10.0", "0.9", "9.1"]
    burglary = by_label["Burglary"]
    assert [cell for cell in burglary[1:] if cell][:3] == ["240.9", "60.3", "180.6"]
    # Table 325: one row per offence, the five numbers in their own cells.
    robbery = [list(row[-5:]) for row in rows if row[0].startswith("Robbery")]
    assert ["100,496", "43,039", "55,742", "726", "989"] in robbery


def test_text_in_two_columns_is_not_a_table() -> None:
    document = parse_pdf(request(CARDINAL, page_range="0"))
    assert [block for block in document.blocks if block.type == "table"] == []
    assert similarity(LINN, markdown(document)) >= MIN_SIMILARITY


def test_old_print_upside_down_is_read_upright_when_osd_is_unsure() -> None:
    # An 1871 Senate document fed upside down: OSD is not sure of this print (it says 0°, with
    # low confidence), so the page is tried upside down and that reading wins.
    corpus = Path(__file__).resolve().parents[3] / "bench" / "quality" / "real"
    document = parse_pdf(request(corpus / "docs" / "congress-1871-rot180.pdf"))
    reference = (corpus / "ref" / "congress-1871-rot180.md").read_text(encoding="utf-8")
    assert similarity(reference, markdown(document)) >= 0.90
