"""Tables on a text-layer page: ruled, partly ruled (horizontal rules only) and unruled.

Everything works on what the page was already read into: the text lines (split at gutter-wide
gaps, so a table row comes as one line per cell) and the rules from the object scan. Nothing is
parsed again, so a page costs about as much as its line count, not a second parse.

1. **Candidates.** Rules that touch each other (a grid), and horizontal rules stacked with
   similar extents (a booktabs table: top, middle and bottom rule), outline rule regions. Outside
   them, runs of consecutive rows that each hold several cells aligned on the same column
   gutters are unruled candidates.
2. **Grid** (``pdf.table_grid``). Columns come from the vertical rules where they cross the
   region, and otherwise from the text's gutters (x-ranges that hardly any cell crosses); a
   header cell that spans several columns goes to the first of them. Rows come from the
   horizontal rules where every text row has its own, and otherwise from the text rows; a band
   between two rules whose first column holds a single entry is one row of wrapped cells.
3. **Checks.** At least two rows and two columns, cells short, most rows filled in more than one
   column; an unruled candidate needs three columns (or two with numbers in them), so two
   columns of prose or a list of "label: value" lines stay text. A line wider than the columns
   below the last row (a note or footnote) ends an unruled table.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.processors.convert.layout.lines import (
    SENTENCE_END,
    Line,
    has_rtl,
    is_vertical,
    list_marker,
)
from pagemill.processors.convert.pdf.objects import Rule
from pagemill.processors.convert.pdf.table_grid import (
    NUMBER,
    SNAP,
    _column_edges,
    _grid_rows,
    _Region,
    _rows,
    _wrapped_halves,
    one_row_cells,
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
MIN_UNRULED_ROWS = 3
MIN_UNRULED_COLUMNS = 3
SMALL_TABLE_ROWS = 6  # fewer unruled rows than this need a header row (no figures in it)
MAX_CELL_CHARS = 400  # a longer "cell" is a paragraph: the region is not a table
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
    horizontal = _merge([rule for rule in rules if rule.horizontal])
    vertical = _merge([rule for rule in rules if not rule.horizontal])
    tables: list[Table] = []
    taken: list[_Region] = []
    used: set[int] = set()  # lines already in a table (nested or duplicated rule groups)
    runs = _unruled_regions([line for line in lines if not is_vertical(line)])
    left: list[_Region] = []
    for region in _ruled_regions(horizontal, vertical, lines):
        if _has_drawings(region, drawings):
            continue
        if region.open_sides:
            _extend(region, runs)
        inside = [line for line in lines if region.holds(line) and id(line) not in used]
        found = _tables(region, inside, horizontal, vertical)
        if found:
            tables.extend(found)
            taken.append(region)
            used.update(id(line) for line in inside)
        elif not region.open_sides:
            left.append(region)
    free = [
        line
        for line in lines
        if not any(region.holds(line) for region in taken) and not is_vertical(line)
    ]
    for region, inside in _unruled_regions(free):
        if _has_drawings(region, drawings):
            continue
        tables.extend(_tables(region, inside, [], []))
    # A closed grid of one row is a table only once every larger table has taken its rows:
    # the last row of a table may be drawn as a grid of its own.
    used.update(member for table in tables for member in table.members)
    for region in left:
        inside = [line for line in lines if region.holds(line) and id(line) not in used]
        one_row = _one_row_table(region, inside, vertical)
        if one_row is not None:
            tables.append(one_row)
            used.update(one_row.members)
    tables.sort(key=lambda table: table.bbox[1])
    return tables


def _extend(region: _Region, runs: list[tuple[_Region, list[Line]]]) -> None:
    """Rules drawn only between rows leave the header above the first rule and the last rows
    below the last: grow the region down the run of aligned rows it belongs to, and up by the
    one row just above its first rule (the header; rows further up are another block)."""
    for run, inside in runs:
        if not any(region.holds(line) for line in inside):
            continue
        above = [row for row in _rows(inside) if max(ln.center_y for ln in row) < region.y0]
        top = min(ln.bbox[1] for ln in above[-1]) if above else region.y0
        region.x0, region.x1 = min(region.x0, run.x0), max(region.x1, run.x1)
        region.y0, region.y1 = min(region.y0, top), max(region.y1, run.y1)


def _has_drawings(region: _Region, drawings: Sequence[BBox]) -> bool:
    area = max(1.0, (region.x1 - region.x0) * (region.y1 - region.y0))
    covered = 0.0
    for x0, y0, x1, y1 in drawings:
        w = min(x1, region.x1) - max(x0, region.x0)
        h = min(y1, region.y1) - max(y0, region.y0)
        if w > 0 and h > 0:
            covered += w * h
    return covered >= 0.2 * area


# --- rules → regions ----------------------------------------------------------------------------


def _merge(rules: list[Rule]) -> list[Rule]:
    """Collinear pieces of one rule joined (tables are often drawn cell edge by cell edge)."""
    merged: list[Rule] = []
    for rule in sorted(rules, key=lambda r: (round(r.at / SNAP), r.start)):
        last = merged[-1] if merged else None
        if last is not None and abs(last.at - rule.at) <= SNAP and rule.start <= last.end + SNAP:
            merged[-1] = Rule(last.horizontal, last.at, last.start, max(last.end, rule.end))
        else:
            merged.append(rule)
    return merged


def _ruled_regions(
    horizontal: list[Rule], vertical: list[Rule], lines: Sequence[Line]
) -> list[_Region]:
    """Connected groups of rules: grids, and horizontal rules stacked with similar extents."""
    rules = horizontal + vertical
    parent = list(range(len(rules)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    offset = len(horizontal)
    crossed: set[int] = set()  # horizontal rules that meet a vertical one: part of a grid
    for i, h in enumerate(horizontal):
        for j, v in enumerate(vertical):
            if v.start - SNAP <= h.at <= v.end + SNAP and h.start - SNAP <= v.at <= h.end + SNAP:
                union(i, offset + j)
                crossed.add(i)
    # Stacked horizontal rules of about the same extent bound one table (rules without
    # verticals). Grids are whole on their own: stacking them would merge tables drawn one
    # under another.
    ordered = sorted(
        (i for i in range(len(horizontal)) if i not in crossed), key=lambda i: horizontal[i].at
    )
    for a, b in itertools.pairwise(ordered):
        first, second = horizontal[a], horizontal[b]
        overlap = min(first.end, second.end) - max(first.start, second.start)
        longest = max(first.end - first.start, second.end - second.start)
        if (
            overlap >= 0.8 * longest
            and second.at - first.at > SNAP
            and _one_block(lines, first.at, second.at)
        ):
            union(a, b)
    groups: dict[int, list[Rule]] = {}
    for index, rule in enumerate(rules):
        groups.setdefault(find(index), []).append(rule)
    regions: list[_Region] = []
    for group in groups.values():
        hs = [rule for rule in group if rule.horizontal]
        vs = [rule for rule in group if not rule.horizontal]
        if len(hs) < 2 and len(vs) < 2:
            continue
        xs = [r.start for r in hs] + [r.end for r in hs] + [r.at for r in vs]
        ys = [r.at for r in hs] + [r.start for r in vs] + [r.end for r in vs]
        region = _Region(min(xs), min(ys), max(xs), max(ys), ruled=True, open_sides=not vs)
        if region.x1 - region.x0 > 2 * SNAP and region.y1 - region.y0 > 2 * SNAP:
            regions.append(region)
    return regions


def _one_block(lines: Sequence[Line], top: float, bottom: float) -> bool:
    """Whether the text rows between two rules follow each other without a paragraph-sized
    gap: two boxes drawn one under the other, with a line of text between, are two blocks."""
    rows = _rows([line for line in lines if top < line.center_y < bottom])
    for upper, lower in itertools.pairwise(rows):
        height = max(line.bbox[3] - line.bbox[1] for line in upper)
        gap = min(line.bbox[1] for line in lower) - max(line.bbox[3] for line in upper)
        if gap > 1.5 * height:
            return False
    return True


# --- unruled candidates ---------------------------------------------------------------------------


def _unruled_regions(lines: Sequence[Line]) -> list[tuple[_Region, list[Line]]]:
    """Runs of rows with several cells each; a single line may sit inside the run (a wrapped
    cell) when it lies within one column of the rows around it."""
    found: list[tuple[_Region, list[Line]]] = []
    run: list[list[Line]] = []

    def close() -> None:
        while run and len(run[-1]) < 2:
            run.pop()  # a run ends on a row of cells, never on a lone line
        if sum(1 for row in run if len(row) >= 2) >= MIN_UNRULED_ROWS:
            inside = [line for row in run for line in row]
            x0 = min(line.bbox[0] for line in inside)
            x1 = max(line.bbox[2] for line in inside)
            y0 = min(line.bbox[1] for line in inside)
            y1 = max(line.bbox[3] for line in inside)
            found.append((_Region(x0, y0, x1, y1, ruled=False), inside))
        run.clear()

    previous_bottom = None
    gaps: list[float] = []  # between the rows of the current run
    for row in _rows(lines):
        top = min(line.bbox[1] for line in row)
        height = max(line.bbox[3] - line.bbox[1] for line in row)
        gap = top - previous_bottom if previous_bottom is not None else 0.0
        if previous_bottom is not None and (
            gap > 2.5 * height or (len(row) >= 2 and _new_block(row, run, gap, gaps, height))
        ):
            close()  # a wide vertical gap, or a block of another shape: the table ended
            gaps.clear()
        elif run:
            gaps.append(gap)
        previous_bottom = max(line.bbox[3] for line in row)
        cells = len(row) >= 2 and not _is_prose_row(row)
        if cells or (run and len(row) == 1 and _within_a_column(row[0], run)):
            run.append(row)
        else:
            close()
    close()
    return found


def _new_block(
    row: list[Line], run: list[list[Line]], gap: float, gaps: list[float], height: float
) -> bool:
    """A row set apart by more space than the run's rows, whose cells line up with few of the
    recent rows' cells or whose cell count differs, starts another block (an address block
    above line items)."""
    if not gaps:
        return False
    usual = sorted(gaps)[len(gaps) // 2]
    if gap <= max(usual + 0.5 * height, 1.5 * usual):
        return False
    recent = [cell for previous in run[-3:] for cell in previous]
    aligned = sum(1 for cell in row if any(_aligned(cell, other) for other in recent))
    cells = [len(previous) for previous in run if len(previous) >= 2]
    return aligned * 2 <= len(row) or (bool(cells) and cells[-1] != len(row))


def _aligned(a: Line, b: Line) -> bool:
    return (
        abs(a.bbox[0] - b.bbox[0]) <= SNAP
        or abs(a.bbox[2] - b.bbox[2]) <= SNAP
        or abs(a.center_x - b.center_x) <= SNAP
    )


def _is_prose_row(row: list[Line]) -> bool:
    # A list marker with its text, or a label followed by a long sentence, is not a table row.
    return len(row) == 2 and (list_marker(row[0].text) or row[1].chars > 2 * MAX_CELL_CHARS // 5)


def _within_a_column(line: Line, run: list[list[Line]]) -> bool:
    cells = [cell for row in run[-3:] for cell in row if len(row) >= 2]
    return any(
        line.bbox[0] >= cell.bbox[0] - SNAP and line.bbox[2] <= _cell_limit(cell, run) + SNAP
        for cell in cells
    )


def _cell_limit(cell: Line, run: list[list[Line]]) -> float:
    """How far right a column may reach: to the next cell on the cell's row."""
    for row in run:
        if cell in row:
            index = row.index(cell)
            return row[index + 1].bbox[0] if index + 1 < len(row) else cell.bbox[2] + 4 * cell.size
    return cell.bbox[2]


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
    # Two rows under a rule are a form's labels over their values, not a table.
    if region.open_sides and len(rows) < MIN_UNRULED_ROWS:
        return None
    grid = region.ruled and not region.open_sides
    if not _looks_tabular(rows, ruled=region.ruled, grid=grid):
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


def _one_row_table(region: _Region, lines: list[Line], vertical: list[Rule]) -> Table | None:
    """A closed grid of one row with text in each of its two or more cells (``one_row_cells``)."""
    row = one_row_cells(region, lines, vertical)
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
