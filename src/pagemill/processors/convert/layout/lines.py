"""Page geometry → lines and paragraphs: the units ``layout.columns`` puts in reading order.

The unit is the *line* (a run of text on one baseline with one dominant style), never a block in
content-stream order: a page written in row-major order (a line of the left column, then the
line beside it in the right column) cannot be fixed by re-sorting such blocks. Instead:

1. text lines are split wherever a wide horizontal gap separates two spans (a column gutter),
   so a row-major "line" that runs across both columns becomes one line per column;
2. ``layout.columns`` finds the columns and cuts the page into bands;
3. each band is read column by column, top to bottom, and consecutive lines of one column are
   joined into paragraphs where style, spacing and left edge agree (``group_column``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from pagemill.processors.document import BBox, TableRows

BULLET = re.compile(r"^[•●○◦▪▫■□‣⁃∙·*\-–—]\s+(?=\S)")  # noqa: RUF001 - the dashes are bullets
NUMBERED = re.compile(r"^\(?\d{1,3}[.)]\s+(?=\S)")
MARKER_ONLY = re.compile(r"^(?:[•●○◦▪▫■□‣⁃∙·*\-–—]|\(?\w{1,3}[.)])$")  # noqa: RUF001
SECTION_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[A-Z](?:\.\d{1,2}){1,3})$")
SECTION_GAP_EMS = 2.0
MARKER_GAP_EMS = 5.0
EMPTY_CELL = re.compile(r"^(?:[-–—−]|\([A-Z]{1,2}\))$")  # noqa: RUF001 - the dashes
SPLIT_GAP_EMS = 1.0  # a gap this many font sizes wide between two spans is a gutter, not a space
BOLD_LINE_SHARE = 0.85  # of its visible characters bold: the line is bold
MIN_SPLIT_GAP = 8.0
MIN_FIGURE_SPLIT_GAP = 4.0
# Two figures side by side are two cells from this many font sizes apart: a space between
# words is at most half an em, and columns of figures set close stand about an em apart.
FIGURE_SPLIT_GAP_EMS = 0.75
ROW_GAP_EMS = 1.5  # narrower gaps on one row of a column are word spaces
FIGURE_CELL = re.compile(r"^[\s$€£¥(+\-–−]*[\d.,:/%]+[\s%)*]*$")  # noqa: RUF001
SENTENCE_END = (".", ":", ";", "!", "?")
LEADER_END = re.compile(r"(?:\.\s?){4,}\s*$")  # "Introduction . . . . ." before its page number
SAME_SIZE_RATIO = 1.1
MAX_FORMULA_LINE_CHARS = 40  # a displayed formula's pieces are short
MAX_FRAGMENT_CHARS = 5  # glyph runs this short that overlap in height are one word's pieces
SCRIPT_SIZE_SHARE = 0.8  # sub- and superscripts: at most this share of the formula's size
TALL_GLYPH_EMS = 2.5  # a big operator (∑, ∫) is this many times as tall as its size


@dataclass(slots=True)
class Line:
    text: str  # whitespace collapsed; ends with "-" where the line ends in a hyphen
    bbox: BBox  # PDF points, origin top-left
    size: float  # dominant font size in points, rounded to half points
    bold: bool  # most visible characters are in a bold font
    chars: int  # visible characters
    # Whether the line's first and last pieces are bold: a run-in lead ("Note. The form ...")
    # starts bold and ends regular.
    starts_bold: bool = False
    ends_bold: bool = False

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


def is_vertical(line: Line) -> bool:
    """Rotated text (a margin stamp, a rotated column header) reads as a tall narrow line."""
    return line.chars > 1 and line.bbox[3] - line.bbox[1] > 1.5 * (line.bbox[2] - line.bbox[0])


def list_marker(text: str) -> bool:
    return bool(BULLET.match(text) or NUMBERED.match(text))


def split_at_gaps(pieces: Sequence[Line]) -> list[Line]:
    """Merge the pieces of one text line, except across a gutter-wide gap.

    ``pieces`` are the line's spans (in logical order) as one-piece lines. A gap of at least one
    font size between two pieces separates two lines, unless the left piece is only a list
    marker ("•", "1.", "(a)"), whose hanging indent can be as wide; so does a jump back to the
    left. A line with right-to-left text is judged in visual order: its logical order jumps
    left and right across embedded left-to-right runs ("اسمي Jeremy في"), and those jumps are
    not gutters; each part keeps its pieces in logical order.
    """
    if any(has_rtl(piece.text) for piece in pieces):
        return _split_visual(pieces)
    lines: list[list[Line]] = []
    for piece in pieces:
        if lines:
            previous = lines[-1][-1]
            gap = piece.bbox[0] - previous.bbox[2]
            wide = gap >= split_gap(previous, piece)
            # A dash or "(X)" before a figure or another such mark is a table's empty cell
            # ("-   1.0"), not a list item's marker.
            cell = _empty_cell(previous.text) and (
                bool(FIGURE_CELL.match(piece.text.strip())) or _empty_cell(piece.text)
            )
            # A hanging indent is a few ems: a wider gap after "12." is another column's text.
            marker = (
                not cell
                and len(lines[-1]) == 1
                and bool(MARKER_ONLY.match(previous.text.strip()))
                and gap <= MARKER_GAP_EMS * max(previous.size, piece.size)
            )
            # "1.2  Methods": a section number set a quad before its title, in its style.
            numbered = (
                len(lines[-1]) == 1
                and bool(SECTION_NUMBER.match(previous.text.strip()))
                and (previous.size, previous.bold) == (piece.size, piece.bold)
                and gap <= SECTION_GAP_EMS * piece.size
                and piece.text.lstrip()[:1].isalpha()
            )
            # A bullet drawn in a symbol font can come out as any one punctuation glyph ("!").
            # A symbol set smaller than the text after it is a superscript (an affiliation's
            # dagger), not a bullet.
            glyph = (
                not cell
                and len(lines[-1]) == 1
                and _symbol_bullet(previous.text)
                and previous.size >= SCRIPT_SIZE_SHARE * piece.size
                and gap <= MARKER_GAP_EMS * max(previous.size, piece.size)
                and piece.text.lstrip()[:1].isalnum()
            )
            if glyph:
                lines[-1][0] = replace(previous, text="• ")
            marker = marker or numbered or glyph
            # A jump back to the left is another column's text drawn first on this baseline.
            backwards = gap < -max(previous.size, piece.size)
            if not backwards and (not wide or marker):
                lines[-1].append(piece)
                continue
        lines.append([piece])
    return [merge_pieces(line) for line in lines]


def split_gap(left: Line, right: Line) -> float:
    """The narrowest gap between two pieces of one text line that separates them: an em, and
    at least ``MIN_SPLIT_GAP``, except between two figures (the columns of a table set in
    small type: "11,062.6  1,540.0" stand closer than 8 points but an em apart; columns of
    digits set a little less than an em apart: ``FIGURE_SPLIT_GAP_EMS``)."""
    em = SPLIT_GAP_EMS * max(left.size, right.size)
    if _figures(left, right):
        return max(MIN_FIGURE_SPLIT_GAP, FIGURE_SPLIT_GAP_EMS * max(left.size, right.size))
    return max(MIN_SPLIT_GAP, em)


def _figures(left: Line, right: Line) -> bool:
    return bool(FIGURE_CELL.match(left.text.strip()) and FIGURE_CELL.match(right.text.strip()))


def _empty_cell(text: str) -> bool:
    """A dash, or a statistical table's code in capitals ("(X)": not applicable; "(NA)")."""
    return bool(EMPTY_CELL.match(text.strip()))


