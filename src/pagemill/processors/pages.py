"""Counting a document's pages at submit time, for admission control — fast, header-deep.

What counts as a page, by the format the bytes show (``convert.formats.detect_format``):

- PDF: its pages (pdfium reads the page tree only, nothing is rendered);
- TIFF: its frames; every other image: 1;
- PPTX: its slides; XLSX: its worksheets (the units ``page_range`` selects for them);
- everything else (DOCX, HTML, EPUB, text, unknown): 1 — their page count is only known once
  they are laid out, which is the convert step's work.

``page_range`` (or else ``max_pages``) narrows the count as the convert step would. A file that
cannot be read here counts as 1: the convert step then reports what is wrong with it.
"""

from __future__ import annotations

import re
import threading
import warnings
import zipfile
from pathlib import Path

from pagemill.domain.page_ranges import parse_page_range
from pagemill.processors.convert.formats import detect_format

_PDFIUM = threading.Lock()  # pdfium is not thread-safe
_SLIDE = re.compile(r"ppt/slides/slide\d+\.xml")
_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml")


def count_pages(path: Path, page_range: str | None = None, max_pages: int | None = None) -> int:
    """The pages of the document at ``path`` that a run would process (at least 1)."""
    total = natural_units(path)
    if page_range and page_range.strip():
        selected = sum(1 for page in parse_page_range(page_range) if page < total)
        return max(selected, 1)
    if max_pages is not None and max_pages >= 1:
        total = min(total, max_pages)
    return max(total, 1)


def natural_units(path: Path) -> int:
    """Pages, frames, slides or sheets of the document; 1 when it has no such unit."""
    try:
        kind = detect_format(path)
        if kind == "pdf":
            return _pdf_pages(path)
        if kind == "image":
            return _image_frames(path)
        if kind in ("pptx", "xlsx"):
            return _zip_parts(path, _SLIDE if kind == "pptx" else _SHEET)
    except Exception:  # unreadable here: the convert step will say why
        return 1
    return 1


def _pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    with _PDFIUM:
        pdf = pdfium.PdfDocument(str(path))
        try:
            return len(pdf)
        finally:
            pdf.close()


def _image_frames(path: Path) -> int:
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a bomb is refused by the convert step, not here
        with Image.open(path) as image:
            if image.format != "TIFF":
                return 1
            return int(getattr(image, "n_frames", 1))


def _zip_parts(path: Path, part: re.Pattern[str]) -> int:
    with zipfile.ZipFile(path) as archive:
        return sum(1 for name in archive.namelist() if part.fullmatch(name))
