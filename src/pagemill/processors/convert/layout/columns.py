"""Columns and reading order: which lines share a column, and in which order columns are read.

Columns are found from the x-ranges of the narrow body lines (a vertical gutter that no such line
crosses; heading-like lines do not vote). A column reaches up to the next gutter, so a table or
picture as wide as its column stays in it. Lines and atoms wider than that (titles, wide tables)
span the columns and cut the page into bands, and so do section titles that fit in one column
and the short last line of a wrapped spanning title. Each band is read column by column
(``layout.lines.group_column`` makes the paragraphs).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pagemill.processors.convert.layout.lines import (
    SENTENCE_END,
    Atom,
    Group,
    Line,
    center_y,
    continues,
    group_column,
)

NARROW_SHARE = 0.55  # lines narrower than this share of the text width may sit in a column
MIN_GUTTER = 6.0
MIN_COLUMN_LINES = 3
MIN_COLUMN_LINE_CHARS = 12  # column text is prose; an unruled table's cells are shorter
MAX_COLUMNS = 3
NOTE_SIZE_GAP = 1.0  # points smaller than the body: a footnote
GUTTER_CROSSINGS = 0.04  # share of the voting lines that may cross a gutter
FIGURE = re.compile(  # an amount or a count, with its currency
    r"^(?:[A-Z]{3}\s)?[\s$€£¥(+\-–−]*[\d.,:/%]+[\s%)*]*(?:\s[A-Z]{3})?$"  # noqa: RUF001
)
HEADING_LIKE_RATIO = 1.1  # a line this much larger than the body text may be a heading


def reading_order(lines: Sequence[Line], atoms: Sequence[Atom] = ()) -> list[Group]:
    """The page's lines and atoms as groups in reading order (columns read one after another)."""
    columns = find_columns(lines)
    if columns is None:
        return group_column([*lines, *atoms])
    spanning: list[Line | Atom] = []
    in_columns: list[Line | Atom] = []
    items: list[Line | Atom] = [*lines, *atoms]
    reach = column_reach(columns)
    for item in items:
        x0, _, x1, _ = item.bbox
        inside = any(x0 >= left - 2.0 and x1 <= right for left, right in reach)
        (in_columns if inside else spanning).append(item)
    promoted = _set_apart_titles(in_columns, columns)
    promoted_ids = {id(item) for item in promoted}
    in_columns = [item for item in in_columns if id(item) not in promoted_ids]
    spanning.extend(promoted)
    tails = _spanning_tails(spanning, in_columns, columns)
    tail_ids = {id(line) for line in tails}
    in_columns = [item for item in in_columns if id(item) not in tail_ids]
    spanning.extend(tails)
    beside = _beside_spanning(in_columns, spanning)
    if beside:
        in_columns = [item for item in in_columns if id(item) not in beside]
        spanning.extend(item for item in items if id(item) in beside)
    spanning.sort(key=lambda item: item.bbox[1])
    body_size = dominant_style(lines)[0] if lines else 0.0
    groups: list[Group] = []
    remaining = in_columns
    above: list[Line | Atom] = []  # spanning items not yet placed: they precede the next band
    cuts: list[Line | Atom | None] = [*spanning, None]
    for cut in cuts:
        limit = cut.bbox[1] if cut is not None else float("inf")
        band = [item for item in remaining if center_y(item) < limit]
        if band:
            groups.extend(group_column(above))
            groups.extend(_read_band(band, columns, body_size))
            above = []
            remaining = [item for item in remaining if center_y(item) >= limit]
        if cut is not None:
            above.append(cut)
    groups.extend(group_column(above))
    return groups


