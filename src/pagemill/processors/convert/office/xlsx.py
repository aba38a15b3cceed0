"""XLSX → ``Document`` with openpyxl (``read_only=True``: rows are streamed, not loaded).

* One page per sheet, in workbook order (chart sheets count, and give only their heading);
  ``page_range`` selects sheets, 0-indexed.
* Each sheet gives a level-1 heading (the sheet name) and one ``table`` block: the used range,
  from the first non-empty row (the header) to the last non-empty row, without empty leading or
  trailing columns; all-empty rows inside it are left out of the table.
* Values are the cached results (``data_only=True``): a formula never calculated by a spreadsheet
  program is empty. Numbers use up to 15 significant digits (``0.1 + 0.2`` → ``0.3``), dates are
  ISO 8601, booleans ``TRUE``/``FALSE`` as a spreadsheet shows them. Merged areas keep their text
  in the first cell only (read-only mode has no merge information).
* Caps per sheet: ``MAX_ROWS`` rows by ``MAX_COLUMNS`` columns are kept; when more content
  exists, ``metadata["truncated"][sheet name]`` says what was kept. Columns past
  ``MAX_COLUMNS + 1`` are never read, so a value only there is dropped without a note.
* No geometry: every block's bbox is ``(0, 0, 0, 0)``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from pagemill.processors.convert.formats import ParseRequest
from pagemill.processors.convert.office.number_formats import formatted_text
from pagemill.processors.convert.office.safety import (
    BlockSink,
    check_zip,
    collapse,
    parse_errors,
    selected_pages,
)
from pagemill.processors.document import Document

MAX_ROWS = 5_000
MAX_COLUMNS = 200
# Rows read past the cap to learn whether content was cut, and empty rows read before the
# first non-empty one: both bound the time spent on sheets of formatting-only rows.
TAIL_SCAN_ROWS = 1_000
MAX_LEADING_EMPTY_ROWS = 100_000


def parse(request: ParseRequest) -> Document:
    """The XLSX parser of ``formats.PARSERS``."""
    with parse_errors("XLSX"):
        check_zip(request.path, "XLSX")
        from openpyxl import load_workbook

        # From an open file, not a path: openpyxl refuses a path without an .xlsx-like
        # extension, and a stored upload has none (the bytes already said it is XLSX).
        with request.path.open("rb") as handle, warnings.catch_warnings():
            # openpyxl warns about every extension it skips (data validation, slicers…): noise.
            warnings.simplefilter("ignore", UserWarning)
            return _parse(request, load_workbook(handle, read_only=True, data_only=True))


def _parse(request: ParseRequest, workbook: Any) -> Document:
    try:
        names = list(workbook.sheetnames)
        pages = selected_pages(len(names), request.page_range, request.max_pages)
        sink = BlockSink()
        truncated: dict[str, dict[str, Any]] = {}
        for page in pages:
            if page >= len(names):
                continue  # a workbook without sheets still has its one empty page
            name = names[page]
            sink.add(page, "heading", collapse(name) or f"Sheet {page + 1}", level=1)
            sheet = workbook[name]
            if not hasattr(sheet, "iter_rows"):
                continue  # a chart sheet: no cells
            rows, note = _used_range(sheet, formatted=request.keep_spreadsheet_formatting)
            sink.add_table(page, rows)
            if note:
                truncated[name] = note
    finally:
        workbook.close()  # read-only mode keeps the zip open until then
    metadata: dict[str, object] = {"parser": "openpyxl", "sheet_names": names}
    if truncated:
        metadata["truncated"] = truncated
    return sink.document(len(names), pages, metadata)


def _used_range(
    sheet: Any, *, formatted: bool = False
) -> tuple[list[list[str]], dict[str, Any] | None]:
    rows: list[list[str]] = []
    leading_empty = tail = 0
    more_rows = more_columns = False
    # One column past the cap is read so that content there can be reported as cut.
    for values in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=not formatted):
        if formatted:  # each cell as its number format shows it (keep_spreadsheet_formatting)
            values = tuple(formatted_text(c.value, c.number_format, _text) for c in values)
        cells = [_text(value) for value in values[:MAX_COLUMNS]]
        filled = any(cells)
        if len(values) > MAX_COLUMNS and _text(values[MAX_COLUMNS]):
            more_columns = True
            filled = True
        if not rows and not filled:
            leading_empty += 1
            if leading_empty > MAX_LEADING_EMPTY_ROWS:
                more_rows = True
                break
            continue
        if len(rows) >= MAX_ROWS:
            tail += 1
            if filled or tail > TAIL_SCAN_ROWS:
                more_rows = True
                break
            continue
        rows.append(cells)
    while rows and not any(rows[-1]):
        rows.pop()
    used = [index for row in rows for index, cell in enumerate(row) if cell]
    if used:
        first, last = min(used), max(used)
        rows = [row[first : last + 1] for row in rows]
    note = None
    if more_rows or more_columns:
        note = {
            "rows_kept": len(rows),
            "columns_kept": max((len(row) for row in rows), default=0),
            "more_rows": more_rows,
            "more_columns": more_columns,
        }
    return rows, note


def _text(value: Any) -> str:
    """A cell value as a spreadsheet would show it with the General format."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return collapse(str(value))
