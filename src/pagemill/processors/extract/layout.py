"""Where a value stands relative to its label on the page: beside or below a label box, under a
table's header cell, or in the column of a header row of labels.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pagemill.processors.document import Block
from pagemill.processors.extract.candidates import Leaf, Reading
from pagemill.processors.extract.labels import LABEL_BOX_WORDS, LabelMatch
from pagemill.processors.extract.typed import read_value, shape_of
from pagemill.processors.extract.values import Found

RIGHT_POINTS, BELOW_POINTS = 250.0, 30.0
HEADER_COVERAGE = 0.7  # a block this much covered by labels is a header row
COLUMN_SLACK = 15.0


def readable(block: Block) -> Block:
    """A table block whose cells are its only text, with the rows as its text."""
    if block.text.strip() or not block.rows:
        return block
    return replace(block, text=render(block.rows))


def render(rows: Sequence[Sequence[str]]) -> str:
    return "\n".join(" | ".join(row) for row in rows)


def cell_below(block: Block, match: LabelMatch) -> tuple[str, int] | None:
    """For a label alone in a table cell, the cell under it and where it starts in the text."""
    if not block.rows or block.text != render(block.rows):
        return None
    position = 0
    starts: list[list[int]] = []
    for row in block.rows:
        starts.append([])
        for cell in row:
            starts[-1].append(position)
            position += len(cell) + 3
        position += 1 - 3 if row else 1
    for r, row in enumerate(block.rows[:-1]):
        for c, cell in enumerate(row):
            start = starts[r][c]
            if start <= match.start < start + len(cell):
                if cell[match.value_start - start :].strip() or c >= len(block.rows[r + 1]):
                    return None
                below = [row[c] for row in block.rows[r + 1 :] if c < len(row) and row[c].strip()]
                if len(below) > 1:
                    return None  # a column of line items ("Total" per row), not one value
                return block.rows[r + 1][c], starts[r + 1][c]
    return None


def column_value(
    blocks: Sequence[Block],
    matches: list[list[LabelMatch]],
    index: int,
    match: LabelMatch,
    leaf: Leaf,
    reading: Reading,
) -> tuple[Found, int, int] | None:
    """A header row of labels ("TOTAL HT  TOTAL TVA  TOTAL TTC") over a row of values: the
    value in the same column, counted from the left."""
    if leaf.spec.kind == "string" and shape_of(leaf.spec) not in ("id", "date", "date_text"):
        return None  # one word per column: only for numbers, dates and identifiers
    text = blocks[index].text
    labels_here: list[LabelMatch] = []
    for m in matches[index]:
        if not m.weak and all(m.start >= o.end or m.end <= o.start for o in labels_here):
            labels_here.append(m)
    covered = sum(len(text[m.start : m.end].replace(" ", "")) for m in labels_here)
    if len(labels_here) < 2 or covered < HEADER_COVERAGE * len(text.replace(" ", "")):
        return None
    ordinal = next((i for i, m in enumerate(labels_here) if m.start == match.start), None)
    below = neighbours(blocks, matches, index)
    if ordinal is None or not below:
        return None
    row = below[-1]
    cells = list(re.finditer(r"\S+", blocks[row].text))
    if len(cells) >= len(labels_here):
        cell = cells[ordinal]
        found = read_value(leaf.spec, cell.group(0), reading.facts.day_first)
        if found is not None:
            return Found(found.value, found.start, found.end), row, cell.start()
    # Values in blocks of their own: the one under the label's place in the row.
    x0, _, x1, y1 = blocks[index].bbox
    share = (match.start + match.end) / 2 / max(1, len(text))
    centre = x0 + share * (x1 - x0)
    for other, block in enumerate(blocks):
        bx0, by0, bx1, _ = block.bbox
        same_column = bx0 - COLUMN_SLACK <= centre <= bx1 + COLUMN_SLACK
        if block.page == blocks[index].page and 0 <= by0 - y1 <= BELOW_POINTS and same_column:
            found = read_value(leaf.spec, block.text, reading.facts.day_first)
            if found is not None:
                return found, other, 0
    return None


def neighbours(blocks: Sequence[Block], matches: list[list[LabelMatch]], index: int) -> list[int]:
    """Where a label box's value may be: the nearest block to its right on the same line, then
    the nearest block below it."""
    label = blocks[index]
    x0, y0, x1, y1 = label.bbox
    right: tuple[float, int] | None = None
    below: tuple[float, int] | None = None
    for other in same_page(blocks, index):
        block = blocks[other]
        if other == index:
            continue
        strong = [m for m in matches[other] if not m.weak]
        if strong and (strong[0].start == 0 or label_only(block.text, strong[-1])):
            continue  # another label box, or a label with its own value
        bx0, by0, bx1, by1 = block.bbox
        centre = (by0 + by1) / 2
        beside = y0 - 3 <= centre <= y1 + 3 and 0 <= bx0 - x1 + 2 <= RIGHT_POINTS
        under = by0 >= y1 - 2 and by0 - y1 <= BELOW_POINTS and min(x1, bx1) - max(x0, bx0) > 0
        if beside and (right is None or bx0 - x1 < right[0]):
            right = (bx0 - x1, other)
        elif not beside and under and (below is None or by0 - y1 < below[0]):
            below = (by0 - y1, other)
    return [found[1] for found in (right, below) if found is not None]


def same_page(blocks: Sequence[Block], index: int) -> range:
    """Indices of the blocks on the page of ``blocks[index]`` (blocks are in page order)."""
    page = blocks[index].page
    start = index
    while start > 0 and blocks[start - 1].page == page:
        start -= 1
    end = index + 1
    while end < len(blocks) and blocks[end].page == page:
        end += 1
    return range(start, end)


def label_only(text: str, match: LabelMatch) -> bool:
    """A short block that ends with the label: "Invoice No.", "RECEIVE NEWSLETTER"."""
    return not text[match.value_start :].strip() and len(text.split()) <= LABEL_BOX_WORDS