def column_reach(columns: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """How far each column may extend: up to the next gutter, not just to its ragged text.

    ``find_columns`` measures a column from its lines, whose right edge is ragged, while a
    table or picture set in the column reaches the column's full measure. So a column reaches
    to the next column's left edge less a minimal gutter, and the last column as far past its
    left edge as the column pitch allows (never less than its own text, plus 2 pt).
    """
    reach: list[tuple[float, float]] = []
    for index, (left, right) in enumerate(columns):
        if index + 1 < len(columns):
            limit = columns[index + 1][0] - MIN_GUTTER
        else:
            pitch = left - columns[index - 1][0]
            limit = left + pitch - MIN_GUTTER
        reach.append((left, max(right + 2.0, limit)))
    return reach


def _spanning_tails(
    spanning: list[Line | Atom], in_columns: list[Line | Atom], columns: list[tuple[float, float]]
) -> list[Line]:
    """The short last lines of spanning paragraphs (a wrapped title), which fit in a column.

    A line directly under a spanning line that continues it (same style, line spacing, same
    left edge or centre: ``continues``) with nothing beside it in the other columns ends the
    spanning paragraph; column text starts beside other columns' text or after a gap.
    """
    candidates = sorted(
        (item for item in in_columns if isinstance(item, Line)), key=lambda line: line.bbox[1]
    )
    if not candidates:
        return []
    tops = [line.bbox[1] for line in candidates]
    tails: list[Line] = []
    taken: set[int] = set()
    for start in sorted(
        (item for item in spanning if isinstance(item, Line)), key=lambda line: line.bbox[1]
    ):
        chain = [start]
        for line in candidates[bisect.bisect_left(tops, start.bbox[1]) :]:
            previous = chain[-1]
            if line.bbox[1] < previous.bbox[1] or id(line) in taken:
                continue
            if line.bbox[1] - previous.bbox[3] > previous.size:
                break  # sorted by top: every later line is further below
            if continues(chain, line) and not _beside(line, in_columns, columns):
                chain.append(line)
                tails.append(line)
                taken.add(id(line))
    return tails


def _beside(line: Line, items: list[Line | Atom], columns: list[tuple[float, float]]) -> bool:
    """Whether an item of another column overlaps ``line``'s height (touching is not beside)."""
    column = _column_of(line, columns)
    top, bottom = line.bbox[1] + 1.0, line.bbox[3] - 1.0
    return any(
        item.bbox[1] < bottom and item.bbox[3] > top and _column_of(item, columns) != column
        for item in items
    )


def _column_of(item: Line | Atom, columns: list[tuple[float, float]]) -> int:
    center = (item.bbox[0] + item.bbox[2]) / 2
    return min(range(len(columns)), key=lambda i: _distance(center, columns[i]))


def _set_apart_titles(
    items: list[Line | Atom], columns: list[tuple[float, float]]
) -> list[Line | Atom]:
    """Headings that sit in one column's x-range but head every column: a section title.

    A short title above a new band of columns fits inside the first column, so geometry alone
    calls it column text. It is promoted to spanning when it is heading-like (larger or bolder
    than the body), nothing in the other columns sits beside it, and the other columns have
    text both above and below it (the horizontal strip it sits in crosses the whole page).
    """
    lines = [item for item in items if isinstance(item, Line)]
    if not lines:
        return []
    body = dominant_style(lines)
    promoted: list[Line | Atom] = []
    column_of = {id(item): _column_of(item, columns) for item in items}
    for line in lines:
        if not heading_like(line, body):
            continue
        pad = 1.0  # points
        top, bottom = line.bbox[1] - pad, line.bbox[3] + pad
        column = column_of[id(line)]
        others = [item for item in items if column_of[id(item)] != column]
        beside = any(item.bbox[1] < bottom and item.bbox[3] > top for item in others)
        above = any(item.bbox[3] <= top for item in others)
        below = any(item.bbox[1] >= bottom for item in others)
        if not beside and above and below:
            promoted.append(line)
    return promoted


def dominant_style(lines: Iterable[Line]) -> tuple[float, bool]:
    """The (size, bold) of most characters: the body text's style among ``lines``."""
    chars: dict[float, int] = defaultdict(int)
    bold: dict[float, int] = defaultdict(int)
    for line in lines:
        chars[line.size] += line.chars
        if line.bold:
            bold[line.size] += line.chars
    size = max(chars.items(), key=lambda entry: entry[1])[0]
    return size, bold[size] * 2 > chars[size]


def heading_like(line: Line, body: tuple[float, bool]) -> bool:
    """Larger than the body text, or bold where the body is not."""
    size, bold = body
    return line.size > size * HEADING_LIKE_RATIO or (line.bold and not bold)


def find_columns(lines: Sequence[Line]) -> list[tuple[float, float]] | None:
    """The x-ranges of 2 or 3 text columns, or ``None`` for a single column.

    Only lines narrower than about half the text width vote, so a title that spans the columns
    does not hide the gutter; nor do heading-like lines (larger than the body text, or bold in a
    regular body), so a short title that crosses a gutter does not merge two columns. A gutter
    is a vertical strip that (almost) no voting line crosses: a centred affiliation or a short
    caption line may cross it, a column of prose never does. Each column must hold a few lines
    of prose: an unruled table's short cells, a lone page number or a margin note do not make a
    column.
    """
    if len(lines) < 2 * MIN_COLUMN_LINES:
        return None
    left = min(line.bbox[0] for line in lines)
    right = max(line.bbox[2] for line in lines)
    body = dominant_style(lines)
    narrow = [
        line
        for line in lines
        if line.bbox[2] - line.bbox[0] < NARROW_SHARE * (right - left)
        and not heading_like(line, body)
        and not FIGURE.match(line.text)  # amounts and counts are cells, not column text
    ]
    if len(narrow) < 2 * MIN_COLUMN_LINES:
        return None
    gutters = _gutters(narrow)
    segments: list[list[Line]] = [[] for _ in range(len(gutters) + 1)]
    for line in narrow:
        crossing = any(line.bbox[0] < g1 and line.bbox[2] > g0 for g0, g1 in gutters)
        if not crossing:
            segments[sum(1 for g0, _ in gutters if line.center_x > g0)].append(line)
    columns = [
        segment
        for segment in segments
        if len(segment) >= MIN_COLUMN_LINES
        and sum(line.chars for line in segment) >= MIN_COLUMN_LINE_CHARS * len(segment)
    ]
    if not 2 <= len(columns) <= MAX_COLUMNS:
        return None
    return [(min(c.bbox[0] for c in col), max(c.bbox[2] for c in col)) for col in columns]


def _gutters(lines: Sequence[Line]) -> list[tuple[float, float]]:
    """x-ranges at least ``MIN_GUTTER`` wide, between the lines' extremes, that at most a few
    lines cross (``GUTTER_CROSSINGS`` of them: centred front matter, a wide caption line)."""
    allowed = max(1, int(GUTTER_CROSSINGS * len(lines)))
    low = min(line.bbox[0] for line in lines)
    high = max(line.bbox[2] for line in lines)
    events = sorted([(line.bbox[0], 1) for line in lines] + [(line.bbox[2], -1) for line in lines])
    gutters: list[tuple[float, float]] = []
    depth = 0
    open_at: float | None = None
    for x, delta in events:
        before = depth
        depth += delta
        if before > allowed >= depth:
            open_at = x
        elif before <= allowed < depth and open_at is not None:
            if x - open_at >= MIN_GUTTER and low < open_at and x < high:
                gutters.append((open_at, x))
            open_at = None
    return gutters


def _beside_spanning(in_columns: list[Line | Atom], spanning: list[Line | Atom]) -> set[int]:
    """Column items on the row of a spanning line (the second author's e-mail beside the
    first's, which is too wide for its column): they are read with that row, not after the
    band below it."""
    rows = [(item.bbox[1], item.bbox[3]) for item in spanning if isinstance(item, Line)]
    return {
        id(item)
        for item in in_columns
        if isinstance(item, Line) and any(top <= item.center_y <= bottom for top, bottom in rows)
    }


def _read_band(
    items: list[Line | Atom], columns: list[tuple[float, float]], body_size: float = 0.0
) -> list[Group]:
    by_column: list[list[Line | Atom]] = [[] for _ in columns]
    for item in items:
        center = (item.bbox[0] + item.bbox[2]) / 2
        nearest = min(
            range(len(columns)),
            key=lambda i: (
                0.0 if columns[i][0] <= center <= columns[i][1] else _distance(center, columns[i])
            ),
        )
        by_column[nearest].append(item)
    groups: list[Group] = []
    notes: list[Group] = []
    for index, column in enumerate(by_column):
        column_groups = group_column(column)
        if groups and column_groups and _runs_on(groups[-1], column_groups[0]):
            last, first = groups[-1], column_groups.pop(0)
            assert isinstance(last, list) and isinstance(first, list)
            last.extend(first)
        if index < len(by_column) - 1:
            # Footnotes at the foot of a column are read after the band: the paragraph they
            # interrupt goes on at the top of the next column.
            while column_groups and _note(column_groups[-1], body_size):
                notes.insert(0, column_groups.pop())
        groups.extend(column_groups)
    return groups + notes


def _note(group: Group, body_size: float) -> bool:
    """A footnote: set clearly smaller than the body text."""
    if isinstance(group, Atom) or body_size <= 0:
        return False
    return max(line.size for line in group) <= body_size - NOTE_SIZE_GAP


def _runs_on(last: Group, first: Group) -> bool:
    """A paragraph cut by the column end: unfinished sentence, same style, lower-case start."""
    if isinstance(last, Atom) or isinstance(first, Atom):
        return False
    end, start = last[-1], first[0]
    return (
        (end.size, end.bold) == (start.size, start.bold)
        and not end.text.endswith(SENTENCE_END)
        and start.text[:1].islower()
    )


def _distance(x: float, span: tuple[float, float]) -> float:
    return min(abs(x - span[0]), abs(x - span[1]))
