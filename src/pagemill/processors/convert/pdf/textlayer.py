"""A PDF page's text layer, read straight from pdfium: lines of styled pieces.

pdfium's text page lists the characters in content-stream order (right-to-left runs already in
logical order), with a box per character and a link to the text object that drew it. Reading it
here instead of through pdftext gives three things pdftext cannot:

* the **effective font size**: most producers set the size with the text matrix (``1 Tf`` then
  a matrix scaled by 9), and the font size pdfium and pdftext report is then 1.0 for every span
  (``pdf.glyphs`` reads the size that paragraphs and headings are judged by);
* **letter-spaced text**: pdfium inserts a space wherever two glyphs are far apart, so tracked
  text ("T O T A L", digits in a spaced-out cell) comes out with a space between every
  character. Spaces pdfium made up are kept only where the gap is clearly wider than the line's
  own letter spacing (taken as at most an em: glyphs set further apart are words of their own);
* speed: font, size and weight are read once per text object, not once per character.

Fake-bold text (the same word drawn twice, offset by a fraction of a point) is drawn once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pagemill.processors.convert.layout.lines import (
    SENTENCE_END,
    Line,
    has_rtl,
    merge_pieces,
    split_gap,
)
from pagemill.processors.convert.pdf.glyphs import (
    HYPHEN_MARK,
    LINE_BREAKS,
    Char,
    Style,
    blank,
    in_rows,
    read_chars,
    text_of,
    unmapped,
    upright_rotation,
    without_duplicates,
)
from pagemill.processors.convert.pdf.objects import Frame

PIECE_GAP_EMS = 0.5  # a wider gap between two glyphs starts a new piece (a possible gutter)
# A space pdfium inserted is a word space only when its gap exceeds the line's usual gap between
# letters by this many font sizes (tracked text has wide gaps between all its letters).
MIN_WORD_GAP_EMS = 0.12
# Letter spacing is at most this many font sizes: glyphs further apart than their own width (the
# month initials under a chart, a board's file numbers) are separate words, however evenly set.
MAX_TRACKING_EMS = 1.0
MIN_CHANNEL_LINES = 3  # a gap is a gutter when this many lines share it
SAME_BASELINE_EMS = 0.1  # glyphs whose bottoms differ by less sit on one baseline
MAX_ROW_GAP_CELL_CHARS = 24  # lines side by side this short are a table's cells or words
SHIFTED_SIZE = 0.85  # a superscript or subscript is set at most this share of the text's size
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
RUN_ON_GAP_EMS = 0.5  # a wider gap across a made-up line break may be a table's column gap


@dataclass(slots=True)
class PageText:
    page: int
    width: float
    height: float
    lines: list[Line]
    chars: int  # visible characters
    bad_chars: int  # of which unmapped glyphs (U+FFFD, private use, control characters)
    # The page's text is drawn sideways: the rotation that reads it upright (``Frame.of``),
    # when it is not the page's own.
    sideways: int | None = None
    rotation: int | None = None  # the page was read turned this way (None: as displayed)


def read_page(
    page: Any,
    page_number: int,
    walls: Sequence[tuple[float, float, float]] = (),
    rotation: int | None = None,
) -> PageText:
    """The text layer of one pypdfium2 page as lines (origin top-left, PDF points), as
    displayed or turned by ``rotation`` (``Frame.of``).

    ``walls`` are vertical rules as ``(x, top, bottom)``: text on either side of one is never
    the same line (two cells of a ruled table can sit closer than a word space). When most of
    the text runs sideways, ``sideways`` says which rotation reads it upright: the caller reads
    the page again turned that way (its rules too).
    """
    frame = Frame.of(page, rotation)
    width, height = frame.size
    textpage = page.get_textpage()
    try:
        chars = read_chars(textpage.raw, frame, turned=rotation is not None)
    finally:
        textpage.close()
    chars = without_duplicates(chars)
    if rotation is not None:
        chars = in_rows(chars)
    visible = [char for char in chars if char.style is not None and not blank(char.code)]
    bad = sum(1 for char in chars if char.style is not None and unmapped(char.code))
    sideways = upright_rotation(visible, frame) if rotation is None else None
    return PageText(
        page=page_number,
        width=float(math.ceil(width)),
        height=float(math.ceil(height)),
        lines=[] if sideways is not None else _lines(chars, sorted(walls)),
        chars=len(visible),
        bad_chars=bad,
        sideways=sideways,
        rotation=rotation,
    )


# --- characters → lines of pieces -------------------------------------------------------------


def _lines(chars: list[Char], walls: Sequence[tuple[float, float, float]] = ()) -> list[Line]:
    from pagemill.processors.convert.layout.lines import split_at_gaps

    raw: list[list[Line]] = []  # each text line's pieces
    current: list[Char] = []
    top = bottom = 0.0  # the vertical extent of the line's upright glyphs so far
    style: Style | None = None  # the style of its last glyph
    last: Char | None = None  # its last glyph

    def flush() -> None:
        nonlocal style
        pieces = _pieces(current)
        if pieces:
            raw.append(pieces)
        current.clear()
        style = None

    broken = False  # pdfium put a line break since the last glyph
    for char in chars:
        if char.code in LINE_BREAKS and char.style is None:
            broken = True
            current.append(char)  # a space where the glyphs stand apart (``_pieces``)
            continue
        if char.style is not None:
            if style is not None and (
                _starts_line(style, top, bottom, char)
                or (walls and last is not None and _walled(last, char, walls))
                or (broken and not _runs_on(last, char))
            ):
                flush()
            broken = False
            if style is None or not style.upright:
                top, bottom = char.y0, char.y1
            elif char.style.upright:
                top, bottom = min(top, char.y0), max(bottom, char.y1)
            style = char.style
            last = char
        current.append(char)
        if char.code == HYPHEN_MARK:
            flush()
    flush()
    raw = _rejoin_mixed_rows(raw)
    channels = _gaps(raw) + _row_gaps(raw)
    lines: list[Line] = []
    for pieces in raw:
        lines.extend(split_at_gaps(_close_stray_gaps(pieces, channels)))
    return [line for line in lines if line.text]


def _rejoin_mixed_rows(raw: list[list[Line]]) -> list[list[Line]]:
    """One right-to-left line again where pdfium broke it around a left-to-right run.

    An Arabic line with "U+0660 - U+0669" in it jumps left and right in logical order, and
    the Latin run often sits in another font on its own baseline: pdfium starts a new line at
    every jump. Consecutive pieces of one row and of about one size, with right-to-left text
    among them and no gap wider than an em between them, are one line (``split_at_gaps``
    orders it visually).
    """
    runs: list[list[list[Line]]] = []  # consecutive entries side by side on one row
    for pieces in raw:
        if runs and _same_row(runs[-1][-1], pieces):
            runs[-1].append(pieces)
        else:
            runs.append([pieces])
    out: list[list[Line]] = []
    for run in runs:
        if len(run) > 1 and any(has_rtl(piece.text) for pieces in run for piece in pieces):
            # Each part ends where pdfium broke the line: a space, as between words.
            spaced = [[*pieces[:-1], _with_space(pieces[-1])] for pieces in run[:-1]]
            out.append([piece for pieces in [*spaced, run[-1]] for piece in pieces])
        else:
            out.extend(run)
    return out


def _with_space(piece: Line) -> Line:
    return piece if piece.text.endswith(" ") else replace(piece, text=piece.text + " ")


def _same_row(before: list[Line], after: list[Line]) -> bool:
    a = (
        min(p.bbox[0] for p in before),
        min(p.bbox[1] for p in before),
        max(p.bbox[2] for p in before),
        max(p.bbox[3] for p in before),
    )
    b = (
        min(p.bbox[0] for p in after),
        min(p.bbox[1] for p in after),
        max(p.bbox[2] for p in after),
        max(p.bbox[3] for p in after),
    )
    if not all(p.bbox[3] - p.bbox[1] < 2.5 * max(p.size, 1.0) for p in (*before, *after)):
        return False  # rotated or stacked text: not one row
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    if overlap <= 0.5 * min(a[3] - a[1], b[3] - b[1]):
        return False
    sizes = [p.size for p in (*before, *after)]
    if max(sizes) > 1.25 * max(min(sizes), 1.0):
        return False  # a cell's large example glyphs beside a note in small type: two cells
    return max(b[0] - a[2], a[0] - b[2]) <= 1.0 * max(max(sizes), 1.0)


def _wide_gaps(pieces: list[Line]) -> list[tuple[float, float]]:
    return [
        (left.bbox[2], right.bbox[0])
        for left, right in itertools.pairwise(pieces)
        if right.bbox[0] - left.bbox[2] >= split_gap(left, right)
    ]


def _gaps(raw: list[list[Line]]) -> list[tuple[float, float]]:
    """Every wide gap between two pieces of a text line, as an x-range."""
    return [gap for pieces in raw for gap in _wide_gaps(pieces)]


def _row_gaps(raw: list[list[Line]]) -> list[tuple[float, float]]:
    """Every wide gap between two text lines side by side on one row, as an x-range.

    A producer that places each word or cell with its own text object leaves a table's header
    as separate lines on its row: their gaps are the column gaps the rows below share. Only
    gaps between short lines (words, cells) count: the gutter between two pages of a spread,
    each line a sentence, says nothing of the gaps inside a line; nor does the wide space after
    a sentence an OCR text layer leaves between two word boxes.
    """
    spans = [
        (
            min(p.bbox[0] for p in pieces),
            min(p.bbox[1] for p in pieces),
            max(p.bbox[2] for p in pieces),
            max(p.bbox[3] for p in pieces),
            pieces,
        )
        for pieces in raw
    ]
    spans.sort(key=lambda span: (span[1], span[0]))
    gaps: list[tuple[float, float]] = []
    for left, right in itertools.pairwise(spans):
        height = min(left[3] - left[1], right[3] - right[1])
        same_row = (
            abs(left[1] - right[1]) <= 0.3 * height and abs(left[3] - right[3]) <= 0.3 * height
        )
        cells = all(
            sum(p.chars for p in span[4]) <= MAX_ROW_GAP_CELL_CHARS for span in (left, right)
        )
        # A wide gap after a full stop is a typist's (or an OCR layer's) sentence space.
        cells = cells and not left[4][-1].text.rstrip().endswith(SENTENCE_END)
        if same_row and cells and right[0] - left[2] >= split_gap(left[4][-1], right[4][0]):
            gaps.append((left[2], right[0]))
    return gaps


def _close_stray_gaps(pieces: list[Line], channels: list[tuple[float, float]]) -> list[Line]:
    """Join pieces across a wide gap that no other line shares.

    A gutter or a table's column gap is a white channel down several lines; a wide gap that
    only this line has (two spaces after a sentence in an OCR text layer, justified text) is
    a space between words.
    """
    if len(pieces) < 2:
        return pieces
    out = [pieces[0]]
    for piece in pieces[1:]:
        left = out[-1]
        gap = (left.bbox[2], piece.bbox[0])
        wide = gap[1] - gap[0] >= split_gap(left, piece)
        shared = sum(1 for x0, x1 in channels if x0 < gap[1] and x1 > gap[0]) - 1
        if wide and shared < MIN_CHANNEL_LINES - 1 and gap[1] > gap[0]:
            text = left.text if left.text.endswith(" ") else left.text + " "
            merged = merge_pieces([replace(left, text=text), piece])
            # A piece keeps the space that ends it (``merge_pieces`` trims the joined text):
            # the next piece is another word ("into the" + "air").
            if piece.text.endswith(" "):
                merged = replace(merged, text=merged.text + " ")
            out[-1] = merged
        else:
            out.append(piece)
    return out


def _runs_on(last: Char | None, char: Char) -> bool:
    """Whether ``char`` goes on, on the same row, just right of ``last`` across a line break
    pdfium made up: it breaks a line where a superscript or subscript ("Touvron*, Lavril",
    "community1.") moves the baseline, and where a producer positions each word or syllable
    with its own text object ("can be base" + "d on LLMs"), though the reader sees one line."""
    if last is None or last.style is None or char.style is None:
        return False
    if not (last.style.upright and char.style.upright):
        return False
    size = max(last.style.size, char.style.size, 1.0)
    overlap = min(last.y1, char.y1) - max(last.y0, char.y0)
    height = min(last.y1 - last.y0, char.y1 - char.y0)
    if last.style.size == char.style.size:
        # One style: the same baseline, and no wider a gap than a word space.
        return (
            abs(last.y1 - char.y1) <= SAME_BASELINE_EMS * size
            and -0.1 * size <= char.x0 - last.x1 <= RUN_ON_GAP_EMS * size
        )
    return overlap > 0.3 * height and -0.5 * size <= char.x0 - last.x1 <= 1.0 * size


def _walled(left: Char, right: Char, walls: Sequence[tuple[float, float, float]]) -> bool:
    """Whether a vertical rule runs between two neighbouring glyphs."""
    x0, x1 = sorted((left.x1, right.x0))
    middle = (right.y0 + right.y1) / 2
    return any(x0 - 0.5 <= x <= x1 + 0.5 and top <= middle <= bottom for x, top, bottom in walls)


def _starts_line(style: Style, top: float, bottom: float, char: Char) -> bool:
    """Whether ``char`` lies wholly above or below the line built so far.

    Rotated text runs along its own axis: it continues while the style stays the same.
    """
    assert char.style is not None
    if not char.style.upright or not style.upright:
        return char.style is not style
    return char.y0 >= bottom or char.y1 <= top


def _pieces(chars: list[Char]) -> list[Line]:
    """Runs of one style without a wide gap, as one-piece lines with their own spacing."""
    glyphs = [char for char in chars if char.style is not None and not blank(char.code)]
    if not glyphs:
        return []
    tracking = _tracking(glyphs)
    pieces: list[Line] = []
    current: _Run | None = None
    space = ""  # "real": a space in the content stream; "made": one pdfium inserted
    script = ""  # the next run's digits are superscripts or subscripts (``_script``)
    for char in chars:
        if char.code == HYPHEN_MARK:
            if current is not None:
                current.text.append("-")
            continue
        if blank(char.code):
            if char.style is not None:
                space = "real"
            elif not space:
                # A line break pdfium made up is a space only where the glyphs stand apart.
                space = "break" if char.code in LINE_BREAKS else "made"
            continue
        style = char.style
        assert style is not None
        if current is not None:
            previous = current.last
            gap = max(char.x0 - previous.x1, previous.x0 - char.x1, 0.0)
            if not style.upright:
                gap = max(gap, char.y0 - previous.y1, previous.y0 - char.y1)
            size = max(style.size, 1.0)
            # Letter-spaced text has wide gaps between all its glyphs: only a gap wider than
            # the line's own letter spacing separates words or pieces.
            # A font without a size (pdfium reads 0) is measured by its glyphs' height.
            em = style.size if style.size > 0 else char.y1 - char.y0
            letters = min(tracking, MAX_TRACKING_EMS * em) if em > 0 else tracking
            if style is not current.style or gap > letters + PIECE_GAP_EMS * size:
                spaced = space in ("real", "made") or gap >= letters + MIN_WORD_GAP_EMS * size
                pieces.append(current.line(trailing_space=spaced))
                current = None
                script = "" if spaced else _script(previous, char)
            elif space == "real" or (space and gap >= letters + MIN_WORD_GAP_EMS * size):
                current.text.append(" ")
        if current is None:
            current = _Run(
                style=style, last=char, box=[char.x0, char.y0, char.x1, char.y1], script=script
            )
        current.add(char)
        space = ""
    if current is not None:
        pieces.append(current.line(trailing_space=False))
    return pieces


def _script(previous: Char, char: Char) -> str:
    """ "sup" or "sub" when ``char`` is a digit set smaller and above or below the baseline of
    the digit it follows: a footnote mark after a figure ("273,879,750¹") written as a plain
    digit would run into the figure and change its value."""
    if previous.style is None or char.style is None:
        return ""
    if not (chr(previous.code).isdigit() and chr(char.code).isdigit()):
        return ""
    if char.style.size > SHIFTED_SIZE * previous.style.size:
        return ""
    if previous.y1 - char.y1 > SAME_BASELINE_EMS * previous.style.size:
        return "sup"
    if char.y1 - previous.y1 > SAME_BASELINE_EMS * previous.style.size:
        return "sub"
    return ""


@dataclass(slots=True)
class _Run:
    style: Style
    last: Char
    box: list[float]
    text: list[str] = field(default_factory=list)
    script: str = ""  # "sup"/"sub": a raised or lowered run after a figure; its digits as such
    count: int = 0

    def add(self, char: Char) -> None:
        text = text_of(char.code)
        if self.script:
            text = text.translate(SUPERSCRIPTS if self.script == "sup" else SUBSCRIPTS)
        self.text.append(text)
        self.count += 1
        self.last = char
        box = self.box
        box[0], box[1] = min(box[0], char.x0), min(box[1], char.y0)
        box[2], box[3] = max(box[2], char.x1), max(box[3], char.y1)

    def line(self, *, trailing_space: bool) -> Line:
        # A piece keeps the space that ends it: merged pieces keep their own spacing.
        return Line(
            text="".join(self.text) + (" " if trailing_space else ""),
            bbox=(self.box[0], self.box[1], self.box[2], self.box[3]),
            size=self.style.size,
            bold=self.style.bold,
            chars=self.count,
            starts_bold=self.style.bold,
            ends_bold=self.style.bold,
        )


def _tracking(glyphs: list[Char]) -> float:
    """The usual gap between neighbouring glyphs of the line (its letter spacing).

    Right-to-left glyphs come in reading order, each left of the one before: their gap is
    measured leftwards (counting only rightward steps, a short Arabic line would have the jump
    between two of its words as its letter spacing, and lose the space between them). The
    lower median: on a line of a few glyphs, one gap of two is a word space."""
    gaps = sorted(
        max(0.0, b.x0 - a.x1) if b.x0 >= a.x0 else max(0.0, a.x0 - b.x1)
        for a, b in itertools.pairwise(glyphs)
        if b.style is a.style and (b.x0 >= a.x0 or (_rtl(a.code) and _rtl(b.code)))
    )
    return gaps[(len(gaps) - 1) // 2] if gaps else 0.0


def _rtl(code: int) -> bool:
    return has_rtl(chr(code))
