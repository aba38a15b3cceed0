"""PDF → ``Document``: text layer, reading order, tables, OCR of scanned pages, pictures.

pypdfium2 opens the file (page count, encryption) and visits each page once: its objects
(rules, drawings, image coverage, pictures: ``pdf.objects``) and its text layer as styled lines
(``pdf.textlayer``); pages are rendered for OCR. On top of that (``layout.*``):

* lines are regrouped into columns and paragraphs from their geometry, so pages whose content
  stream is row-major across columns still read the left column, then the right; a spread (two
  pages side by side) is read left page first;
* running headers and footers (see ``layout.furniture``: only page numbers, small or identical
  repeated lines, or lines an OCR layer misreads from page to page, alone on their row or
  beside their folio) are dropped, or kept as ``page_header``/``page_footer`` blocks with
  ``include_headers_footers``;
* tables (``pdf.tables``: ruled, horizontal rules only, or whitespace-aligned) replace the lines
  they are made of with one ``table`` block; with ``include_images``, embedded images of at
  least 32 px become ``picture`` blocks whose PNG is in ``Document.images`` as
  ``page_{p}_picture_{i}.png``;
* the labels inside a figure (small type among drawings and images: ``layout.figures``) are one
  paragraph at the figure's place, not one paragraph per label;
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
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.layout.blocks import (
    body_style,
    build_blocks,
    join_lines,
)
from pagemill.processors.convert.layout.columns import reading_order
from pagemill.processors.convert.layout.figures import figure_text
from pagemill.processors.convert.layout.furniture import find_furniture, running_text, set_apart
from pagemill.processors.convert.layout.lines import Atom, Group, Line, PageLayout, is_vertical
from pagemill.processors.convert.layout.paragraphs import join_run_on
from pagemill.processors.convert.ocr import tesseract as ocr
from pagemill.processors.convert.pdf.objects import PageObjects, scan_page
from pagemill.processors.convert.pdf.tables import Table, find_tables
from pagemill.processors.convert.pdf.textlayer import PageText, read_page
from pagemill.processors.convert.pdf.widgets import join_form_rows
from pagemill.processors.document import Document
from pagemill.processors.page_images import PDFIUM_LOCK, open_pdf_document

__all__ = ["PageReads", "join_lines", "parse", "parse_pdf", "pdf_page_count", "read_pages"]

MIN_TEXT_CHARS = 16  # fewer visible characters than this: the page has (almost) no text layer
MIN_SCAN_COVERAGE = 0.10  # images must cover this share of such a page for it to be OCRed
POOR_TEXT_SHARE = 0.3  # this share of unmapped glyphs makes a text layer unusable
MAX_RENDER_PIXELS = 50_000_000  # as for image inputs: the cap on one page's OCR render
DPI = {"fast": 300, "balanced": 300, "accurate": 400}


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
            prepared=request.prepared,
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
    prepared: PageReads | None = None,
) -> Document:
    """Parse the selected pages of the PDF at ``path``; ``report`` hears of pages done.

    ``prepared``: the pages already read (``read_pages``, page slices read in parallel and
    merged: ``convert.slices``); only what needs the whole document is done here.

    Raises ``ProcessingError`` for encrypted, corrupt, truncated or empty files and ``InvalidInput``
    (from ``select_pages``) when the range selects no page of this document.
    """
    # pdfium is not thread-safe: an in-process compute pool may convert in several threads.
    with PDFIUM_LOCK:
        pdf = _open(path)
        try:
            page_count = len(pdf)
            if page_count == 0:
                raise ProcessingError("The PDF has no pages.")
            pages = select_pages(page_count, page_range, max_pages)
            if prepared is None:
                prepared = read_pages(pdf, pages, mode, include_images, report)
        finally:
            pdf.close()
    texts, objects, ocr_lines = prepared.texts, prepared.objects, prepared.ocr_lines
    ocr.harmonise_sizes(ocr_lines.values())
    for index, text in enumerate(texts):  # a page scanned sideways is read upright: its size too
        if text.page in ocr_lines:
            read = ocr_lines[text.page]
            texts[index] = replace(text, width=read.width, height=read.height)

    furniture = _find_furniture(texts, ocr_lines)
    layouts: list[PageLayout] = []
    images: dict[str, str] = {}
    text_size = _text_size(text for text in texts if text.page not in ocr_lines)
    for text in texts:
        if text.page in ocr_lines:
            layouts.append(ocr.ocr_layout(text.page, text.height, ocr_lines[text.page], furniture))
            continue
        layout = PageLayout(page=text.page)
        body = set_apart(layout, text.height, text.lines, furniture)
        page_objects = objects[text.page]
        page_tables = find_tables(body, page_objects.rules, page_objects.drawings)
        atoms = _atoms(text.page, page_tables, objects[text.page], images)
        flowing = _outside(body, page_tables)
        figures, flowing = figure_text(
            flowing,
            [*page_objects.drawings, *page_objects.images],
            (text.width, text.height),
            text_size,
        )
        atoms.extend(figures)
        flowing = join_form_rows(flowing, page_objects.rules, page_objects.drawings)
        # Rotated margin text (a repository's stamp up the side of a page) is read after the
        # page: in the flow it would cut every column in two at its top.
        margin = [line for line in flowing if is_vertical(line)]
        flowing = [line for line in flowing if not is_vertical(line)]
        layout.groups = _read_page(flowing, atoms, text.width, text.height)
        layout.groups.extend([line] for line in margin)
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
    turned = {str(page): read.rotation for page, read in ocr_lines.items() if read.rotation}
    if turned:
        metadata["rotated_pages"] = turned
    return Document(
        page_count=page_count, pages=pages, blocks=blocks, metadata=metadata, images=images
    )


@dataclass
class PageReads:
    """What is read from each page on its own: text layer, drawn objects, OCR of scans."""

    texts: list[PageText] = field(default_factory=list)
    objects: dict[int, PageObjects] = field(default_factory=dict)
    ocr_lines: dict[int, ocr.OcrPage] = field(default_factory=dict)

    def extend(self, other: PageReads) -> None:
        """Append the reads of later pages (slices are merged in page order)."""
        self.texts.extend(other.texts)
        self.objects.update(other.objects)
        self.ocr_lines.update(other.ocr_lines)


def read_pages(
    pdf: Any,
    pages: Sequence[int],
    mode: str,
    include_images: bool,
    report: Callable[..., None] | None,
) -> PageReads:
    """The per-page part of ``parse_pdf``: no page's read depends on another page."""
    texts, objects = _read_pages(pdf, pages, report)
    ocr_pages = [text.page for text in texts if _needs_ocr(text, objects[text.page], mode)]
    if include_images:  # a scanned page's own image is not a picture on it
        for text in texts:
            if text.page not in ocr_pages and objects[text.page].image_coverage > 0:
                objects[text.page] = _scan(pdf, text, want_pictures=True)
    ocr_lines = _ocr(pdf, ocr_pages, DPI.get(mode, DPI["fast"]), report) if ocr_pages else {}
    return PageReads(texts=texts, objects=objects, ocr_lines=ocr_lines)