def _symbol_bullet(text: str) -> bool:
    text = text.strip()
    opening = "([{\"'\u201c\u2018$€£%#"  # punctuation that opens text, not a bullet
    return len(text) == 1 and unicodedata.category(text)[0] in "PS" and text not in opening


def _split_visual(pieces: Sequence[Line]) -> list[Line]:
    order = {id(piece): index for index, piece in enumerate(pieces)}
    parts: list[list[Line]] = []
    right_edge = 0.0
    for piece in sorted(pieces, key=lambda piece: piece.bbox[0]):
        if parts:
            gap = piece.bbox[0] - right_edge
            limit = max(MIN_SPLIT_GAP, SPLIT_GAP_EMS * piece.size)
            if _figures(parts[-1][-1], piece):
                limit = split_gap(parts[-1][-1], piece)
            if gap < limit:
                parts[-1].append(piece)
                right_edge = max(right_edge, piece.bbox[2])
                continue
        parts.append([piece])
        right_edge = piece.bbox[2]
    # Right-to-left lines read their parts from the right.
    parts.reverse()
    return [merge_pieces(sorted(part, key=lambda piece: order[id(piece)])) for part in parts]


def has_rtl(text: str) -> bool:
    return any("\u0590" <= char <= "\u08ff" or "\ufb1d" <= char <= "\ufefc" for char in text)


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
        # A run-in bold lead ("Note. The form ...") does not make the line bold.
        bold=bold_chars >= BOLD_LINE_SHARE * chars,
        chars=chars,
        starts_bold=pieces[0].starts_bold,
        ends_bold=pieces[-1].ends_bold,
    )


