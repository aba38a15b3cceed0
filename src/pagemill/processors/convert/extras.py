"""The convert ``extras`` pagemill implements offline: ``extract_links``, ``table_row_bboxes``.

Both read the file again after parsing, only when asked, and report in the result's
``metadata`` (``links``; ``table_row_bboxes`` by table block id), so the parsers and the
renderers stay as they are. ``track_changes`` is applied by the convert processor itself
(``processors.track_changes``). Extras that do not apply to a format get a note instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.processors.document import Document
from pagemill.processors.page_images import open_pdf

LINK_SCHEMES = ("http://", "https://", "mailto:", "ftp://")
MAX_LINKS = 10_000
MIN_OVERLAP = 0.5  # share of a table block's area a pdfplumber table must cover to be it
_SPACES = re.compile(r"\s+")


def extract_links(path: Path, kind: str, document: Document) -> list[dict[str, Any]] | None:
    """Hyperlinks of the parsed pages: ``{page, url, text[, bbox]}``; None if the format has
    no links pagemill can read."""
    readers = {"pdf": _pdf_links, "docx": _docx_links, "html": _html_links}
    reader = readers.get(kind)
    if reader is None:
        return None
    try:
        return reader(path, document)[:MAX_LINKS]
    except ProcessingError:
        raise
    except Exception as error:  # the document parsed, so a broken link table is not fatal
        raise ProcessingError(
            f"The document's links could not be read ({type(error).__name__}: {error})."
        ) from error


def _pdf_links(path: Path, document: Document) -> list[dict[str, Any]]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    with open_pdf(path) as pdf:  # under pdfium's lock: it is not thread-safe
        return _links_on_pages(reader, pdf, document)


def _links_on_pages(reader: Any, pdf: Any, document: Document) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    for page_number in document.pages:
        page = reader.pages[page_number]
        annotations = page.get("/Annots")
        if not annotations:
            continue
        height = float(page.mediabox.top)
        textpage = pdf[page_number].get_textpage()
        for reference in annotations.get_object():
            annotation = reference.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            action = annotation.get("/A")
            action = action.get_object() if action is not None else None
            uri = action.get("/URI") if action is not None else None
            if not isinstance(uri, str) or not uri.lower().startswith(LINK_SCHEMES):
                continue
            x0, y0, x1, y1 = (float(v) for v in annotation.get("/Rect", [0, 0, 0, 0]))
            left, right = sorted((x0, x1))
            bottom, top = sorted((y0, y1))
            text = textpage.get_text_bounded(left, bottom, right, top)
            links.append(
                {
                    "page": page_number,
                    "url": uri,
                    "text": _SPACES.sub(" ", text).strip(),
                    "bbox": [round(v, 2) for v in (left, height - top, right, height - bottom)],
                }
            )
        textpage.close()
    return links


def _docx_links(path: Path, document: Document) -> list[dict[str, Any]]:
    """``w:hyperlink`` elements with an external target; DOCX has no pages of its own, so
    links are on page 0 unless the document was split at explicit breaks (then: unknown)."""
    from docx import Document as open_docx

    from pagemill.processors.convert.office.docx import R, W

    package = open_docx(str(path))
    rels = package.part.rels
    links: list[dict[str, Any]] = []
    for element in package.element.body.iter(f"{W}hyperlink"):
        rel = rels.get(element.get(f"{R}id") or "")
        if rel is None or not rel.is_external:
            continue
        url = str(rel.target_ref)
        if not url.lower().startswith(LINK_SCHEMES):
            continue
        text = "".join(node.text or "" for node in element.iter(f"{W}t"))
        links.append(
            {
                "page": document.pages[0] if len(document.pages) == 1 else None,
                "url": url,
                "text": _SPACES.sub(" ", text).strip(),
            }
        )
    return links


def _html_links(path: Path, document: Document) -> list[dict[str, Any]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "lxml")
    links: list[dict[str, Any]] = []
    for anchor in soup.find_all("a", href=True):
        url = str(anchor["href"]).strip()
        if url.lower().startswith(LINK_SCHEMES):
            text = _SPACES.sub(" ", anchor.get_text(" ")).strip()
            links.append({"page": 0, "url": url, "text": text})
    return links


def table_row_bboxes(path: Path, kind: str, document: Document) -> dict[str, list[list[float]]]:
    """For each PDF table block, the boxes of its rows (top to bottom), by block id."""
    tables = [block for block in document.blocks if block.type == "table"]
    if kind != "pdf" or not tables:
        return {}
    import pdfplumber

    from pagemill.processors.convert.pdf.tables import TABLE_SETTINGS

    found: dict[str, list[list[float]]] = {}
    try:
        with pdfplumber.open(path) as pdf:
            for page_number in sorted({block.page for block in tables}):
                page = pdf.pages[page_number]
                try:
                    candidates = page.find_tables(table_settings=TABLE_SETTINGS)
                    for block in (b for b in tables if b.page == page_number):
                        match = max(
                            candidates, key=lambda t: _overlap(t.bbox, block.bbox), default=None
                        )
                        if match is None or _overlap(match.bbox, block.bbox) < MIN_OVERLAP:
                            continue
                        found[block.block_id] = [
                            [round(float(v), 2) for v in row.bbox] for row in match.rows
                        ]
                finally:
                    page.close()
    except Exception as error:  # pdfminer raises many types on damaged content streams
        raise ProcessingError(
            f"The PDF's table rows could not be read ({type(error).__name__}: {error})."
        ) from error
    return found


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The share of ``b``'s area that ``a`` covers."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    area = (b[2] - b[0]) * (b[3] - b[1])
    return max(0.0, width) * max(0.0, height) / area if area > 0 else 0.0
