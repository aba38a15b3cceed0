"""The ocr processor (what OCRResult reads) and page thumbnails."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from docgen.officegen import make_docx
from docgen.pdfgen import make_large_pdf, make_pdf, page_image
from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import ProcessorInput, ProcessorOutput
from pagemill.processors.ocr import OcrProcessor
from pagemill.processors.thumbnails import MAX_THUMBNAILS, check_thumb_width, thumbnails

PAGES = [
    [("h1", "Invoice 2024-17"), ("p", "Amount due: 120 EUR.")],
    [("p", "Second page text.")],
]


def ocr(path: Path, **settings: Any) -> ProcessorOutput:
    return OcrProcessor().run(ProcessorInput(document=path, filename=path.name, settings=settings))


def test_pdf_pages_give_text_lines_with_boxes_polygons_and_confidences(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "doc.pdf", PAGES)

    result = ocr(pdf).result

    assert result["success"] is True and result["page_count"] == 2
    first = result["pages"][0]
    assert first["page"] == 1 and first["languages"] == ["en"]
    assert first["image_bbox"] == [0.0, 0.0, 612.0, 792.0]  # letter, in points
    texts = [line["text"] for line in first["text_lines"]]
    assert texts == ["Invoice 2024-17", "Amount due: 120 EUR."]
    line = first["text_lines"][0]
    assert 0.5 < line["confidence"] <= 1.0
    x0, y0, x1, y1 = line["bbox"]
    assert 60 < x0 < x1 < 612 and 40 < y0 < y1 < 200
    assert line["polygon"] == [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    assert [w["text"] for w in line["words"]] == ["Invoice", "2024-17"]
    # What the SDK's OCRResult.get_text joins.
    assert "\n".join(line["text"] for line in result["pages"][1]["text_lines"]) == (
        "Second page text."
    )


def test_page_range_selects_pages(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "doc.pdf", PAGES)

    result = ocr(pdf, page_range="1").result

    assert [page["page"] for page in result["pages"]] == [2]
    assert result["metadata"]["total_pages"] == 2
    with pytest.raises(ProcessingError):
        ocr(pdf, page_range="5")


def test_images_are_read_in_their_own_pixels(tmp_path: Path) -> None:
    image = page_image(PAGES[0], dpi=150)
    path = tmp_path / "scan.png"
    image.save(path, dpi=(150, 150))

    page = ocr(path).result["pages"][0]

    assert page["image_bbox"] == [0.0, 0.0, float(image.width), float(image.height)]
    assert page["text_lines"][0]["text"] == "Invoice 2024-17"
    assert page["text_lines"][0]["bbox"][2] > 300  # pixels, not points


def test_other_documents_are_refused(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "a.docx", [[("p", "Hello")]])
    with pytest.raises(ProcessingError, match="PDFs and images"):
        ocr(docx)
    with pytest.raises(InvalidInput, match="'mode'"):
        OcrProcessor().check_settings({"mode": "fast"})


def _jpeg(encoded: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert image.format == "JPEG"
    return image


def test_pdf_thumbnails_are_jpegs_of_the_requested_width(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "doc.pdf", PAGES)

    found = thumbnails(pdf, thumb_width=200)
    one = thumbnails(pdf, page_range="1", thumb_width="120")

    assert len(found) == 2 and len(one) == 1
    first = _jpeg(found[0])
    assert first.width == 200 and first.height == round(792 * 200 / 612)
    assert _jpeg(one[0]).width == 120


def test_image_thumbnails_keep_colour(tmp_path: Path) -> None:
    path = tmp_path / "red.png"
    Image.new("RGB", (600, 300), (220, 20, 20)).save(path)

    (thumb,) = thumbnails(path)

    image = _jpeg(thumb)
    assert image.size == (300, 150)
    red, green, _ = image.convert("RGB").getpixel((150, 75))  # type: ignore[misc]
    assert red > 180 and green < 60


def test_office_documents_need_their_converted_pdf(tmp_path: Path) -> None:
    docx = make_docx(tmp_path / "a.docx", [[("p", "Hello")]])
    pdf = make_pdf(tmp_path / "a.pdf", PAGES[:1])

    with pytest.raises(ProcessingError, match="converted PDF"):
        thumbnails(docx)
    assert len(thumbnails(docx, converted_pdf=pdf)) == 1


def test_limits(tmp_path: Path) -> None:
    pdf = make_large_pdf(tmp_path / "long.pdf", MAX_THUMBNAILS + 1)
    with pytest.raises(InvalidInput, match=f"at most {MAX_THUMBNAILS} thumbnails"):
        thumbnails(pdf)
    assert len(thumbnails(pdf, page_range="0-2", thumb_width=16)) == 3
    for bad in (0, 5000, "wide", True, 2.5):
        with pytest.raises(InvalidInput, match="thumb_width"):
            check_thumb_width(bad)
