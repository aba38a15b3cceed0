"""Tables whose cells reached the checkpoint as separate blocks, rebuilt from their boxes.

A converter that splits lines at wide gaps turns an unruled table into one block per cell.
Blocks whose vertical centres agree form a *visual row*; a row whose cells are the labels of an
item's properties is a header, its cells' x-ranges are the columns, and the rows under it are
items until a gap, a totals row or a row that fits no column ends the table. A row holding only
text under the first text column continues the item above (a wrapped description).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.processors.document import Block
from pagemill.processors.extract.labels import LabelPattern, find_labels
from pagemill.processors.extract.schema import FieldSpec
from pagemill.processors.extract.typed import read_value

STOP_ROWS = re.compile(
    r"^\s*(?:net|sub|grand|invoice|order)?[\s\-]?(?:total|subtotal|tax|vat|gst|balance|"
    r"amount\s+(?:due|payable)|net\s+amount|discount|shipping)\b",
    re.IGNORECASE,
)
HEADER_COVERAGE = 0.8
ROW_GAP_LINES = 2.6  # a vertical gap over this many row heights ends the table
NEAREST_POINTS = 40.0


@dataclass(slots=True)
class Cell:
    index: int  # position in the block list
    block: Block

    @property
    def centre_y(self) -> float:
        return (self.block.bbox[1] + self.block.bbox[3]) / 2

    @property
    def height(self) -> float:
        return max(1.0, self.block.bbox[3] - self.block.bbox[1])


@dataclass(slots=True)
class Column:
    x0: float
    x1: float
    spec: FieldSpec | None


def visual_rows(blocks: Sequence[Block]) -> list[list[Cell]]:
    """Blocks grouped by page and vertical centre, each row sorted left to right."""
    cells = [
        Cell(i, b) for i, b in enumerate(blocks) if b.type not in ("table", "picture") and b.text
    ]
    cells.sort(key=lambda c: (c.block.page, c.centre_y))
    rows: list[list[Cell]] = []
    for cell in cells:
        last = rows[-1] if rows else None
        if (
            last is not None
            and last[0].block.page == cell.block.page
            and abs(cell.centre_y - last[0].centre_y) <= 0.5 * min(cell.height, last[0].height)
        ):
            last.append(cell)
        else:
            rows.append([cell])
    for row in rows:
        row.sort(key=lambda c: c.block.bbox[0])
    return rows


def grid_tables(
    blocks: Sequence[Block], patterns: list[LabelPattern], children: dict[str, FieldSpec]
) -> list[tuple[list[dict[str, Any]], list[str], set[int]]]:
    """Every grid table whose header names the item's properties: items, block ids, indices."""
    rows = visual_rows(blocks)
    found = []
    for position, row in enumerate(rows):
        columns = _header(row, patterns, children)
        if columns is None:
            continue
        items, ids, used = _items(rows, position, columns)
        if items:
            found.append((items, ids, used | {cell.index for cell in row}))
    return found


def _header(
    row: list[Cell], patterns: list[LabelPattern], children: dict[str, FieldSpec]
) -> list[Column] | None:
    if len(row) < 2:
        return None
    columns: list[Column] = []
    named: set[str] = set()
    for cell in row:
        text = cell.block.text
        matches = [m for m in find_labels(text, patterns) if m.owner is not None]
        covered = sum(len(text[m.start : m.end].replace(" ", "")) for m in matches[:1])
        letters = len(text.replace(" ", ""))
        spec = None
        if matches and letters and covered / letters >= HEADER_COVERAGE:
            owner = str(matches[0].owner)
            if owner not in named:
                named.add(owner)
                spec = children[owner]
        columns.append(Column(cell.block.bbox[0], cell.block.bbox[2], spec))
    if len(named) < min(2, len(children)) or len(named) * 2 < len(row):
        return None
    return columns


def _items(
    rows: list[list[Cell]], position: int, columns: list[Column]
) -> tuple[list[dict[str, Any]], list[str], set[int]]:
    items: list[dict[str, Any]] = []
    ids: list[str] = []
    used: set[int] = set()
    text_columns = [
        i for i, c in enumerate(columns) if c.spec is not None and c.spec.kind == "string"
    ]
    previous = rows[position]
    mapped = sum(1 for column in columns if column.spec is not None)
    for row in rows[position + 1 :]:
        if row[0].block.page != previous[0].block.page:
            break
        gap = row[0].centre_y - previous[0].centre_y
        if gap > ROW_GAP_LINES * max(row[0].height, previous[0].height):
            break
        placed = _place(row, columns)
        if placed is None or any(STOP_ROWS.match(cell.block.text) for cell in row):
            break
        item: dict[str, Any] = {}
        for column_index, cell in placed.items():
            spec = columns[column_index].spec
            if spec is not None:
                value = read_value(spec, cell.block.text)
                if value is not None:
                    item[spec.key] = value.value
        if not item:
            break
        text_keys = {spec.key for i in text_columns if (spec := columns[i].spec) is not None}
        typed = [key for key in item if key not in text_keys]
        if not typed and items and set(placed) <= set(text_columns):
            _continue(items[-1], item)  # a wrapped line of the text column above
        elif 2 * len(item) < mapped:
            break  # a note or a summary line under the table, not an item
        else:
            items.append(item)
        ids.extend(cell.block.block_id for cell in placed.values())
        used.update(cell.index for cell in placed.values())
        previous = row
    return items, ids, used


def _place(row: list[Cell], columns: list[Column]) -> dict[int, Cell] | None:
    """Each cell under the column it overlaps most (or the nearest); ``None`` if one fits none."""
    placed: dict[int, Cell] = {}
    for cell in row:
        x0, x1 = cell.block.bbox[0], cell.block.bbox[2]
        best, best_score = None, 0.0
        for index, column in enumerate(columns):
            overlap = min(x1, column.x1) - max(x0, column.x0)
            score = overlap if overlap > 0 else -min(abs(x0 - column.x0), abs(x1 - column.x1))
            if best is None or score > best_score:
                best, best_score = index, score
        if best is None or best_score < -NEAREST_POINTS or best in placed:
            return None
        placed[best] = cell
    return placed


def _continue(item: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(item.get(key), str) and isinstance(value, str):
            item[key] = f"{item[key]} {value}"
        else:
            item.setdefault(key, value)
