"""Tables on scanned pages, from the OCR word boxes: words that line up in columns across rows.

Tesseract reads a table as text: often one block per column (so its reading order goes down a
column, then the next), sometimes one line per row with wide gaps. Either way the words keep
their boxes, and a table is what those boxes show:

1. **rows**: the recognised lines are grouped by height; lines whose vertical centres fall
   within each other's band are one visual row, whichever Tesseract block they came from;
2. **cells**: a row's words, left to right, split wherever the gap between two words is wider
   than a word space can be (``CELL_GAP_EMS`` font sizes);
3. **runs**: consecutive rows of at least two cells, not set apart by a wide vertical gap, are
   a table candidate;
4. **columns**: x positions that no row's cell covers (or, in a long run, at most one row in
   five: a header spanning two columns) are the gutters; the spans between them are columns;
5. **not prose**: a run whose every column is long text (two columns of a page set side by
   side) is not a table; neither is a run of fewer than ``MIN_ROWS`` rows or two columns.

The table's lines leave the page's paragraphs and a ``table`` atom stands in their place,
its first row the header, a cell's words joined with spaces and the lines of a wrapped cell
joined in reading order.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from pagemill.processors.convert.layout.lines import Atom, Line, union
from pagemill.processors.document import BBox

CELL_GAP_EMS = 1.0  # a gap this many font sizes wide between two words separates two cells
ROW_GAP_LINES = 2.5  # rows further apart than this many line heights are two tables
MIN_ROWS = 3
MIN_COLUMNS = 2
PROSE_CELL_CHARS = 28  # a column whose cells are this long (median) reads as running text
MARKER_EMS = 2.0  # a first column this narrow (bullets, item numbers) makes a list
RULE_GLYPHS = "|¦"  # how OCR reads a table's vertical rules
# "Burglary .........": leaders to the value (OCR reads some of their dots as "-" or "+").
DOT_LEADER = re.compile(r"(?:\s*[.·…+\-]){3,}\s*$")
SPANNING_SHARE = 5  # in a run of n rows, n // 5 rows may cross a gutter (spanning headers)

Word = tuple[str, BBox]  # text, box in points


@dataclass(slots=True)
class WordLine:
    """A recognised line and the boxes of its words (points, origin top-left)."""

    line: Line
    words: list[Word]


@dataclass(slots=True)
class _Cell:
    words: list[Word]

    @property
    def x0(self) -> float:
        return min(box[0] for _, box in self.words)

    @property
    def x1(self) -> float:
        return max(box[2] for _, box in self.words)

    @property
    def text(self) -> str:
        return " ".join(text for text, _ in self.words)


@dataclass(slots=True)
class _Row:
    lines: list[WordLine]
    cells: list[_Cell] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min(item.line.bbox[1] for item in self.lines)

    @property
    def bottom(self) -> float:
        return max(item.line.bbox[3] for item in self.lines)

    @property
    def height(self) -> float:
        return statistics.median(item.line.bbox[3] - item.line.bbox[1] for item in self.lines)


@dataclass(frozen=True, slots=True)
class FoundTable:
    atom: Atom
    lines: frozenset[int]  # id() of the lines the table stands for


def find_tables(lines: Sequence[WordLine]) -> list[FoundTable]:
    """The tables among one page's recognised lines, top to bottom."""
    rows = _rows([item for item in lines if item.words])
    for row in rows:
        row.cells = _cells(row)
    tables: list[FoundTable] = []
    for run in _runs(rows):
        table = _table(run)
        if table is not None:
            tables.append(table)
    return tables


def _rows(lines: list[WordLine]) -> list[_Row]:
    rows: list[_Row] = []
    for item in sorted(lines, key=lambda entry: entry.line.center_y):
        if rows and _same_row(rows[-1], item.line):
            rows[-1].lines.append(item)
        else:
            rows.append(_Row([item]))
    return rows


def _same_row(row: _Row, line: Line) -> bool:
    center = line.center_y
    return row.top <= center <= row.bottom and any(
        item.line.bbox[1] <= center <= item.line.bbox[3]
        and line.bbox[1] <= item.line.center_y <= line.bbox[3]
        for item in row.lines
    )


def _cells(row: _Row) -> list[_Cell]:
    size = statistics.median(item.line.size for item in row.lines)
    words = sorted((word for item in row.lines for word in item.words), key=lambda w: w[1][0])
    cells: list[_Cell] = []
    ruled = False  # a vertical rule (read as "|") stands between this word and the last
    for text, box in words:
        stripped = text.strip(RULE_GLYPHS)
        if not stripped:
            ruled = True
            continue
        if (
            cells
            and not ruled
            and not text.startswith(tuple(RULE_GLYPHS))
            and box[0] - cells[-1].x1 < CELL_GAP_EMS * size
        ):
            cells[-1].words.append((stripped, box))
            ruled = text.endswith(tuple(RULE_GLYPHS))
            continue
        cells.append(_Cell([(stripped, box)]))
        ruled = text.endswith(tuple(RULE_GLYPHS))
    return cells