def pdf_page_count(path: Path) -> int:
    """Open the file with pdfium, turning its failures into ``ProcessingError``."""
    with PDFIUM_LOCK:
        pdf = _open(path)
        try:
            return len(pdf)
        finally:
            pdf.close()


def _open(path: Path) -> Any:
    return open_pdf_document(path)


def _read_pages(
    pdf: Any, pages: Sequence[int], report: Callable[..., None] | None
) -> tuple[list[PageText], dict[int, PageObjects]]:
    """Each page's text layer and drawn objects, in one visit of the page."""
    texts: list[PageText] = []
    objects: dict[int, PageObjects] = {}
    for done, page_number in enumerate(pages, start=1):
        page = None
        try:
            page = pdf[page_number]
            scan = scan_page(page, want_pictures=False)
            text = read_page(page, page_number, _walls(scan))
            if text.sideways is not None:  # read turned upright, its rules turned with it
                scan = scan_page(page, want_pictures=False, rotation=text.sideways)
                text = read_page(page, page_number, _walls(scan), rotation=text.sideways)
            objects[page_number] = scan
            texts.append(text)
        except ProcessingError:
            raise
        except Exception as error:  # pdfium raises many types on damaged page content
            raise ProcessingError(
                f"The PDF's text could not be read; the file may be damaged "
                f"({type(error).__name__}: {error})."
            ) from error
        finally:
            if page is not None:
                page.close()
        if report is not None and (done % 8 == 0 or done == len(pages)):
            report(stage="text", pages_done=done, pages_total=len(pages))
    return texts, objects


def _walls(scan: PageObjects) -> list[tuple[float, float, float]]:
    return [(rule.at, rule.start, rule.end) for rule in scan.rules if not rule.horizontal]


