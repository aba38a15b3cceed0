"""Table grids: column boundaries from rules and gutters, rows from rules and text rows, and
the cells of each row (``pdf.tables`` decides where tables are and whether a grid is one).

A column boundary is a vertical rule that runs through the region (its segments at one x
counted together: a rule broken where a cell spans it still divides the columns) or a gutter
that (almost) no line crosses. A cell spanning several columns goes to the first one: in a ruled
table the first column of the box around it. A header line wider than its figures, lying mostly
in the next column, is that column's.
A long unruled table continued beside itself is read as one table, its right half's rows under
its left half's.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pagemill.processors.convert.layout.blocks import join_lines
from pagemill.processors.convert.layout.lines import Line, has_rtl, is_vertical
from pagemill.processors.convert.pdf.objects import Rule

SNAP = 3.0  # points: rules this close touch or line up
NUMBER = re.compile(r"^[\s$€£¥(+\-–−]*[\d.,]+[\s%)*]*$")  # noqa: RUF001 - minus signs
GUTTER_CROSSING_SHARE = 0.12  # a gutter may be crossed by this share of rows (spanning headers)
MIN_GUTTER = 2.0
WRAPPED_GAP_RATIO = 2.0  # a table set in two page columns: the gap between them is this wider


@dataclass(slots=True)
class _Region:
    x0: float
    y0: float
    x1: float
    y1: float
    ruled: bool  # bounded by rules (the lines inside belong to it even if sparse)
    open_sides: bool = False  # horizontal rules only: rows may sit just above or below them
    # Text rows of the header band just above the first rule, wrapped cells joined into one
    # row (``table_regions.grow_over_header``); 0 where the region has no such band.
    header_band: int = 0

    def holds(self, line: Line) -> bool:
        cx, cy = line.center_x, line.center_y
        return self.x0 - 1 <= cx <= self.x1 + 1 and self.y0 - 1 <= cy <= self.y1 + 1


def _rows(lines: Sequence[Line]) -> list[list[Line]]:
    """Lines that share a row (their vertical centres within half a line), left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: line.center_y):
        if rows:
            last = rows[-1]
            height = max(1.0, last[0].bbox[3] - last[0].bbox[1])
            if abs(line.center_y - last[0].center_y) <= 0.5 * height:
                last.append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda line: line.bbox[0]) for row in rows]


def _wrapped_halves(
    lines: list[Line], edges: list[float]
) -> tuple[tuple[list[Line], list[float]], tuple[list[Line], list[float]]] | None:
    """A long unruled table set in two columns of the page (rows 1-24 on the left, 25-44 on
    the right) reads as twice its columns side by side. It is that when the columns split
    into two halves of equal count, the white space between the halves is far wider than any
    other gap between columns, and each column of the right half holds the same kind of
    content (figures or words) as its counterpart on the left."""
    columns = len(edges) - 1
    if columns < 4 or columns % 2:
        return None
    cells: list[list[Line]] = [[] for _ in range(columns)]
    for line in lines:
        cells[max(0, min(columns - 1, _column_at(line.center_x, edges)))].append(line)
    if any(not column for column in cells):
        return None
    extents = [
        (min(ln.bbox[0] for ln in column), max(ln.bbox[2] for ln in column)) for column in cells
    ]
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(extents)]
    half = columns // 2
    middle = gaps[half - 1]
    others = gaps[: half - 1] + gaps[half:]
    size = max(line.size for line in lines)
    if middle < max(WRAPPED_GAP_RATIO * max(others), 2 * size):
        return None
    for left, right in zip(cells[:half], cells[half:], strict=True):
        if abs(_numeric_share(left) - _numeric_share(right)) > 0.5:
            return None
    cut = (extents[half - 1][1] + extents[half][0]) / 2
    left_lines = [line for column in cells[:half] for line in column]
    right_lines = [line for column in cells[half:] for line in column]
    return (left_lines, [*edges[:half], cut]), (right_lines, [cut, *edges[half + 1 :]])


def _numeric_share(lines: list[Line]) -> float:
    return sum(1 for line in lines if NUMBER.match(line.text)) / len(lines)


