"""Tables on a text-layer page: ruled, partly ruled (horizontal rules only) and unruled.

Everything works on what the page was already read into: the text lines (split at gutter-wide
gaps, so a table row comes as one line per cell) and the rules from the object scan. Nothing is
parsed again, so a page costs about as much as its line count, not a second parse.

1. **Candidates** (``pdf.table_regions``). Rules that touch each other (a grid), and horizontal
   rules stacked with similar extents (a booktabs table: top, middle and bottom rule), outline
   rule regions. Outside them, runs of consecutive rows that each hold several cells aligned on
   the same column gutters are unruled candidates.
2. **Grid** (``pdf.table_grid``). Columns come from the vertical rules where they cross the
   region, and otherwise from the text's gutters (x-ranges that hardly any cell crosses); a
   header cell that spans several columns goes to the first of them. Rows come from the
   horizontal rules where every text row has its own, and otherwise from the text rows; the
   text rows of a band between two rules that do not read as rows of data of their own (one
   entry in the first column, or not enough filled cells per row) are one row of wrapped cells.
3. **Checks.** At least two rows and two columns, cells short, most rows filled in more than one
   column; an unruled candidate needs three columns (or two with numbers in them), so two
   columns of prose or a list of "label: value" lines stay text. A line wider than the columns
   below the last row (a note or footnote) ends an unruled table. Under a lone rule, two rows
   are a form's labels over their values, unless the first is a header whose cells wrap onto
   several lines, each cell's lines stacked in its column. A closed grid is a table with
   fewer filled cells: one column of boxed rows (a table nested in a cell reads as that), or
   one row of text in a grid drawn with several rows and columns (a merged cell). A grid of a
   few rows just above an unruled table, its inner rules down the table's gutters, is that
   table's header.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.processors.convert.layout.lines import SENTENCE_END, Line, has_rtl, is_vertical
from pagemill.processors.convert.pdf.objects import Rule
from pagemill.processors.convert.pdf.table_grid import (
    GUTTER_CROSSING_SHARE,
    NUMBER,
    SNAP,
    _column_edges,
    _grid_rows,
    _Region,
    _rows,
    _wrapped_halves,
    one_row_cells,
    stacked_boxes,
    text_row_of_grid,
)
from pagemill.processors.convert.pdf.table_regions import (
    MIN_UNRULED_ROWS,
    extend_region,
    grow_over_header,
    has_drawings,
    merge_rules,
    ruled_regions,
    unruled_regions,
)
from pagemill.processors.document import BBox, TableRows

# pdfplumber's line-based finder, for the row boxes of ruled tables (``convert.extras``).
TABLE_SETTINGS: dict[str, Any] = {
    "vertical_strategy": "lines",
    "horizontal_strategy": "lines",
    "snap_tolerance": 3,
    "intersection_tolerance": 3,
}
MIN_TABLE_ROWS = 2
MIN_UNRULED_COLUMNS = 3
SMALL_TABLE_ROWS = 6  # fewer unruled rows than this need a header row (no figures in it)
MAX_HEADER_GRID_ROWS = 3  # a grid of more rows above a table is a table of its own
MAX_CELL_CHARS = 400  # a longer "cell" is a paragraph: the region is not a table
MAX_STACKED_CELL_CHARS = 120  # a one-column grid's rows are entries, not boxed paragraphs
MAX_MEDIAN_UNRULED_CELL = 32  # characters: unruled table cells are short, prose lines are not
MIN_FILLED_ROW_SHARE = 0.5  # of the rows must have two or more cells
MIN_FILLED_SHARE = 0.4  # of all cells must hold text
MIN_FLOWING_CHARS = 20
FLOWING_SHARE = 0.3  # this share of cells continuing the sentence above: prose, not a table
CURRENCY = re.compile(r"\b(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|INR|Rs\.?)\b", re.IGNORECASE)
DATE = re.compile(r"^\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}$")


@dataclass(frozen=True, slots=True)
class Table:
    bbox: BBox  # PDF points, origin top-left
    rows: TableRows
    members: frozenset[int] = frozenset()  # id() of the lines the table stands for


def find_tables(
    lines: Sequence[Line], rules: Sequence[Rule], drawings: Sequence[BBox] = ()
) -> list[Table]:
    """The tables among a page's ``lines`` and ``rules``, top to bottom.

    ``drawings`` are the boxes of curved or slanted paths: a region with drawings in it is a
    figure whose labels merely line up, not a table.
    """
    horizontal = merge_rules([rule for rule in rules if rule.horizontal])
    vertical = merge_rules([rule for rule in rules if not rule.horizontal])
    tables: list[Table] = []
    taken: list[_Region] = []
    used: set[int] = set()  # lines already in a table (nested or duplicated rule groups)
    runs = unruled_regions([line for line in lines if not is_vertical(line)])
    left: list[_Region] = []
    grids: list[Table] = []  # the tables of closed grids (a header may be drawn as one)
    for region in ruled_regions(horizontal, vertical, lines):
        if has_drawings(region, drawings):
            continue
        if region.open_sides:
            extend_region(region, runs)
            grow_over_header(region, lines)
        inside = [line for line in lines if region.holds(line) and id(line) not in used]
        found = _tables(region, inside, horizontal, vertical)
        if found:
            tables.extend(found)
            taken.append(region)
            used.update(id(line) for line in inside)
            if not region.open_sides:
                grids.extend(found)
        elif not region.open_sides:
            left.append(region)
    free = [
        line
        for line in lines
        if not any(region.holds(line) for region in taken) and not is_vertical(line)
    ]
    by_id = {id(line): line for line in lines}
    for region, inside in unruled_regions(free):
        if has_drawings(region, drawings):
            continue
        for body in _tables(region, inside, [], []):
            joined = _under_header_grid(body, grids, by_id, horizontal, vertical)
            if joined is None:
                tables.append(body)
            else:
                header, table = joined
                tables.remove(header)
                grids.remove(header)
                tables.append(table)
    # A closed grid of one row is a table only once every larger table has taken its rows:
    # the last row of a table may be drawn as a grid of its own.
    used.update(member for table in tables for member in table.members)
    for region in left:
        inside = [line for line in lines if region.holds(line) and id(line) not in used]
        one_row = _one_row_table(region, inside, horizontal, vertical)
        if one_row is not None:
            tables.append(one_row)
            used.update(one_row.members)
    tables.sort(key=lambda table: table.bbox[1])
    return tables


def _under_header_grid(
    body: Table,
    grids: list[Table],
    by_id: dict[int, Line],
    horizontal: list[Rule],
    vertical: list[Rule],
) -> tuple[Table, Table] | None:
    """An unruled table whose header rows are drawn as a grid of their own just above it (a
    statistical table: "Total | Male | Female" over "Under 18 | 18 years and over" in boxes,
    the figures below without rules), as (that header grid, one table of both). The grid is
    the header when it spans the table and each of its inner vertical rules runs down one of
    the table's gutters."""
    x0, y0, x1, y1 = body.bbox
    body_lines = [by_id[member] for member in body.members if member in by_id]
    if not body_lines:
        return None
    height = sorted(line.bbox[3] - line.bbox[1] for line in body_lines)[len(body_lines) // 2]
    for header in grids:
        hx0, hy0, hx1, hy1 = header.bbox
        if len(header.rows) > MAX_HEADER_GRID_ROWS or not -SNAP <= y0 - hy1 <= 1.5 * height:
            continue
        if min(x1, hx1) - max(x0, hx0) < 0.8 * min(x1 - x0, hx1 - hx0):
            continue
        walls = [
            rule.at
            for rule in vertical
            if hx0 + SNAP < rule.at < hx1 - SNAP
            and rule.start <= hy0 + SNAP
            and rule.end >= hy1 - SNAP
        ]
        crossed = sum(
            1 for line in body_lines for x in walls if line.bbox[0] + 1 < x < line.bbox[2] - 1
        )
        if not walls or crossed > GUTTER_CROSSING_SHARE * len(body_lines):
            continue
        lines = body_lines + [by_id[member] for member in header.members if member in by_id]
        # The grid's top rule inside the region: the header's band is closed above and below,
        # so its wrapped lines are one row.
        top = min(y0, hy0) - 2 * SNAP
        region = _Region(
            min(x0, hx0), top, max(x1, hx1), max(y1, hy1), ruled=False, open_sides=True
        )
        # The header's rules only: a rule drawn beside a few rows further down is no box.
        boxes = [rule for rule in vertical if rule.start >= hy0 - SNAP and rule.end <= hy1 + SNAP]
        table = _table(region, lines, horizontal, boxes)
        if table is not None and len(table.rows) > len(body.rows):
            return header, table
    return None


# --- region → grid ----------------------------------------------------------------------------


def _tables(
    region: _Region, lines: list[Line], horizontal: list[Rule], vertical: list[Rule]
) -> list[Table]:
    """The region's table, or its tables where a line spanning the columns on a row of its
    own ("Billed To: ...", a section title) separates two of them."""
    if len(lines) < 2:
        return []
    edges = _column_edges(region, lines, vertical)
    rows = _rows(lines)
    body_size = sorted(line.size for line in lines)[len(lines) // 2]
    while rows and len(rows[0]) == 1 and _title(rows[0][0], edges, body_size):
        rows.pop(0)  # a title at the top of the box ("Positionsdaten") stays a heading
    parts: list[list[Line]] = [[]]
    for row in rows:
        if len(row) == 1 and _crossings(row[0], edges) >= 1 and parts[-1]:
            parts.append([])
            continue
        parts[-1].extend(row)
    if len(parts) == 1:
        table = _table(region, parts[0], horizontal, vertical)
        return [table] if table is not None else []
    tables = []
    for part in parts:
        if len(part) >= 2:
            x0, y0 = min(ln.bbox[0] for ln in part), min(ln.bbox[1] for ln in part)
            x1, y1 = max(ln.bbox[2] for ln in part), max(ln.bbox[3] for ln in part)
            sub = _Region(x0, y0, x1, y1, ruled=region.ruled, open_sides=True)
            table = _table(sub, part, horizontal, vertical)
            if table is not None:
                tables.append(table)
    return tables


def _title(line: Line, edges: list[float], body_size: float) -> bool:
    """A lone line over the columns, or set larger than the table's text."""
    return _crossings(line, edges) >= 1 or line.size > 1.1 * body_size


def _crossings(line: Line, edges: list[float]) -> int:
    return sum(1 for x in edges[1:-1] if line.bbox[0] + SNAP < x < line.bbox[2] - SNAP)


def _table(
    region: _Region, lines: list[Line], horizontal: list[Rule], vertical: list[Rule]
) -> Table | None:
    if len(lines) < 2:
        return None
    edges = _column_edges(region, lines, vertical)
    lines = _without_summary(lines, edges)
    if len(lines) < 2:
        return None
    if len(edges) < 3:
        return None
    halves = None if region.ruled else _wrapped_halves(lines, edges)
    if halves is None:
        rows = _grid_rows(region, lines, horizontal, edges, vertical)
    else:  # one table continued beside itself: its right half's rows go under the left's
        (left, left_edges), (right, right_edges) = halves
        rows = _grid_rows(region, left, horizontal, left_edges)
        below = _grid_rows(region, right, horizontal, right_edges)
        rows.extend(below[1:] if below and rows and below[0] == rows[0] else below)
    rows = [row for row in rows if any(row)]
    if len(rows) < MIN_TABLE_ROWS:
        return None
    rows = _drop_empty_columns(rows)
    if _right_to_left(rows):  # columns read from the right, as the table's text does
        rows = [row[::-1] for row in rows]
    # Two rows under a rule are a form's labels over their values, not a table, unless the
    # first is a header whose cells wrap onto several lines, each in its column.
    if region.open_sides and len(rows) < MIN_UNRULED_ROWS and region.header_band < 2:
        return None
    grid = region.ruled and not region.open_sides
    column = stacked_boxes(region, lines, horizontal, vertical, rows) if grid else None
    if column is not None:
        if any(len(row[0]) > MAX_STACKED_CELL_CHARS for row in column):
            return None  # boxed paragraphs (a form's notes), not the rows of a table
        rows = column
    elif not _looks_tabular(rows, ruled=region.ruled, grid=grid):
        return None
    bbox = (
        min(line.bbox[0] for line in lines),
        min(line.bbox[1] for line in lines),
        max(line.bbox[2] for line in lines),
        max(line.bbox[3] for line in lines),
    )
    if region.ruled and not region.open_sides:  # a closed grid: its frame is the table's box
        bbox = (
            min(bbox[0], region.x0),
            min(bbox[1], region.y0),
            max(bbox[2], region.x1),
            max(bbox[3], region.y1),
        )
    return Table(
        bbox=bbox,
        rows=tuple(tuple(row) for row in rows),
        members=frozenset(id(line) for line in lines),
    )


def _one_row_table(
    region: _Region, lines: list[Line], horizontal: list[Rule], vertical: list[Rule]
) -> Table | None:
    """A closed grid of one row with text in each of its two or more cells (``one_row_cells``),
    or a grid drawn with rows and columns whose text is one row (a merged cell over empty
    ones: ``text_row_of_grid``)."""
    row = one_row_cells(region, lines, vertical) or text_row_of_grid(
        region, lines, horizontal, vertical
    )
    if row is None or any(len(cell) > MAX_CELL_CHARS for cell in row):
        return None
    return Table(
        bbox=(region.x0, region.y0, region.x1, region.y1),
        rows=(row,),
        members=frozenset(id(line) for line in lines),
    )


def _without_summary(lines: list[Line], edges: list[float]) -> list[Line]:
    """The lines less a trailing summary block: rows under the items that leave the first
    column empty and hold only a label and its figure ("Subtotal  7,282.62", "Tax  364.13").
    They are key-value lines about the table, not rows of it, and stay text."""
    rows = _rows(lines)
    first_right = edges[1]
    kept = len(rows)
    while kept > MIN_TABLE_ROWS + 1:
        row = rows[kept - 1]
        if (
            len(row) == 2
            and row[0].bbox[0] >= first_right
            and not _numeric(row[0].text)
            and _numeric(row[1].text)
        ):
            kept -= 1
        else:
            break
    if kept == len(rows) or kept < len(rows) - 4:
        return lines
    return [line for row in rows[:kept] for line in row]


def _right_to_left(rows: list[list[str]]) -> bool:
    cells = [cell for row in rows for cell in row if any(char.isalpha() for char in cell)]
    rtl = sum(1 for cell in cells if has_rtl(cell))
    return bool(cells) and rtl * 2 > len(cells)


def _drop_empty_columns(rows: list[list[str]]) -> list[list[str]]:
    keep = [index for index in range(len(rows[0])) if any(row[index] for row in rows)]
    return [[row[index] for index in keep] for row in rows]


def _looks_tabular(rows: list[list[str]], *, ruled: bool, grid: bool = False) -> bool:
    """Whether the rows read as a table; ``grid``: every cell is boxed by rules."""
    columns = len(rows[0]) if rows else 0
    if columns < 2 or len(rows) < MIN_TABLE_ROWS:
        return False
    cells = [cell for row in rows for cell in row if cell]
    if any(len(cell) > MAX_CELL_CHARS for cell in cells):
        return False
    filled_rows = sum(1 for row in rows if sum(1 for cell in row if cell) >= 2)
    if filled_rows < MIN_FILLED_ROW_SHARE * len(rows):
        return False
    if len(cells) < MIN_FILLED_SHARE * columns * len(rows):
        return False  # labels scattered over a figure
    numbers = sum(1 for cell in cells if NUMBER.match(cell))
    lengths = sorted(len(cell) for cell in cells)
    median = lengths[len(lengths) // 2]
    if median <= 2 and numbers * 2 < len(cells) and not grid:
        return False  # one-letter labels and symbols: a diagram or a formula
    if _flows(rows):
        return False  # columns of running text
    if ruled:
        return True
    if median > MAX_MEDIAN_UNRULED_CELL:
        return False
    header_figures = rows[0][0] and any(char.isdigit() for cell in rows[0] for char in cell)
    if len(rows) < SMALL_TABLE_ROWS and header_figures:
        return False  # a few label/value rows (a form's fields, totals) without a header row
    if len(rows) < MIN_UNRULED_ROWS:
        return False
    # Unruled tables hold figures: a column (not the first, which may number the rows) mostly
    # numeric. Side-by-side blocks of labels and values, forms and prose stay text.
    body = rows[1:]
    numeric_columns = sum(
        1
        for index in range(1, columns)
        if sum(1 for row in body if _numeric(row[index])) * 2
        >= max(1, sum(1 for row in body if row[index]))
        and any(_numeric(row[index]) for row in body)
    )
    return numeric_columns != 0


def _numeric(cell: str) -> bool:
    text = CURRENCY.sub("", cell).strip()
    return bool(text) and bool(NUMBER.match(text) or DATE.match(text))


def _flows(rows: list[list[str]]) -> bool:
    """Whether the columns read as running text: cell after cell continues a sentence."""
    pairs = flowing = 0
    for upper, lower in itertools.pairwise(rows):
        for above, below in zip(upper, lower, strict=False):
            if len(above) >= MIN_FLOWING_CHARS and below:  # a line of prose, not a label
                pairs += 1
                if not above.endswith(SENTENCE_END) and below[:1].islower():
                    flowing += 1
    return pairs >= 4 and flowing >= FLOWING_SHARE * pairs