def _runs(rows: list[_Row]) -> list[list[_Row]]:
    """Runs of close rows of two cells or more; a one-cell row between two of them is the
    first line of a label that wraps (``Murder and nonnegligent`` / ``manslaughter  10.0``)
    and joins the row under it."""
    runs: list[list[_Row]] = []
    current: list[_Row] = []
    pending: _Row | None = None  # a one-cell row inside a run, waiting for the next row
    for row in rows:
        above = pending or (current[-1] if current else None)
        close = above is not None and row.top - above.bottom <= ROW_GAP_LINES * max(
            row.height, above.height
        )
        if len(row.cells) >= MIN_COLUMNS and close and current:
            if pending is not None:
                label = pending.cells[0]
                if label.x0 < row.cells[0].x1 and label.x1 < row.cells[-1].x0:
                    row.lines[:0] = pending.lines
                    row.cells[0].words[:0] = pending.cells[0].words
                else:
                    current = _ended(current, runs)
                pending = None
            current.append(row)
            continue
        if len(row.cells) == 1 and close and current and pending is None:
            pending = row
            continue
        current = _ended(current, runs)
        pending = None
        if len(row.cells) >= MIN_COLUMNS:
            current = [row]
    _ended(current, runs)
    return runs


def _ended(run: list[_Row], runs: list[list[_Row]]) -> list[_Row]:
    if len(run) >= MIN_ROWS:
        runs.append(run)
    return []


def _table(run: list[_Row]) -> FoundTable | None:
    columns = _columns(run)
    if len(columns) < MIN_COLUMNS:
        return None
    grid: list[list[list[str]]] = []
    for row in run:
        cells: list[list[str]] = [[] for _ in columns]
        for cell in row.cells:
            cells[_column_of(cell, columns)].append(cell.text)
        if sum(1 for texts in cells if texts) < MIN_COLUMNS:
            return None  # a row that does not spread over the columns: not a grid
        grid.append(cells)
    texts = [[_clean(" ".join(parts)) for parts in row] for row in grid]
    lengths = [[len(text) for text in row if text] for row in zip(*texts, strict=True)]
    size = statistics.median(item.line.size for row in run for item in row.lines)
    if columns[0][1] - columns[0][0] <= MARKER_EMS * size:
        lengths = lengths[1:]  # bullets or item numbers before their text: a list, unless
        if len(lengths) < MIN_COLUMNS:  # two columns or more follow them
            return None
    if all(statistics.median(column) > PROSE_CELL_CHARS for column in lengths if column):
        return None  # columns of running text side by side
    lines = [item for row in run for item in row.lines]
    rows = tuple(tuple(row) for row in texts)
    atom = Atom(
        bbox=union(item.line.bbox for item in lines),
        type="table",
        text="\n".join(" | ".join(row) for row in rows),
        rows=rows,
    )
    return FoundTable(atom=atom, lines=frozenset(id(item.line) for item in lines))


def _clean(text: str) -> str:
    return DOT_LEADER.sub("", text).strip() or text


def _columns(run: list[_Row]) -> list[tuple[float, float]]:
    """Column spans: between the x positions that (almost) no row's cells cover."""
    allowed = len(run) // SPANNING_SHARE
    edges: list[tuple[float, int]] = []
    for row in run:
        for cell in row.cells:
            edges.append((cell.x0, 1))
            edges.append((cell.x1, -1))
    # Sweep left to right: a column runs while more than ``allowed`` cells are open.
    edges.sort(key=lambda edge: (edge[0], -edge[1]))
    columns: list[tuple[float, float]] = []
    open_cells = 0
    start = 0.0
    for x, step in edges:
        before = open_cells
        open_cells += step
        if before <= allowed < open_cells:
            start = x
        elif open_cells <= allowed < before:
            columns.append((start, x))
    return columns


def _column_of(cell: _Cell, columns: list[tuple[float, float]]) -> int:
    """The column a cell belongs to: the one it overlaps most (a spanning cell: its first)."""

    def overlap(column: tuple[float, float]) -> float:
        return min(cell.x1, column[1]) - max(cell.x0, column[0])

    best = max(range(len(columns)), key=lambda index: overlap(columns[index]))
    if overlap(columns[best]) > 0:
        spanned = [i for i, column in enumerate(columns) if overlap(column) > 0]
        return spanned[0]
    centre = (cell.x0 + cell.x1) / 2
    return min(range(len(columns)), key=lambda i: abs((columns[i][0] + columns[i][1]) / 2 - centre))