def _column_edges(region: _Region, lines: list[Line], vertical: list[Rule]) -> list[float]:
    """x positions of the column boundaries, outer edges included."""
    # A rule broken where cells merge across it (drawn as one segment per row) still marks a
    # column: its segments at one x count together.
    inside = sorted(rule.at for rule in vertical if region.x0 - SNAP <= rule.at <= region.x1 + SNAP)
    crossing = [x for x in _dedupe(inside) if _rule_spans(vertical, x, region, 0.3)]
    ruled = _dedupe(sorted(crossing))
    inner_rules = [x for x in ruled if region.x0 + SNAP < x < region.x1 - SNAP]
    full = len(inner_rules) >= 1 and all(_rule_spans(vertical, x, region, 0.8) for x in inner_rules)
    edges = [region.x0, *inner_rules, region.x1]
    if not full:  # partly ruled or unruled: the text's gutters are column boundaries too
        for gutter in _gutters(lines):
            if all(abs(gutter - x) > 2 * SNAP for x in edges):
                edges.append(gutter)
    left = min(region.x0, *(line.bbox[0] for line in lines))
    right = max(region.x1, *(line.bbox[2] for line in lines))
    edges = [left, *(x for x in edges if left + SNAP < x < right - SNAP), right]
    return _dedupe(sorted(edges))


def _rule_spans(vertical: list[Rule], x: float, region: _Region, share: float) -> bool:
    height = region.y1 - region.y0
    covered = sum(
        min(rule.end, region.y1) - max(rule.start, region.y0)
        for rule in vertical
        if abs(rule.at - x) <= SNAP and rule.end > region.y0 and rule.start < region.y1
    )
    return covered >= share * height


def _gutters(lines: list[Line]) -> list[float]:
    """Centres of x-ranges that (almost) no line crosses, between the lines' extremes."""
    rows = _rows(lines)
    allowed = int(GUTTER_CROSSING_SHARE * len(rows))
    left = min(line.bbox[0] for line in lines)
    right = max(line.bbox[2] for line in lines)
    # Sweep the line edges: how many lines cover each stretch of x.
    events: list[tuple[float, int]] = []
    for line in lines:
        events.append((line.bbox[0], 1))
        events.append((line.bbox[2], -1))
    events.sort()
    gutters: list[float] = []
    depth = 0
    open_at: float | None = None
    for x, delta in events:
        before = depth
        depth += delta
        if before > allowed >= depth:
            open_at = x
        elif before <= allowed < depth and open_at is not None:
            if x - open_at >= MIN_GUTTER and left < open_at and x < right:
                gutters.append((open_at + x) / 2)
            open_at = None
    return gutters


def _grid_rows(
    region: _Region,
    lines: list[Line],
    horizontal: list[Rule],
    edges: list[float],
    vertical: Sequence[Rule] = (),
) -> list[list[str]]:
    columns = len(edges) - 1
    separators = _separators(region, horizontal, vertical)
    bands = _bands(lines, separators)
    grid: list[list[str]] = []
    for number, band in enumerate(bands):
        if not band:
            continue
        cells_by_row = [_cells(row, edges, columns, vertical) for row in band]
        # Only a band closed by rules above and below holds one row of wrapped cells.
        closed = not region.open_sides or 0 < number < len(bands) - 1
        # The band above the first rule that is a header's wrapped lines is one row too.
        header = number == 0 and len(band) == region.header_band > 1
        wrapped = header or (closed and _one_wrapped_row(cells_by_row))
        if len(band) > 1 and separators and wrapped:
            merged: list[list[Line]] = [[] for _ in range(columns)]
            for cells in cells_by_row:
                for index, cell in enumerate(cells):
                    merged[index].extend(cell)
            grid.append([_cell_text(cell) for cell in merged])
        else:
            for cells in cells_by_row:
                texts = [_cell_text(cell) for cell in cells]
                if grid and _continues(grid[-1], texts):
                    grid[-1] = [
                        join_lines((a, b)) if b else a for a, b in zip(grid[-1], texts, strict=True)
                    ]
                elif grid and _label_wraps_onto(grid[-1], texts):
                    grid[-1] = [join_lines((grid[-1][0], texts[0])), *texts[1:]]
                else:
                    grid.append(texts)
    return grid


def _separators(
    region: _Region, horizontal: Sequence[Rule], vertical: Sequence[Rule] = ()
) -> list[float]:
    """The y of the horizontal rules that divide the region's rows: across half its width, or
    from one vertical rule to another (a cell's own border, where a cell merged over two rows
    beside it leaves the rule short). An underline touches no vertical rule at either end."""
    return sorted(
        rule.at
        for rule in horizontal
        if region.y0 + SNAP < rule.at < region.y1 - SNAP
        and (
            min(rule.end, region.x1) - max(rule.start, region.x0) >= 0.5 * (region.x1 - region.x0)
            or (_meets(rule, rule.start, vertical) and _meets(rule, rule.end, vertical))
        )
    )


def _meets(rule: Rule, x: float, vertical: Sequence[Rule]) -> bool:
    return any(
        abs(wall.at - x) <= SNAP and wall.start - SNAP <= rule.at <= wall.end + SNAP
        for wall in vertical
    )


