"""Page geometry → reading order: lines, columns, paragraphs.

The unit is the *line* (a run of text on one baseline with one dominant style), never pdftext's
block: pdftext groups lines in content-stream order, so a page written in row-major order (a line
of the left column, then the line beside it in the right column) cannot be fixed by re-sorting
its blocks. Instead:

1. pdftext lines are split wherever a wide horizontal gap separates two spans (a column gutter),
   so a row-major "line" that runs across both columns becomes one line per column;
2. columns are found from the x-ranges of the narrow lines (a vertical gutter that no narrow line
   crosses); lines wider than a column (titles) span the columns and cut the page into bands;
3. each band is read column by column, top to bottom, and consecutive lines of one column are
   joined into paragraphs where style, spacing and left edge agree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pagemill.processors.convert.document import BBox, TableRows

BULLET = re.compile(r"^[•●○◦▪▫■□‣⁃∙·*\-–—]\s+(?=\S)")  # noqa: RUF001 - the dashes are bullets
NUMBERED = re.compile(r"^\(?\d{1,3}[.)]\s+(?=\S)")
MARKER_ONLY = re.compile(r"^(?:[•●○◦▪▫■□‣⁃∙·*\-–—]|\(?\w{1,3}[.)])$")  # noqa: RUF001
SPLIT_GAP_EMS = 1.0  # a gap this many font sizes wide between two spans is a gutter, not a space
MIN_SPLIT_GAP = 8.0
NARROW_SHARE = 0.55  # lines narrower than this share of the text width may sit in a column
MIN_GUTTER = 6.0
MIN_COLUMN_LINES = 3
MIN_COLUMN_LINE_CHARS = 12  # column text is prose; an unruled table's cells are shorter
MAX_COLUMNS = 3
SENTENCE_END = (".", ":", ";", "!", "?")


@dataclass(slots=True)
class Line:
    text: str  # whitespace collapsed; ends with "-" where the line ends in a hyphen
    bbox: BBox  # PDF points, origin top-left
    size: float  # dominant font size in points, rounded to half points
    bold: bool  # most visible characters are in a bold font
    chars: int  # visible characters

    @property
    def center_x(self) -> float:
        return (self.bbox[0] + self.bbox[2]) / 2

    @property
    def center_y(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2


@dataclass(slots=True)
class Atom:
    """A table or picture: it takes a place in the reading order as a whole."""

    bbox: BBox
    type: str  # "table" | "picture"
    text: str = ""
    rows: TableRows | None = None
    image: str | None = None


Group = list[Line] | Atom  # a paragraph candidate (lines) or an atom, in reading order


@dataclass(slots=True)
class PageLayout:
    """One page's content in reading order, with its running furniture set apart."""

    page: int
    groups: list[Group] = field(default_factory=list)
    headers: list[Line] = field(default_factory=list)
    footers: list[Line] = field(default_factory=list)


def list_marker(text: str) -> bool:
    return bool(BULLET.match(text) or NUMBERED.match(text))


def split_at_gaps(pieces: Sequence[Line]) -> list[Line]:
    """Merge the pieces of one pdftext line, except across a gutter-wide gap.

    ``pieces`` are the line's spans (in order) as one-piece lines. A gap of at least one font
    size between two pieces separates two lines, unless the left piece is only a list marker
    ("•", "1.", "(a)"), whose hanging indent can be as wide; so does a jump back to the left.
    """
    lines: list[list[Line]] = []
    for piece in pieces:
        if lines:
            previous = lines[-1][-1]
            gap = piece.bbox[0] - previous.bbox[2]
            wide = gap >= max(MIN_SPLIT_GAP, SPLIT_GAP_EMS * max(previous.size, piece.size))
            marker = len(lines[-1]) == 1 and bool(MARKER_ONLY.match(previous.text.strip()))
            # A jump back to the left is another column's text drawn first on this baseline.
            backwards = gap < -max(previous.size, piece.size)
            if not backwards and (not wide or marker):
                lines[-1].append(piece)
                continue
        lines.append([piece])
    return [merge_pieces(line) for line in lines]


