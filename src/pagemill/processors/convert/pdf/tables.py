"""Ruled tables from pdfplumber's line-based table finder.

pdfplumber parses a page with pdfminer (about 5 to 7 pages/s), so it only runs on pages whose cheap
object scan found ruling lines or boxes (``pdf_images.scan_page``). A "table" of one row or one
column is a box around text (a callout, a page border), not a table, and is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.layout.blocks import join_lines
from pagemill.processors.document import BBox, TableRows

TABLE_SETTINGS: dict[str, Any] = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "intersection_tolerance": 3,
}


@dataclass(frozen=True, slots=True)
class Table:
    bbox: BBox  # PDF points, origin top-left
    rows: TableRows


def find_tables(path: Path, pages: Sequence[int]) -> dict[int, list[Table]]:
    """The ruled tables on each of ``pages`` (0-based), in top-to-bottom order."""
    if not pages:
        return {}
    import pdfplumber

    found: dict[int, list[Table]] = {}
    try:
        with pdfplumber.open(path) as pdf:
            for page_number in pages:
                page = pdf.pages[page_number]
                try:
                    found[page_number] = _page_tables(page)
                finally:
                    page.close()  # pdfplumber caches each page's objects until closed
    except ProcessingError:
        raise
    except Exception as error:  # pdfminer raises many types on damaged content streams
        raise ProcessingError(
            f"The PDF's tables could not be read; the file may be damaged "
            f"({type(error).__name__}: {error})."
        ) from error
    return found


def _page_tables(page: Any) -> list[Table]:
    tables: list[Table] = []
    for table in page.find_tables(table_settings=TABLE_SETTINGS):
        rows = tuple(tuple(_cell_text(cell) for cell in row) for row in table.extract() if any(row))
        if len(rows) < 2 or max(len(row) for row in rows) < 2:
            continue
        x0, top, x1, bottom = (float(v) for v in table.bbox)
        tables.append(Table(bbox=(x0, top, x1, bottom), rows=rows))
    tables.sort(key=lambda table: table.bbox[1])
    return tables


def _cell_text(cell: str | None) -> str:
    # A cell spanned by its neighbour comes back as None; a wrapped cell as several lines.
    if not cell:
        return ""
    return join_lines(" ".join(line.split()) for line in cell.splitlines())
