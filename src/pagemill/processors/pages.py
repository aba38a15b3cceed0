"""Counting a document's pages at submit time, for admission control — fast, header-deep.

What counts as a page, by the format the bytes show (``convert.formats.detect_format``):

- PDF: its pages (pdfium reads the page tree only, nothing is rendered);
- TIFF: its frames; every other image: 1;
- PPTX: its slides; XLSX: its worksheets (the units ``page_range`` selects for them);
- everything else (DOCX, HTML, EPUB, text, unknown): 1 — their page count is only known once
  they are laid out, which is the convert step's work.

``page_range`` (or else ``max_pages``) narrows the count as the convert step would. A file that
cannot be read here counts as 1: the convert step then reports what is wrong with it.

Counting is bounded by what it is given, not by what the document claims: a ZIP's members are
read from its central directory only after its end record declared a plausible number of them
(``convert.zip_directory``), and a TIFF's frames are counted by walking its chain of image file
directories, never further than ``cap`` (a TIFF can chain millions). Admission runs this in a
worker process with a time and memory limit, so a native crash (pdfium) costs that process.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

from pagemill.domain.page_ranges import parse_page_range
from pagemill.processors.convert.formats import detect_format
from pagemill.processors.convert.zip_directory import members, read_directory
from pagemill.processors.page_images import PDFIUM_LOCK

_SLIDE = re.compile(r"ppt/slides/slide\d+\.xml")
_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
NO_CAP = 10**9


def count_pages(
    path: Path,
    page_range: str | None = None,
    max_pages: int | None = None,
    cap: int = NO_CAP,
) -> int:
    """The pages of the document at ``path`` that a run would process (at least 1); units past
    ``cap`` are not counted (pass the largest count that matters, plus one)."""
    total = natural_units(path, cap)
    if page_range and page_range.strip():
        selected = sum(1 for page in parse_page_range(page_range) if page < total)
        return max(selected, 1)
    if max_pages is not None and max_pages >= 1:
        total = min(total, max_pages)
    return max(total, 1)


def natural_units(path: Path, cap: int = NO_CAP) -> int:
    """Pages, frames, slides or sheets of the document (at most ``cap``); 1 when it has no
    such unit."""
    try:
        kind = detect_format(path)
        if kind == "pdf":
            return _pdf_pages(path)
        if kind == "image":
            return _tiff_frames(path, cap)
        if kind in ("pptx", "xlsx"):
            return _zip_parts(path, _SLIDE if kind == "pptx" else _SHEET)
    except Exception:  # unreadable here: the convert step will say why
        return 1
    return 1


def _pdf_pages(path: Path) -> int:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:  # pdfium is not thread-safe
        pdf = pdfium.PdfDocument(str(path))
        try:
            return len(pdf)
        finally:
            pdf.close()


def _tiff_frames(path: Path, cap: int) -> int:
    """The frames of a TIFF (1 for any other image): its chain of image file directories,
    walked without decoding anything, at most ``cap`` links, stopping at a loop."""
    with path.open("rb") as handle:
        header = handle.read(16)
        order = {b"II": "<", b"MM": ">"}.get(header[:2])
        if order is None:
            return 1
        (version,) = struct.unpack(order + "H", header[2:4])
        if version == 42:
            (offset,) = struct.unpack(order + "L", header[4:8])
            count_format, entry_size, offset_format = "H", 12, "L"
        elif version == 43 and len(header) == 16:  # BigTIFF
            (offset,) = struct.unpack(order + "Q", header[8:16])
            count_format, entry_size, offset_format = "Q", 20, "Q"
        else:
            return 1
        count_size = struct.calcsize(order + count_format)
        offset_size = struct.calcsize(order + offset_format)
        frames, seen = 0, set()
        while offset and offset not in seen and frames < cap:
            seen.add(offset)
            handle.seek(offset)
            raw_count = handle.read(count_size)
            if len(raw_count) < count_size:
                break
            (entries,) = struct.unpack(order + count_format, raw_count)
            handle.seek(offset + count_size + entries * entry_size)
            raw_next = handle.read(offset_size)
            frames += 1
            if len(raw_next) < offset_size:
                break
            (offset,) = struct.unpack(order + offset_format, raw_next)
        return max(frames, 1)


def _zip_parts(path: Path, part: re.Pattern[str]) -> int:
    return sum(1 for member in members(path, read_directory(path)) if part.fullmatch(member.name))


def inspect(
    path: Path, page_range: str | None, max_pages: int | None, cap: int, converted: str | None
) -> tuple[int, str | None]:
    """What admission needs to know of a submitted document, in one call (it runs in a worker
    process): the pages a run would process (``count_pages``) and, when the run converts it
    (``converted`` is then the document's filename), why it cannot be converted here (a
    missing LibreOffice, or text under a file type that is not converted), or None."""
    from pagemill.processors.convert.formats import foreign_text
    from pagemill.processors.convert.office.libreoffice import missing_converter

    missing = None
    if converted is not None:
        missing = missing_converter(path) or foreign_text(detect_format(path), converted)
    return count_pages(path, page_range, max_pages, cap), missing