def merge_pieces(pieces: Sequence[Line]) -> Line:
    """One line from pieces whose texts keep their own spaces (a span can end mid-word)."""
    size_weights: dict[tuple[float, bool], int] = defaultdict(int)
    for piece in pieces:
        size_weights[(piece.size, piece.bold)] += piece.chars
    chars = sum(piece.chars for piece in pieces)
    bold_chars = sum(piece.chars for piece in pieces if piece.bold)
    text = " ".join("".join(piece.text for piece in pieces).split())
    # A soft hyphen at a line end is a break hyphen; anywhere else it is invisible.
    if text.endswith("\u00ad"):
        text = text[:-1] + "-"
    return Line(
        text=text.replace("\u00ad", ""),
        bbox=union(piece.bbox for piece in pieces),
        size=max(size_weights.items(), key=lambda item: item[1])[0][0],
        bold=bold_chars * 2 > chars,
        chars=chars,
    )


# --- columns and reading order ---------------------------------------------------------------


def reading_order(lines: Sequence[Line], atoms: Sequence[Atom] = ()) -> list[Group]:
    """The page's lines and atoms as groups in reading order (columns read one after another)."""
    columns = find_columns(lines)
    if columns is None:
        return _group_column(_sorted_rows([*lines, *atoms]))
    spanning: list[Line | Atom] = []
    in_columns: list[Line | Atom] = []
    items: list[Line | Atom] = [*lines, *atoms]
    for item in items:
        x0, _, x1, _ = item.bbox
        inside = any(x0 >= left - 2.0 and x1 <= right + 2.0 for left, right in columns)
        (in_columns if inside else spanning).append(item)
    promoted = _set_apart_titles(in_columns, columns)
    spanning.extend(promoted)
    in_columns = [item for item in in_columns if not any(item is p for p in promoted)]
    spanning.sort(key=lambda item: item.bbox[1])
    groups: list[Group] = []
    remaining = in_columns
    above: list[Line | Atom] = []  # spanning items not yet placed: they precede the next band
    cuts: list[Line | Atom | None] = [*spanning, None]
    for cut in cuts:
        limit = cut.bbox[1] if cut is not None else float("inf")
        band = [item for item in remaining if _center_y(item) < limit]
        if band:
            groups.extend(_group_column(_sorted_rows(above)))
            groups.extend(_read_band(band, columns))
            above = []
            remaining = [item for item in remaining if _center_y(item) >= limit]
        if cut is not None:
            above.append(cut)
    groups.extend(_group_column(_sorted_rows(above)))
    return groups


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
    sizes: dict[float, int] = defaultdict(int)
    for line in lines:
        sizes[line.size] += line.chars
    body_size = max(sizes.items(), key=lambda entry: entry[1])[0]

    def column_of(item: Line | Atom) -> int:
        center = (item.bbox[0] + item.bbox[2]) / 2
        return min(range(len(columns)), key=lambda i: _distance(center, columns[i]))

    promoted: list[Line | Atom] = []
    for line in lines:
        if line.size <= body_size * 1.1 and not line.bold:
            continue
        pad = 1.0  # points: touching is not beside
        top, bottom = line.bbox[1] - pad, line.bbox[3] + pad
        others = [item for item in items if column_of(item) != column_of(line)]
        beside = any(item.bbox[1] < bottom and item.bbox[3] > top for item in others)
        above = any(item.bbox[3] <= top for item in others)
        below = any(item.bbox[1] >= bottom for item in others)
        if not beside and above and below:
            promoted.append(line)
    return promoted