def _scan(pdf: Any, text: PageText, *, want_pictures: bool) -> PageObjects:
    page = pdf[text.page]
    try:
        return scan_page(page, want_pictures=want_pictures, rotation=text.rotation)
    finally:
        page.close()


def _needs_ocr(text: PageText, objects: PageObjects, mode: str) -> bool:
    if text.chars < MIN_TEXT_CHARS:
        if mode == "accurate":
            return objects.image_coverage > 0 or objects.paths > 0
        return objects.image_coverage >= MIN_SCAN_COVERAGE
    return mode in ("balanced", "accurate") and text.bad_chars >= POOR_TEXT_SHARE * text.chars


def _ocr(
    pdf: Any, pages: list[int], dpi: int, report: Callable[..., None] | None = None
) -> dict[int, ocr.OcrPage]:
    ocr.check_available()
    result: dict[int, ocr.OcrPage] = {}
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


SPREAD_ASPECT = 1.2  # a page this much wider than tall may be two pages side by side
SPREAD_MIDDLE = 0.08  # the fold: this share of the width around the middle holds no text


def _read_page(lines: list[Line], atoms: list[Atom], width: float, height: float) -> list[Group]:
    """The page in reading order; a spread (two pages scanned or set side by side) is read
    left page first, each page with its own columns, never across the fold."""
    halves = _spread_halves(lines, atoms, width, height)
    if halves is None:
        return reading_order(lines, atoms)
    left, right = (reading_order(half_lines, half_atoms) for half_lines, half_atoms in halves)
    join_run_on(left, right)  # a sentence the fold cuts goes on on the right-hand page
    return [*left, *right]


def _spread_halves(
    lines: list[Line], atoms: list[Atom], width: float, height: float
) -> tuple[tuple[list[Line], list[Atom]], tuple[list[Line], list[Atom]]] | None:
    if width < SPREAD_ASPECT * height or not lines:
        return None
    middle = width / 2
    fold = (middle - SPREAD_MIDDLE * width / 2, middle + SPREAD_MIDDLE * width / 2)
    items: list[Line | Atom] = [*lines, *atoms]
    if any(item.bbox[0] < fold[1] and item.bbox[2] > fold[0] for item in items):
        return None  # text crosses the middle: one page, not two
    left = [line for line in lines if line.center_x < middle]
    right = [line for line in lines if line.center_x >= middle]
    if not left or not right:
        return None
    return (
        (left, [atom for atom in atoms if (atom.bbox[0] + atom.bbox[2]) / 2 < middle]),
        (right, [atom for atom in atoms if (atom.bbox[0] + atom.bbox[2]) / 2 >= middle]),
    )


def _find_furniture(
    texts: Sequence[PageText], ocr_lines: dict[int, ocr.OcrPage]
) -> set[tuple[int, int]]:
    """Running headers and footers; each half of a spread is a page of its own here, so a
    one-sheet spread's running heads repeat across its two pages."""
    pages: list[tuple[int, float, Sequence[Line]]] = []
    halves: dict[int, tuple[int, list[int]]] = {}  # a half's own number -> (page, line indexes)
    for t in texts:
        if t.page in ocr_lines:
            pages.append((t.page, t.height, [ln for para in ocr_lines[t.page] for ln in para]))
            continue
        split = _spread_halves(t.lines, [], t.width, t.height)
        if split is None:
            pages.append((t.page, t.height, t.lines))
            continue
        index = {id(line): number for number, line in enumerate(t.lines)}
        for side, (half, _) in enumerate(split):
            key = -(2 * t.page + side + 1)  # page numbers are never negative
            halves[key] = (t.page, [index[id(line)] for line in half])
            pages.append((key, t.height, half))
    found = find_furniture(pages)
    return {
        (halves[page][0], halves[page][1][line]) if page in halves else (page, line)
        for page, line in found
    }


def _outside(lines: list[Line], tables: list[Table]) -> list[Line]:
    """The lines not in a table: the table block stands for them."""
    members = {member for table in tables for member in table.members}
    return [line for line in lines if id(line) not in members]


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
    return any(not isinstance(group, Atom) or group.type != "picture" for group in groups)


def _text_size(texts: Iterable[PageText]) -> float | None:
    """The document's most common font size (by characters) in its text layers."""
    weights: Counter[float] = Counter()
    for text in texts:
        for line in text.lines:
            weights[line.size] += line.chars
    return weights.most_common(1)[0][0] if weights else None
