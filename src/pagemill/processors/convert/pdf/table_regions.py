"""Table candidates on a text-layer page: the regions ``pdf.tables`` looks for tables in.

Rules that touch each other (a grid), and horizontal rules stacked with similar extents (a
booktabs table: top, middle and bottom rule), outline ruled regions; a region drawn with
horizontal rules only grows over the aligned rows just outside it. Outside ruled regions, runs
of consecutive rows that each hold several cells aligned on the same column gutters are unruled
candidates. Regions mostly covered by curved or slanted drawings are figures.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from pagemill.processors.convert.layout.lines import Line, list_marker
from pagemill.processors.convert.pdf.objects import Rule
from pagemill.processors.convert.pdf.table_grid import SNAP, _Region, _rows
from pagemill.processors.document import BBox

MIN_UNRULED_ROWS = 3
MAX_HEADER_LINES = 3  # a header cell wraps onto at most this many lines
HEADER_LEADING = 0.6  # line heights between a header's wrapped lines at most
PROSE_CELL_CHARS = 160  # a label followed by this long a text is a sentence: the row is prose


def extend_region(region: _Region, runs: list[tuple[_Region, list[Line]]]) -> None:
    """Rules drawn only between rows leave the header above the first rule and the last rows
    below the last: grow the region down the run of aligned rows it belongs to, and up over the
    header just above its first rule (``header_rows``; rows further up are another block)."""
    for run, inside in runs:
        if not any(region.holds(line) for line in inside):
            continue
        above = [row for row in _rows(inside) if max(ln.center_y for ln in row) < region.y0]
        header = header_rows(above)
        top = min(ln.bbox[1] for row in header for ln in row) if header else region.y0
        region.header_band = len(header)
        region.x0, region.x1 = min(region.x0, run.x0), max(region.x1, run.x1)
        region.y0, region.y1 = min(region.y0, top), max(region.y1, run.y1)


def grow_over_header(region: _Region, lines: Sequence[Line]) -> None:
    """Grow a region drawn with horizontal rules only, that no run of aligned rows reaches,
    up over the header band set just above its first rule (a table of one or two data rows
    under a header whose cells wrap: too few rows for a run)."""
    if region.header_band:
        return
    above = [
        line
        for line in lines
        if line.bbox[3] <= region.y0 + SNAP
        and line.bbox[0] >= region.x0 - SNAP
        and line.bbox[2] <= region.x1 + SNAP
    ]
    rows = _rows(above)
    if not rows:
        return
    height = max(line.bbox[3] - line.bbox[1] for line in rows[-1])
    if region.y0 - max(line.bbox[3] for line in rows[-1]) > height:
        return  # set apart from the rule: a block of its own
    header = header_rows(rows)
    region.header_band = len(header)
    region.y0 = min(line.bbox[1] for row in header for line in row)


def header_rows(above: list[list[Line]]) -> list[list[Line]]:
    """The header band at the foot of ``above`` (the rows over a table's first rule): its last
    row, and the rows over it while they are set solid in the same type and every line of the
    row below stands under a line of the row above (header cells wrapped onto several lines,
    each cell's lines stacked in its column: "Booked and / interest / date"). Each row over
    another holds several cells: lines of prose stand over each other one by one."""
    if not above:
        return []
    band = [above[-1]]
    for upper in reversed(above[:-1]):
        if len(band) > MAX_HEADER_LINES - 1:
            break
        lower = band[0]
        height = max(line.bbox[3] - line.bbox[1] for line in upper)
        gap = min(line.bbox[1] for line in lower) - max(line.bbox[3] for line in upper)
        sizes = {line.size for line in upper} | {line.size for line in lower}
        cells = len(upper) >= max(2, len(lower))
        stacked = cells and all(any(_overlaps(line, over) for over in upper) for line in lower)
        if gap > HEADER_LEADING * height or len(sizes) > 1 or not stacked:
            break
        band.insert(0, upper)
    return band


def _overlaps(a: Line, b: Line) -> bool:
    return min(a.bbox[2], b.bbox[2]) - max(a.bbox[0], b.bbox[0]) > 0


def has_drawings(region: _Region, drawings: Sequence[BBox]) -> bool:
    area = max(1.0, (region.x1 - region.x0) * (region.y1 - region.y0))
    covered = 0.0
    for x0, y0, x1, y1 in drawings:
        w = min(x1, region.x1) - max(x0, region.x0)
        h = min(y1, region.y1) - max(y0, region.y0)
        if w > 0 and h > 0:
            covered += w * h
    return covered >= 0.2 * area


# --- rules → regions ----------------------------------------------------------------------------


def merge_rules(rules: list[Rule]) -> list[Rule]:
    """Collinear pieces of one rule joined (tables are often drawn cell edge by cell edge)."""
    merged: list[Rule] = []
    for rule in sorted(rules, key=lambda r: (round(r.at / SNAP), r.start)):
        last = merged[-1] if merged else None
        if last is not None and abs(last.at - rule.at) <= SNAP and rule.start <= last.end + SNAP:
            merged[-1] = Rule(last.horizontal, last.at, last.start, max(last.end, rule.end))
        else:
            merged.append(rule)
    return merged


def ruled_regions(
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


def unruled_regions(lines: Sequence[Line]) -> list[tuple[_Region, list[Line]]]:
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
            gap > 2.5 * height
            or (len(row) >= 2 and _new_block(row, run, gap, gaps, height))
            or _beside(row, run)
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


def _beside(row: list[Line], run: list[list[Line]]) -> bool:
    """Whether none of the row's lines lies under the columns of the run's recent rows (a
    heading and its tag set off to the side, just under a small table)."""
    cells = [cell for previous in run[-3:] for cell in previous]
    if len(run) < 2 or not cells:
        return False
    return not any(
        min(line.bbox[2], cell.bbox[2]) > max(line.bbox[0], cell.bbox[0])
        for line in row
        for cell in cells
    )


def _aligned(a: Line, b: Line) -> bool:
    return (
        abs(a.bbox[0] - b.bbox[0]) <= SNAP
        or abs(a.bbox[2] - b.bbox[2]) <= SNAP
        or abs(a.center_x - b.center_x) <= SNAP
    )


def _is_prose_row(row: list[Line]) -> bool:
    # A list marker with its text, or a label followed by a long sentence, is not a table row.
    return len(row) == 2 and (list_marker(row[0].text) or row[1].chars > PROSE_CELL_CHARS)


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