def find_columns(lines: Sequence[Line]) -> list[tuple[float, float]] | None:
    """The x-ranges of 2 or 3 text columns, or ``None`` for a single column.

    Only lines narrower than about half the text width vote, so a title that spans the columns
    does not hide the gutter. Each column must hold a few lines of prose: an unruled table's
    short cells, a lone page number or a margin note do not make a column.
    """
    if len(lines) < 2 * MIN_COLUMN_LINES:
        return None
    left = min(line.bbox[0] for line in lines)
    right = max(line.bbox[2] for line in lines)
    narrow = [line for line in lines if line.bbox[2] - line.bbox[0] < NARROW_SHARE * (right - left)]
    clusters: list[list[Line]] = []
    for line in sorted(narrow, key=lambda line: line.bbox[0]):
        if clusters and line.bbox[0] < max(other.bbox[2] for other in clusters[-1]) + MIN_GUTTER:
            clusters[-1].append(line)
        else:
            clusters.append([line])
    columns = [
        cluster
        for cluster in clusters
        if len(cluster) >= MIN_COLUMN_LINES
        and sum(line.chars for line in cluster) >= MIN_COLUMN_LINE_CHARS * len(cluster)
    ]
    if not 2 <= len(columns) <= MAX_COLUMNS:
        return None
    return [(min(c.bbox[0] for c in col), max(c.bbox[2] for c in col)) for col in columns]


def _read_band(items: list[Line | Atom], columns: list[tuple[float, float]]) -> list[Group]:
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
    for column in by_column:
        column_groups = _group_column(_sorted_rows(column))
        if groups and column_groups and _runs_on(groups[-1], column_groups[0]):
            last, first = groups[-1], column_groups.pop(0)
            assert isinstance(last, list) and isinstance(first, list)
            last.extend(first)
        groups.extend(column_groups)
    return groups


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


def _sorted_rows(items: Sequence[Line | Atom]) -> list[Line | Atom]:
    """Top to bottom; items on one row (their vertical centres close) left to right."""
    ordered = sorted(items, key=lambda item: item.bbox[1])
    result: list[Line | Atom] = []
    row: list[Line | Atom] = []
    for item in ordered:
        if row and abs(_center_y(item) - _center_y(row[0])) > 0.5 * _height(row[0]):
            result.extend(sorted(row, key=lambda other: other.bbox[0]))
            row = []
        row.append(item)
    result.extend(sorted(row, key=lambda other: other.bbox[0]))
    return result


def _group_column(items: Sequence[Line | Atom]) -> list[Group]:
    groups: list[Group] = []
    for item in items:
        if isinstance(item, Atom):
            groups.append(item)
            continue
        current = groups[-1] if groups else None
        if isinstance(current, list) and continues(current, item):
            current.append(item)
        else:
            groups.append([item])
    return groups


def continues(block: list[Line], line: Line) -> bool:
    """Whether ``line`` goes on the paragraph (or list) ``block`` of the same column.

    Same style; a gap no larger than between two lines of one paragraph (paragraphs are set
    apart by space or by a first-line indent); and the left edge of the block, a hanging indent
    under a list marker, the text under a first-line indent, or a shared centre (centred lines).
    """
    previous = block[-1]
    if (line.size, line.bold) != (previous.size, previous.bold):
        return False
    size = previous.size
    gap = line.bbox[1] - previous.bbox[3]
    if not -0.5 * size <= gap <= 0.6 * size:
        return False
    tolerance = max(2.0, 0.5 * size)
    left = min(other.bbox[0] for other in block)
    if abs(line.bbox[0] - left) <= tolerance:
        return not (len(block) > 1 and block[-1].bbox[0] > left + tolerance and _item_open(block))
    item_start = next((other for other in reversed(block) if list_marker(other.text)), None)
    if item_start is not None and 0 < line.bbox[0] - item_start.bbox[0] <= 4 * size:
        return True  # a wrapped list item hangs under its text, past the marker
    if len(block) == 1 and 0 < previous.bbox[0] - line.bbox[0] <= 4 * size:
        return True  # the first line was indented
    return abs(line.center_x - previous.center_x) <= tolerance and line.bbox[0] > left


def _item_open(block: list[Line]) -> bool:
    # A line back at the left edge after a hanging list item starts something new unless it is
    # itself the next item; paragraphs after a list are never glued onto its last item.
    return any(list_marker(line.text) for line in block)


def _center_y(item: Line | Atom) -> float:
    return (item.bbox[1] + item.bbox[3]) / 2


def _height(item: Line | Atom) -> float:
    return max(1.0, item.bbox[3] - item.bbox[1])


def union(boxes: Iterable[BBox]) -> BBox:
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return min(x0s), min(y0s), max(x1s), max(y1s)