# --- rows and paragraphs ---------------------------------------------------------------------


def _rows(items: Sequence[Line | Atom]) -> list[list[Line | Atom]]:
    """Top to bottom; items on one row (their vertical centres close) left to right."""
    ordered = sorted(items, key=lambda item: item.bbox[1])
    rows: list[list[Line | Atom]] = []
    row: list[Line | Atom] = []
    for item in ordered:
        if row and abs(center_y(item) - center_y(row[0])) > 0.5 * _height(row[0]):
            rows.append(sorted(row, key=lambda other: other.bbox[0]))
            row = []
        row.append(item)
    if row:
        rows.append(sorted(row, key=lambda other: other.bbox[0]))
    return rows


def group_column(items: Sequence[Line | Atom]) -> list[Group]:
    """One column's items as paragraph candidates and atoms, read row by row.

    A line that shares its row with other text (a table row: a description beside its
    quantity and price) does not go on a paragraph whose last line had its row to itself: that
    paragraph was a wrapped cell or text above the table, and the row starts something new.
    """
    groups: list[Group] = []
    crowded: set[int] = set()  # lines with other text on their row
    for row in _rows(items):
        row = _rejoined(row)
        if sum(1 for item in row if isinstance(item, Line)) > 1:
            crowded.update(id(item) for item in row)
        for item in row:
            if isinstance(item, Atom):
                groups.append(item)
                continue
            current = groups[-1] if groups else None
            if (
                isinstance(current, list)
                and continues(current, item)
                and (id(item) not in crowded or id(current[-1]) in crowded)
            ):
                current.append(item)
            else:
                groups.append([item])
    return _join_formulas(groups)


def _join_formulas(groups: list[Group]) -> list[Group]:
    """A displayed formula is one block: its pieces (a fraction's numerator and denominator, a
    summation sign taller than the line, sub- and superscripts in smaller type) overlap one
    another's height, which the lines of two paragraphs never do. Consecutive groups of short
    lines whose boxes overlap vertically, with smaller or oversized glyphs among them, are
    joined; so are overlapping fragments of a few characters each (a heading drawn glyph run
    by glyph run in a font without a Unicode map)."""
    chains: list[list[Group]] = []
    for group in groups:
        last = chains[-1][-1] if chains else None
        if isinstance(last, list) and isinstance(group, list) and _overlap_height(last, group):
            chains[-1].append(group)
        else:
            chains.append([group])
    out: list[Group] = []
    for chain in chains:
        lines = [line for group in chain if isinstance(group, list) for line in group]
        if len(chain) > 1 and _formula_like(lines):
            out.append(lines)
        else:
            out.extend(chain)
    return out


def _overlap_height(above: list[Line], below: list[Line]) -> bool:
    bottom = max(line.bbox[3] for line in above)
    top = min(line.bbox[1] for line in below)
    return top < bottom - 1.0


def _formula_like(lines: list[Line]) -> bool:
    if any(len(line.text) > MAX_FORMULA_LINE_CHARS for line in lines):
        return False
    if all(line.chars <= MAX_FRAGMENT_CHARS for line in lines):
        return True  # glyph runs of one word drawn piece by piece (a font without a map)
    largest = max(line.size for line in lines)
    return any(
        line.size <= SCRIPT_SIZE_SHARE * largest
        or line.bbox[3] - line.bbox[1] > TALL_GLYPH_EMS * line.size
        for line in lines
    )


