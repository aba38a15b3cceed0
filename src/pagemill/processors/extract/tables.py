"""Arrays from tables: table blocks (rows of cells) and tables that survive only as text.

A table block maps header cells to the item's properties by label. A text-layer table without
ruling lines usually reaches the checkpoint as a header block ("Description Qty Unit Price
Amount") followed by a block with every row run together; the header's labels give the column
order and the columns' types give a row pattern (a lazy string, then numbers) that splits the
rows apart again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pagemill.processors.document import Block
from pagemill.processors.extract.grid import STOP_ROWS, grid_tables, visual_rows
from pagemill.processors.extract.labels import (
    LabelMatch,
    LabelPattern,
    Variant,
    field_variants,
    find_labels,
    patterns_for,
)
from pagemill.processors.extract.schema import FieldSpec
from pagemill.processors.extract.typed import read_value
from pagemill.processors.extract.values import NUMBER

HEADER_COVERAGE = 0.8
ALIGN_POINTS = 20.0
TABLE_DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    r"|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}"
)
COLUMN_WORDS = (
    *("description", "item", "qty", "quantity", "units", "unit price", "price", "rate"),
    *("amount", "total", "line total", "hours", "sku", "product", "unit", "discount", "tax"),
    *("code", "date"),
)


@dataclass(slots=True)
class TableResult:
    items: list[dict[str, Any]]
    block_ids: list[str]
    used: set[int] = field(default_factory=set)


def item_patterns(spec: FieldSpec) -> list[LabelPattern]:
    assert spec.items is not None
    patterns: list[LabelPattern] = []
    for child in spec.items.children:
        variants = [v for v in field_variants(child.words, child.title, None) if v.quality >= 0.8]
        patterns.extend(patterns_for(child.key, variants))
    return patterns


def generic_headers(blocks: Sequence[Block]) -> set[int]:
    """Table header rows no schema asked for, as one block or one block per cell: their column
    names ("Line Total") must not act as labels of other fields."""
    patterns = patterns_for(None, (Variant(w, 0.0) for w in COLUMN_WORDS))

    def covered(text: str, least: int) -> bool:
        matches = find_labels(text, patterns)
        return len(matches) >= least and _coverage(text, matches, len(text)) >= HEADER_COVERAGE

    found = {i for i, block in enumerate(blocks) if covered(block.text, 3)}
    for row in visual_rows(blocks):
        if len(row) >= 3 and all(covered(cell.block.text, 1) for cell in row):
            found.update(cell.index for cell in row)
    return found


def extract_table(blocks: Sequence[Block], spec: FieldSpec, taken: set[int]) -> TableResult | None:
    """Items for the array-of-objects ``spec`` from the best matching table in ``blocks`` that
    uses none of the ``taken`` blocks (another array's table)."""
    if spec.items is None or not spec.items.children:
        return None
    patterns = item_patterns(spec)
    children = {child.key: child for child in spec.items.children}
    found: list[TableResult] = []
    for index, block in enumerate(blocks):
        if block.type == "table" and block.rows:
            result = _from_cells(block, index, patterns, children)
        elif block.type != "picture":
            result = _from_text(blocks, index, patterns, children)
        else:
            result = None
        if result is not None:
            found.append(result)
    found.extend(TableResult(*table) for table in grid_tables(blocks, patterns, children))
    found = [result for result in found if result.items and not result.used & taken]
    if not found:
        return None
    return max(found, key=lambda r: (len(r.items), sum(len(item) for item in r.items)))


def _from_cells(
    block: Block, index: int, patterns: list[LabelPattern], children: dict[str, FieldSpec]
) -> TableResult | None:
    assert block.rows is not None
    mapping: dict[int, FieldSpec] = {}
    for column, cell in enumerate(block.rows[0]):
        matches = find_labels(cell, patterns)
        if (
            matches
            and matches[0].owner is not None
            and matches[0].owner not in {spec.key for spec in mapping.values()}
        ):
            mapping[column] = children[matches[0].owner]
    if len(mapping) < min(2, len(children)):
        return None
    items = []
    for row in block.rows[1:]:
        if row and STOP_ROWS.match(row[0]):
            continue
        item: dict[str, Any] = {}
        for column, child in mapping.items():
            if column < len(row) and row[column].strip():
                found = read_value(child, row[column])
                if found is not None:
                    item[child.key] = found.value
        if item:
            items.append(item)
    return TableResult(items, [block.block_id], {index})


def _from_text(
    blocks: Sequence[Block],
    index: int,
    patterns: list[LabelPattern],
    children: dict[str, FieldSpec],
) -> TableResult | None:
    header = blocks[index]
    matches = [m for m in find_labels(header.text, patterns) if m.owner is not None]
    columns, header_end = _header_columns(header.text, matches, children)
    if sum(1 for column in columns if column is not None) < min(2, len(children)):
        return None
    row = re.compile(r"\s*" + r"\s+".join(_column_pattern(c) for c in columns) + r"(?=\s|$)")
    items: list[dict[str, Any]] = []
    used, block_ids = {index}, []
    rest = header.text[header_end:]
    if rest.strip():
        parsed, complete = _parse_rows(rest, row, columns)
        items.extend(parsed)
        block_ids.append(header.block_id)
        if not complete:
            return TableResult(items, block_ids, used)
    for later in range(index + 1, len(blocks)):
        block = blocks[later]
        if block.page != header.page or abs(block.bbox[0] - header.bbox[0]) > ALIGN_POINTS:
            break
        parsed, complete = _parse_rows(block.text, row, columns)
        if not parsed:
            break
        items.extend(parsed)
        used.add(later)
        block_ids.append(block.block_id)
        if not complete:
            break
    return TableResult(items, block_ids, used)


def _header_columns(
    text: str, matches: list[LabelMatch], children: dict[str, FieldSpec]
) -> tuple[list[FieldSpec | None], int]:
    """Columns named by consecutive labels from the start of ``text``; words between them are
    columns the schema does not ask for. Returns the columns and where the header ends."""
    columns: list[FieldSpec | None] = []
    position, seen = 0, set()
    for match in matches:
        if match.start < position:
            continue  # a second reading of the same words
        gap = text[position : match.start]
        if re.search(r"[A-Za-z]{2,}", gap):
            if len(gap.split()) > 2:
                break
            columns.append(None)
        if match.owner in seen:
            break
        seen.add(match.owner)
        columns.append(children[str(match.owner)])
        position = match.end
    if _coverage(text[:position], matches, position) < HEADER_COVERAGE:
        return [], 0
    return columns, position


def _coverage(text: str, matches: Sequence[LabelMatch], limit: int) -> float:
    letters = sum(1 for char in text[:limit] if not char.isspace())
    covered = sum(
        sum(1 for char in text[m.start : m.end] if not char.isspace())
        for m in matches
        if m.end <= limit
    )
    return covered / letters if letters else 0.0


def _column_pattern(column: FieldSpec | None) -> str:
    if column is None:
        return r"(\S+)"
    if column.kind == "integer":
        return r"([-+]?\d[\d,]*)"
    if column.kind == "number":
        return f"({NUMBER.pattern})"
    if column.fmt in ("date", "date-time"):
        return f"({TABLE_DATE})"
    if column.kind == "boolean":
        return r"(\S+)"
    return r"(.+?)"


def _parse_rows(
    text: str, row: re.Pattern[str], columns: list[FieldSpec | None]
) -> tuple[list[dict[str, Any]], bool]:
    """Rows from the start of ``text``; ``complete`` when they consumed all of it."""
    items: list[dict[str, Any]] = []
    position = 0
    while position < len(text) and text[position:].strip():
        if STOP_ROWS.match(text[position:]):
            return items, False
        match = row.match(text, position)
        if match is None:
            return items, False
        item: dict[str, Any] = {}
        cells = _cells(match, columns)
        for column, cell in zip(columns, cells, strict=True):
            if column is not None:
                found = read_value(column, cell)
                if found is not None:
                    item[column.key] = found.value
        if item:
            items.append(item)
        position = match.end()
    return items, True


def _cells(match: re.Match[str], columns: list[FieldSpec | None]) -> list[str]:
    """The text of each column (every column pattern is one group with no groups inside)."""
    return [match.group(index + 1) or "" for index in range(len(columns))]
