"""Heading levels from the evidence on the page: size ranks, then weight and case, then numbering.

The headings of a document (``layout.blocks`` decides which groups are headings and by which
rule) are ranked once for all its pages, so a section title has one level wherever it is:

* headings clearly larger than body text ("size") rank by size, largest first; sizes less than
  ``SAME_RANK_RATIO`` apart are one rank (a producer that sets one level at 11 and 12 pt does
  not mean two levels; designed steps between levels are wider);
* bold headings near body size ("bold") rank below every size rank: capitals above mixed case
  ("INTRODUCTION" over "Technical Amendments"), then larger than body, at body size, smaller.
  Their sizes are compared with the body's, not with each other, since they differ from it by a
  point at most;
* numbering is depth: when a document numbers its top sections ("1 Introduction",
  "2. Method"), a heading numbered "2.1" is one level below them and "2.1.3" two, whatever its
  type says (many papers set sections and subsections alike); under roman sections
  ("II. Method"), lettered ones ("A. Data") are one level below.

Level 1 is the document's highest rank, so its first-level headings are ``#`` throughout.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pagemill.processors.convert.layout.lines import Line

MAX_HEADING_LEVEL = 6  # Markdown's deepest heading
SAME_RANK_RATIO = 1.1  # heading sizes closer than this are one level
MIN_EDGE_LINES = 2  # a column's text edge is a left edge at least this many lines share
MIN_CAPS_LETTERS = 3  # "I." is no evidence of capitals; "TITLE I" is
# "2 Method", "2. Method", "2.1 Scores", "Section 2 Method"
SECTION_NUMBER = re.compile(r"^(?:(?:Section|§)\s*)?(\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+\S")
ROMAN_NUMBER = re.compile(r"^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})[.:]\s+\S")  # "IV. Results"
LETTER_NUMBER = re.compile(r"^[A-Z][.)]\s+\S")  # "B. Data"


@dataclass(frozen=True, slots=True)
class HeadingStyle:
    """What a heading's level is read from."""

    rule: str  # "size" | "bold", as ``blocks.heading_rule`` decided
    size: float
    text: str
    indented: bool = False  # set in from its column's text edge, and not centred in it


def is_capitals(text: str) -> bool:
    """Whether every letter of ``text`` is a capital (and there are a few of them)."""
    letters = [char for char in text if char.isalpha()]
    return len(letters) >= MIN_CAPS_LETTERS and all(char.isupper() for char in letters)


def numbering_depth(text: str) -> int | None:
    """1 for "2 Method", "2. Method" and "Section 2 Method", 2 for "2.1 Scores", …; ``None``
    when not numbered in decimals."""
    match = SECTION_NUMBER.match(text)
    if match is None:
        return None
    return match.group(1).count(".") + 1


def outline_mark(text: str) -> str | None:
    """``"roman"`` for "IV. Results", ``"letter"`` for "B. Data" (a subsection under roman
    sections), else ``None``."""
    if ROMAN_NUMBER.match(text):
        return "roman"
    if LETTER_NUMBER.match(text):
        return "letter"
    return None


def _size_ranks(sizes: set[float]) -> dict[float, int]:
    """Rank of each size (0 = largest), sizes within ``SAME_RANK_RATIO`` of the rank's
    largest sharing it."""
    ranks: dict[float, int] = {}
    rank, top = -1, 0.0
    for size in sorted(sizes, reverse=True):
        if rank < 0 or size * SAME_RANK_RATIO <= top:
            rank, top = rank + 1, size
        ranks[size] = rank
    return ranks


def _bold_key(style: HeadingStyle, body_size: float) -> tuple[int, int, int]:
    """Sorts bold headings from the most prominent: capitals first, then by size against the
    body's (larger, equal, smaller), then flush before indented."""
    against_body = 0 if style.size > body_size else 1 if style.size == body_size else 2
    return (0 if is_capitals(style.text) else 1, against_body, int(style.indented))


def is_indented(heading: Sequence[Line], lines: Sequence[Line]) -> bool:
    """Whether the ``heading`` starts more than an em right of its column's text edge (the
    leftmost edge that several of the page's other ``lines`` below or above it share: not a
    lone outdented title, nor the indent of first lines and list items) without being centred
    in the column: an outline's deeper heading, set in like a paragraph's first line."""
    left = min(line.bbox[0] for line in heading)
    right = max(line.bbox[2] for line in heading)
    members = {id(line) for line in heading}
    column = [
        line
        for line in lines
        if id(line) not in members and line.bbox[0] < right and line.bbox[2] > left
    ]
    if not column:
        return False
    em = heading[0].size
    starts = Counter(round(line.bbox[0]) for line in column)
    shared = [start for start, count in starts.items() if count >= MIN_EDGE_LINES]
    edge = min(shared) if shared else starts.most_common(1)[0][0]
    # The column's right edge: where its lines that start at the edge end (a title or a
    # full-width line crossing the column does not widen it).
    far = max(line.bbox[2] for line in column if round(line.bbox[0]) == edge)
    centred = abs((left + right) / 2 - (edge + far) / 2) <= em
    return left - edge > em and not centred


def heading_levels(styles: Sequence[HeadingStyle], body_size: float) -> list[int]:
    """The level (1 = highest) of each heading in ``styles``, in the same order."""
    size_ranks = _size_ranks({style.size for style in styles if style.rule == "size"})
    bold_keys = sorted({_bold_key(style, body_size) for style in styles if style.rule == "bold"})
    first_bold = len(set(size_ranks.values()))
    levels = [
        size_ranks[style.size] + 1
        if style.rule == "size"
        else first_bold + bold_keys.index(_bold_key(style, body_size)) + 1
        for style in styles
    ]
    return [min(level, MAX_HEADING_LEVEL) for level in _by_numbering(styles, levels)]


def _by_numbering(styles: Sequence[HeadingStyle], levels: list[int]) -> list[int]:
    """Levels of numbered headings set by their numbers, when the document numbers its top
    sections: decimal depth below the top numbered sections ("1 Introduction" at level 2 makes
    "2.1 Scores" level 3), and lettered subsections one level below roman sections ("II. Data"
    at level 2 makes "A. Sources" level 3). Roman sections are all at the level of the highest."""
    depths = [numbering_depth(style.text) for style in styles]
    marks = [outline_mark(style.text) for style in styles]
    decimal = [level for level, depth in zip(levels, depths, strict=True) if depth == 1]
    roman = [level for level, mark in zip(levels, marks, strict=True) if mark == "roman"]
    out = list(levels)
    for index, (depth, mark) in enumerate(zip(depths, marks, strict=True)):
        if decimal and depth is not None:
            out[index] = min(decimal) + depth - 1
        elif roman and mark is not None:
            out[index] = min(roman) + (mark == "letter")
    return out
