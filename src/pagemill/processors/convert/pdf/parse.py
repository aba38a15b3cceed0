"""PDF → ``Document``: text layer, reading order, ruled tables, OCR of scanned pages, pictures.

pypdfium2 opens the file (page count, encryption), scans each page's objects once (ruling
lines, image coverage, pictures) and renders pages for OCR; pdftext gives lines and spans with
boxes and fonts. On top of that (``pdf_layout``, ``pdf_columns``, ``pdf_blocks``):

* lines are regrouped into columns and paragraphs from their geometry, so pages whose content
  stream is row-major across columns still read the left column, then the right;
* running headers and footers (text repeated in the top or bottom band of ≥ 2 pages, page
  numbers masked) are dropped, or kept as ``page_header``/``page_footer`` blocks with
  ``include_headers_footers``;
* ruled tables (pdfplumber, only on pages with ruling lines) replace the text inside them with
  one ``table`` block; with ``include_images``, embedded images of at least 32 px become
  ``picture`` blocks whose PNG is in ``Document.images`` as ``page_{p}_picture_{i}.png``;
* pages with (almost) no text layer that show an image are rendered and OCRed with Tesseract
  (``ocr``); their indexes are listed in ``metadata["ocr_pages"]``;
* headings come from font statistics, list items from bullets and numbers, hyphens at line
  breaks are removed.

``mode``:

* ``fast`` (default): tables on; OCR only on pages without a text layer, rendered at 300 dpi.
* ``balanced``: as fast, and pages whose text layer is mostly unmapped glyphs (U+FFFD,
  private-use or control characters: fonts without a usable ToUnicode map) are OCRed instead.
* ``accurate``: as balanced, and a page without a text layer is OCRed when it draws anything at
  all (vector paths too: text converted to outlines), rendered at 400 dpi.

Every failure inside ``parse`` is a ``ProcessingError`` (not retryable): a document that cannot
be read now will not be readable on the next attempt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.layout.blocks import (
    body_style,
    build_blocks,
    join_lines,
    round_size,
)
from pagemill.processors.convert.layout.columns import reading_order
from pagemill.processors.convert.layout.furniture import find_furniture, running_text, set_apart
from pagemill.processors.convert.layout.lines import Atom, Group, Line, PageLayout, split_at_gaps
from pagemill.processors.convert.ocr import tesseract as ocr
from pagemill.processors.convert.pdf.objects import PageObjects, scan_page
from pagemill.processors.convert.pdf.tables import Table, find_tables
from pagemill.processors.document import Document
from pagemill.processors.page_images import open_pdf_document

__all__ = ["join_lines", "parse", "parse_pdf", "pdf_page_count"]

FORCE_BOLD_FLAG = 1 << 18  # PDF font descriptor flag bit 19
BOLD_NAMES = ("bold", "black", "heavy", "semibold", "demi")
MIN_TEXT_CHARS = 16  # fewer visible characters than this: the page has (almost) no text layer
MIN_SCAN_COVERAGE = 0.10  # images must cover this share of such a page for it to be OCRed
POOR_TEXT_SHARE = 0.3  # this share of unmapped glyphs makes a text layer unusable
# Glyphs without a Unicode mapping come out as U+FFFD, private-use or control characters.
UNMAPPED = re.compile("[\ufffd\ue000-\uf8ff\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_RENDER_PIXELS = 50_000_000  # as for image inputs: the cap on one page's OCR render
DPI = {"fast": 300, "balanced": 300, "accurate": 400}


@dataclass(slots=True)
class _PageText:
    page: int
    width: float
    height: float
    lines: list[Line]
    chars: int
    bad_chars: int


def parse(request: ParseRequest) -> Document:
    """The PDF parser of ``formats.PARSERS``."""
    try:
        return parse_pdf(
            request.path,
            page_range=request.page_range,
            max_pages=request.max_pages,
            mode=request.mode,
            include_headers_footers=request.include_headers_footers,
            include_images=request.include_images,
            report=request.report,
        )
    except ProcessingError:
        raise
    except InvalidInput as error:  # a range this document is too short for
        raise ProcessingError(error.detail) from error
    except Exception as error:  # a damaged file must fail its step, never the worker
        raise ProcessingError(
            f"The PDF could not be converted ({type(error).__name__}: {error})."
        ) from error


def parse_pdf(
    path: Path,
    *,
    page_range: str | None = None,
    max_pages: int | None = None,
    mode: str = "fast",
    include_headers_footers: bool = False,
    include_images: bool = False,
    report: Callable[..., None] | None = None,
) -> Document:
    """Parse the selected pages of the PDF at ``path``; ``report`` hears of pages done.

    Raises ``ProcessingError`` for encrypted, corrupt, truncated or empty files and ``InvalidInput``
    (from ``select_pages``) when the range selects no page of this document.
    """
    pdf = _open(path)
    try:
        page_count = len(pdf)
        if page_count == 0:
            raise ProcessingError("The PDF has no pages.")
        pages = select_pages(page_count, page_range, max_pages)
        texts = _read_text(path, pages, report)
        objects = {text.page: _scan(pdf, text.page, want_pictures=False) for text in texts}
        ocr_pages = [text.page for text in texts if _needs_ocr(text, objects[text.page], mode)]
        if include_images:  # a scanned page's own image is not a picture on it
            for text in texts:
                if text.page not in ocr_pages and objects[text.page].image_coverage > 0:
                    objects[text.page] = _scan(pdf, text.page, want_pictures=True)
        ocr_lines = _ocr(pdf, ocr_pages, DPI.get(mode, DPI["fast"]), report) if ocr_pages else {}
        ocr.harmonise_sizes(ocr_lines.values())
    finally:
        pdf.close()
    tables = find_tables(
        path, [t.page for t in texts if objects[t.page].rulings and t.page not in ocr_lines]
    )

    furniture = find_furniture(
        [
            (t.page, t.height, [ln for para in ocr_lines[t.page] for ln in para])
            if t.page in ocr_lines
            else (t.page, t.height, t.lines)
            for t in texts
        ]
    )
    layouts: list[PageLayout] = []
    images: dict[str, str] = {}
    for text in texts:
        if text.page in ocr_lines:
            layouts.append(ocr.ocr_layout(text.page, text.height, ocr_lines[text.page], furniture))
            continue
        layout = PageLayout(page=text.page)
        body = set_apart(layout, text.height, text.lines, furniture)
        page_tables = tables.get(text.page, [])
        atoms = _atoms(text.page, page_tables, objects[text.page], images)
        layout.groups = reading_order(_outside(body, page_tables), atoms)
        layouts.append(layout)

    blocks = build_blocks(layouts, keep_furniture=include_headers_footers)
    style = body_style(layouts)
    metadata: dict[str, Any] = {
        "parser": "pdftext",
        "page_sizes": {str(t.page): [t.width, t.height] for t in texts},
        "body_font_size": style.size if style is not None else None,
        "pages_without_text": [lay.page for lay in layouts if not _has_text(lay.groups)],
        "ocr_pages": sorted(ocr_lines),
        "running_text": running_text(layouts),
        "mode": mode if mode in DPI else "fast",
    }
    return Document(
        page_count=page_count, pages=pages, blocks=blocks, metadata=metadata, images=images
    )


def pdf_page_count(path: Path) -> int:
    """Open the file with pdfium, turning its failures into ``ProcessingError``."""
    pdf = _open(path)
    try:
        return len(pdf)
    finally:
        pdf.close()


def _open(path: Path) -> Any:
    return open_pdf_document(path)


# Pages read per pdftext call: small enough for steady progress on long documents, large
# enough that opening the file each call costs little.
_TEXT_BATCH = 32


def _read_text(
    path: Path, pages: Sequence[int], report: Callable[..., None] | None
) -> list[_PageText]:
    texts: list[_PageText] = []
    for start in range(0, len(pages), _TEXT_BATCH):
        batch = pages[start : start + _TEXT_BATCH]
        texts.extend(_page_text(page) for page in _extract_pages(path, batch))
        if report is not None:
            report(stage="text", pages_done=len(texts), pages_total=len(pages))
    return texts


def _extract_pages(path: Path, pages: Sequence[int]) -> list[dict[str, Any]]:
    # Imported here: pdftext pulls in numpy and pydantic, which only the worker process needs.
    from pdftext.extraction import dictionary_output

    try:
        extracted: list[dict[str, Any]] = dictionary_output(
            str(path), sort=False, page_range=list(pages), disable_links=True, keep_chars=False
        )
    except Exception as error:  # pdfium and pdftext raise many types on damaged page content
        raise ProcessingError(
            f"The PDF's text could not be read; the file may be damaged "
            f"({type(error).__name__}: {error})."
        ) from error
    return extracted


def _page_text(page: dict[str, Any]) -> _PageText:
    lines: list[Line] = []
    chars = bad = 0
    for block in page["blocks"]:
        for raw_line in block["lines"]:
            pieces = _pieces(raw_line["spans"])
            for piece in pieces:
                chars += piece.chars
                bad += len(UNMAPPED.findall(piece.text))
            lines.extend(split_at_gaps(pieces))
    return _PageText(
        page=int(page["page"]),
        width=float(page["width"]),
        height=float(page["height"]),
        lines=[line for line in lines if line.text],
        chars=chars,
        bad_chars=bad,
    )


def _pieces(spans: list[dict[str, Any]]) -> list[Line]:
    """The visible spans of a line; whitespace-only spans only add their space to the text."""
    pieces: list[Line] = []
    for span in spans:
        text = span["text"]
        # pdftext ends lines with a "\n" span in a nameless size-1 font: it must not vote.
        visible = len("".join(text.split()))
        if not visible:
            if pieces:
                pieces[-1].text += " "
            continue
        font = span["font"]
        x0, y0, x1, y1 = (float(v) for v in span["bbox"])
        pieces.append(
            Line(
                text=text,
                bbox=(x0, y0, x1, y1),
                size=round_size(float(font.get("size") or 0.0)),
                bold=_is_bold(font),
                chars=visible,
            )
        )
    return pieces


def _is_bold(font: dict[str, Any]) -> bool:
    name = (font.get("name") or "").lower()
    return (
        (font.get("weight") or 0) >= 600
        or bool((font.get("flags") or 0) & FORCE_BOLD_FLAG)
        or any(word in name for word in BOLD_NAMES)
    )


def _scan(pdf: Any, page_number: int, *, want_pictures: bool) -> PageObjects:
    page = pdf[page_number]
    try:
        return scan_page(page, want_pictures=want_pictures)
    finally:
        page.close()


def _needs_ocr(text: _PageText, objects: PageObjects, mode: str) -> bool:
    if text.chars < MIN_TEXT_CHARS:
        if mode == "accurate":
            return objects.image_coverage > 0 or objects.paths > 0
        return objects.image_coverage >= MIN_SCAN_COVERAGE
    return mode in ("balanced", "accurate") and text.bad_chars >= POOR_TEXT_SHARE * text.chars


def _ocr(
    pdf: Any, pages: list[int], dpi: int, report: Callable[..., None] | None = None
) -> dict[int, list[list[Line]]]:
    ocr.check_available()
    result: dict[int, list[list[Line]]] = {}
    for done, page_number in enumerate(pages):
        if report is not None:
            report(stage="ocr", pages_done=done, pages_total=len(pages))
        page = pdf[page_number]
        try:
            width, height = page.get_size()
            # A poster-sized page at 300 dpi would be gigapixels: lower the dpi to fit the cap.
            fit = math.sqrt(MAX_RENDER_PIXELS / max(1.0, width * height)) * 72
            page_dpi = min(float(dpi), fit)
            image = page.render(scale=page_dpi / 72, grayscale=True).to_pil()
        finally:
            page.close()
        result[page_number] = ocr.recognize(image, dpi=page_dpi)
    return result


def _outside(lines: list[Line], tables: list[Table]) -> list[Line]:
    """The lines not inside a table: the table block stands for them."""

    def inside(line: Line, table: Table) -> bool:
        x0, y0, x1, y1 = table.bbox
        return x0 - 1 <= line.center_x <= x1 + 1 and y0 - 1 <= line.center_y <= y1 + 1

    return [line for line in lines if not any(inside(line, table) for table in tables)]


def _atoms(
    page: int, tables: list[Table], objects: PageObjects, images: dict[str, str]
) -> list[Atom]:
    atoms = [Atom(bbox=table.bbox, type="table", rows=table.rows) for table in tables]
    for index, picture in enumerate(objects.pictures):
        name = f"page_{page}_picture_{index}.png"
        images[name] = picture.png_base64
        atoms.append(Atom(bbox=picture.bbox, type="picture", image=name))
    return atoms


def _has_text(groups: list[Group]) -> bool:
    return any(not isinstance(group, Atom) or group.type == "table" for group in groups)