def _bands(lines: list[Line], separators: list[float]) -> list[list[list[Line]]]:
    """The text rows between each two separators (a band may be empty)."""
    bands: list[list[list[Line]]] = [[]]
    boundary = 0
    for row in _rows(lines):
        while boundary < len(separators) and separators[boundary] < min(
            line.center_y for line in row
        ):
            boundary += 1
            bands.append([])
        bands[-1].append(row)
    return bands


def stacked_boxes(
    region: _Region,
    lines: list[Line],
    horizontal: Sequence[Rule],
    vertical: Sequence[Rule],
    rows: list[list[str]],
) -> list[list[str]] | None:
    """A closed grid whose every row holds one entry, each row in a box of its own (a table of
    one column, or a table nested in a cell: its rows indented inside the outer cell's frame),
    as one column of rows; ``None`` if the grid is not that."""
    if len(rows) < 2 or any(sum(1 for cell in row if cell) != 1 for row in rows):
        return None
    bands = [band for band in _bands(lines, _separators(region, horizontal, vertical)) if band]
    if len(bands) != len(rows):
        return None
    return [[next(cell for cell in row if cell)] for row in rows]


def _one_wrapped_row(cells_by_row: list[list[list[Line]]]) -> bool:
    """Whether the text rows of a band between two rules are one row of wrapped cells: the
    first column holds a single entry, no more than one text row fills half the columns (a
    name over its code point in small type, tall example glyphs beside them), or no column is
    filled on every text row (cells anchored at different heights, each wrapped: a slide's
    header row). Rows of data under a lone header rule fill most columns each, and their
    first column on every row."""
    if sum(1 for cells in cells_by_row if cells[0]) <= 1:
        return True
    columns = len(cells_by_row[0])
    half = max(2, (columns + 1) // 2)
    if sum(1 for cells in cells_by_row if sum(1 for cell in cells if cell) >= half) <= 1:
        return True
    return not any(all(cells[index] for cells in cells_by_row) for index in range(columns))


UNFINISHED = re.compile(
    r"(?:[,=+&/(\-–—]|\b(?:and|or|of|the|a|an|for|to|in|on|at|by|with|from|per|und|der|die|das|des|et|de|la|le|du|y|el))$",  # noqa: RUF001
    re.IGNORECASE,
)


def _continues(above: list[str], row: list[str]) -> bool:
    """A row that only wraps cells of the row above: every cell it fills continues the cell
    above it (starts in lower case, or the cell above stops mid-phrase)."""
    filled = [index for index, cell in enumerate(row) if cell]
    if not filled or len(filled) * 2 > len(row) or len(filled) >= sum(1 for c in above if c):
        return False
    return all(
        above[index]
        and not NUMBER.match(row[index])
        and (row[index][:1].islower() or bool(UNFINISHED.search(above[index])))
        for index in filled
    )


def _label_wraps_onto(above: list[str], row: list[str]) -> bool:
    """A row label too long for its column, wrapped onto the row of its figures ("Murder and
    nonnegligent" over "manslaughter . . . 10.0 0.9 ..."): the row above holds the label's
    start alone, and this row's label goes on in lower case."""
    return (
        bool(above[0])
        and not any(above[1:])
        and not NUMBER.match(above[0])
        and row[0][:1].islower()
        and any(row[1:])
    )


def _cells(
    row: list[Line], edges: list[float], columns: int, vertical: Sequence[Rule] = ()
) -> list[list[Line]]:
    cells: list[list[Line]] = [[] for _ in range(columns)]
    for line in row:
        # A cell spanning several columns (a merged header) goes to the first one it starts in:
        # in a ruled table that is where the box around it starts (the nearest rule on its
        # left that runs through its row), wherever the text is centred in the box. (Placing
        # lines side by side in one box under the columns they stand over helped one census
        # header and cost a ledger, unseen while it was written, most of its cells: dropped.)
        start = line.bbox[0] + min(SNAP, (line.bbox[2] - line.bbox[0]) / 2)
        box_left = _box_left(line, vertical)
        boxed = box_left is not None
        if box_left is not None:
            start = box_left + SNAP
        index = max(0, min(columns - 1, _column_at(start, edges)))
        # A header wider than the figures under it (set flush right with them) reaches into
        # the column on its left: ending in the next column, and lying more than twice as
        # much in it, it is that column's.
        if (
            not boxed
            and index + 2 < len(edges)
            and line.bbox[2] <= edges[index + 2] + SNAP
            and line.bbox[2] - edges[index + 1] > 2 * (edges[index + 1] - line.bbox[0])
        ):
            index += 1
        cells[index].append(line)
    return cells


def _box_left(line: Line, vertical: Sequence[Rule]) -> float | None:
    middle = line.center_y
    lefts = [
        rule.at
        for rule in vertical
        if rule.at <= line.bbox[0] + SNAP and rule.start - SNAP <= middle <= rule.end + SNAP
    ]
    return max(lefts) if lefts else None


def _column_at(x: float, edges: list[float]) -> int:
    for index in range(len(edges) - 1):
        if x < edges[index + 1]:
            return index
    return len(edges) - 2


def _cell_text(lines: list[Line]) -> str:
    ordered = sorted(lines, key=lambda line: (round(line.center_y), line.bbox[0]))
    # A bullet glyph in a cell (office exports draw list bullets as separate glyphs) is not
    # cell content.
    parts: list[str] = []
    previous: Line | None = None
    for line in ordered:
        part = DOT_LEADER.sub("", BULLET_GLYPH.sub("", line.text.strip()))
        if part and parts and previous is not None and _touches(previous, line):
            parts[-1] += part  # one word drawn in two pieces ("U" + "+0600" in another font)
        elif part:
            parts.append(part)
        previous = line
    return join_lines(parts)


def _touches(left: Line, right: Line) -> bool:
    """Whether ``right`` goes on the word ``left`` ends: same row, no gap, no space between
    (left-to-right text only: a right-to-left line's pieces are ordered on their own)."""
    if left.text.endswith(" ") or has_rtl(left.text) or has_rtl(right.text):
        return False
    overlap = min(left.bbox[3], right.bbox[3]) - max(left.bbox[1], right.bbox[1])
    gap = right.bbox[0] - left.bbox[2]
    size = max(left.size, right.size, 1.0)
    return overlap > 0.5 * min(left.bbox[3] - left.bbox[1], right.bbox[3] - right.bbox[1]) and (
        -0.05 * size <= gap <= 0.05 * size
    )


BULLET_GLYPH = re.compile(r"^[•●○◦▪▫■□‣⁃∙·](?:\s+|$)")  # noqa: RUF001


DOT_LEADER = re.compile(r"\s*(?:\.\s?){3,}$|^(?:\.\s?){3,}\s*")  # "Total ........"


def _dedupe(values: list[float]) -> list[float]:
    out: list[float] = []
    for value in values:
        if not out or value - out[-1] > SNAP:
            out.append(value)
    return out


def one_row_cells(
    region: _Region, lines: list[Line], vertical: Sequence[Rule]
) -> tuple[str, ...] | None:
    """The cells of a closed grid of one row with text in each of its two or more cells: a
    table of one row (an office export draws a page header as "Left | Right" in ruled cells),
    which read as text would be one paragraph per cell. Only the vertical rules that cross the
    whole row split it: the text's gutters would split a long cell at its word spaces."""
    if not lines or len(_rows(lines)) != 1 or any(is_vertical(line) for line in lines):
        return None
    walls = [
        rule.at
        for rule in vertical
        if region.x0 + SNAP < rule.at < region.x1 - SNAP
        and rule.start <= region.y0 + SNAP
        and rule.end >= region.y1 - SNAP
    ]
    edges = [region.x0, *sorted(walls), region.x1]
    cells: list[list[Line]] = [[] for _ in edges[1:]]
    for line in sorted(lines, key=lambda ln: ln.bbox[0]):
        cells[sum(1 for x in edges[1:-1] if x <= line.center_x)].append(line)
    if len(cells) < 2 or not all(cells):
        return None
    return tuple(" ".join(line.text for line in cell) for cell in cells)


def text_row_of_grid(
    region: _Region, lines: list[Line], horizontal: Sequence[Rule], vertical: Sequence[Rule]
) -> tuple[str, ...] | None:
    """The one row of text of a closed grid drawn with two or more rows and columns: a slide's
    table whose merged first cell holds the only text. A grid of boxes is a table even where
    its cells are empty; ``None`` where the region is no such grid or its text fills more
    than one row."""
    if not lines or len(_rows(lines)) != 1 or any(is_vertical(line) for line in lines):
        return None
    if not _separators(region, horizontal):
        return None
    edges = _column_edges(region, lines, list(vertical))
    if len(edges) < 3 or not all(_rule_spans(list(vertical), x, region, 0.3) for x in edges):
        return None  # every column boundary drawn: no gutter of the text's own
    rows = _grid_rows(region, lines, list(horizontal), edges, vertical)
    if len(rows) != 1:
        return None
    return tuple(rows[0])