def _rejoined(row: list[Line | Atom]) -> list[Line | Atom]:
    """A row of lines split at word spaces of a justified or mixed-style line (a link, a
    spaced-out word) is one line again: pieces that are not apart by a gutter's width
    (``ROW_GAP_EMS``), or overlap, and are not a table's figures."""
    if len(row) < 2 or any(isinstance(item, Atom) for item in row):
        return row
    lines = [item for item in row if isinstance(item, Line)]
    joined: list[list[Line]] = [[lines[0]]]
    for line in lines[1:]:
        previous = joined[-1][-1]
        gap = line.bbox[0] - max(ln.bbox[2] for ln in joined[-1])
        size = max(line.size, previous.size)
        figures = FIGURE_CELL.match(line.text) or FIGURE_CELL.match(previous.text)
        # A note marker set small beside its note ("³ See this thread ...") is no figure cell.
        note_marker = min(line.size, previous.size) <= SCRIPT_SIZE_SHARE * size and any(
            ln.size < size and FIGURE_CELL.match(ln.text) for ln in (line, previous)
        )
        # A contents entry's dot leader runs up to its page number: one line, not two cells.
        leader = any(LEADER_END.search(ln.text) for ln in (line, previous))
        # Pieces that overlap are one line drawn in pieces (a heading in a font without a
        # Unicode map comes as glyph runs whose boxes overlap), never two cells.
        if gap < ROW_GAP_EMS * size and (not figures or leader or note_marker):
            joined[-1].append(line)
        else:
            joined.append([line])
    if len(joined) == len(lines):
        return row
    out: list[Line | Atom] = []
    for part in joined:
        if len(part) > 1 and any(has_rtl(ln.text) for ln in part):
            part = part[::-1]  # right-to-left text reads from the right
        if len(part) > 1:
            out.append(
                merge_pieces([replace(ln, text=ln.text + " ") for ln in part[:-1]] + [part[-1]])
            )
        else:
            out.append(part[0])
    return out


def continues(block: list[Line], line: Line) -> bool:
    """Whether ``line`` goes on the paragraph (or list) ``block`` of the same column.

    Same style; a gap no larger than between two lines of one paragraph (paragraphs are set
    apart by space or by a first-line indent); and the left edge of the block, a hanging indent
    under a list marker, the text under a first-line indent, or a shared centre (centred lines).
    """
    previous = block[-1]
    if line.bold != previous.bold or not same_size(line.size, previous.size):
        return False
    if line.size != previous.size and not _sentence_goes_on(previous, line):
        return False
    size = previous.size
    gap = line.bbox[1] - previous.bbox[3]
    if not -0.5 * size <= gap <= 0.6 * size:
        return False
    tolerance = max(2.0, 0.5 * size)
    if has_rtl(line.text) and has_rtl(previous.text):
        # Right-to-left paragraphs start at the right edge; their last line ends short on
        # the left.
        right = max(other.bbox[2] for other in block)
        return (
            abs(line.bbox[2] - right) <= tolerance
            or (len(block) == 1 and 0 < right - line.bbox[2] <= 4 * size)
            or (len(block) == 1 and 0 < line.bbox[2] - right <= 4 * size)
        )
    left = min(other.bbox[0] for other in block)
    if abs(line.bbox[0] - left) <= tolerance:
        return not (len(block) > 1 and block[-1].bbox[0] > left + tolerance and _item_open(block))
    item_start = next((other for other in reversed(block) if list_marker(other.text)), None)
    if item_start is not None and 0 < line.bbox[0] - item_start.bbox[0] <= 4 * size:
        return True  # a wrapped list item hangs under its text, past the marker
    if len(block) == 1 and 0 < previous.bbox[0] - line.bbox[0] <= 4 * size:
        return True  # the first line was indented
    return abs(line.center_x - previous.center_x) <= tolerance and line.bbox[0] > left


def same_size(a: float, b: float) -> bool:
    """Sizes one paragraph may mix: an OCR text layer sizes each line from its own glyphs
    (11 pt, then 12 pt for "them."); a size apart by a heading's step or a footnote's is not."""
    return max(a, b) < SAME_SIZE_RATIO * max(min(a, b), 0.1)


def _sentence_goes_on(previous: Line, line: Line) -> bool:
    # Across a change of size only a sentence that plainly runs on joins: a title over its
    # subtitle, an address over a footnote, are two blocks.
    return not previous.text.endswith(SENTENCE_END) and line.text[:1].islower()


def _item_open(block: list[Line]) -> bool:
    # A line back at the left edge after a hanging list item starts something new unless it is
    # itself the next item; paragraphs after a list are never glued onto its last item.
    return any(list_marker(line.text) for line in block)


def center_y(item: Line | Atom) -> float:
    return (item.bbox[1] + item.bbox[3]) / 2


def _height(item: Line | Atom) -> float:
    return max(1.0, item.bbox[3] - item.bbox[1])


def union(boxes: Iterable[BBox]) -> BBox:
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return min(x0s), min(y0s), max(x1s), max(y1s)
