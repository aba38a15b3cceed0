"""Form labels on one row, apart only by the fields drawn between them, are one line.

A form sets "First Name [____] Last Name [____]" or "( ) Female ( ) Male" on one row: the
labels are far apart, so the text layer's gaps read as gutters and every label becomes a
paragraph of its own. A gap that holds a small drawn box of about the line's height (a text
field's frame, a radio button or a check box) is not a gutter between columns: a column
separator is a long rule, and nothing else is drawn in a gutter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pagemill.processors.convert.layout.lines import Line, is_vertical, merge_pieces
from pagemill.processors.convert.pdf.objects import Rule
from pagemill.processors.document import BBox

WIDGET_HEIGHT_LINES = 3.0  # a field's frame is at most this many of its label's lines high
FREE_EMS = 2.0  # of the gap between two labels, at most this much is not the field's


def join_form_rows(
    lines: list[Line], rules: Sequence[Rule], drawings: Sequence[BBox]
) -> list[Line]:
    """``lines`` with the labels of each form row joined across the fields between them; a
    joined line takes the place of its first label, every other line keeps its place."""
    if len(lines) < 2 or not (rules or drawings):
        return lines
    joined: dict[int, Line] = {}  # id of a row's first label -> the joined line
    absorbed: set[int] = set()
    for row in _rows([line for line in lines if not is_vertical(line)]):
        run = [row[0]]
        for line in [*row[1:], None]:
            if line is not None and _field_between(run[-1], line, rules, drawings):
                run.append(line)
                continue
            if len(run) > 1:
                pieces = [replace(piece, text=piece.text + " ") for piece in run[:-1]]
                joined[id(run[0])] = merge_pieces([*pieces, run[-1]])
                absorbed.update(id(piece) for piece in run[1:])
            if line is not None:
                run = [line]
    if not joined:
        return lines
    return [joined.get(id(line), line) for line in lines if id(line) not in absorbed]


def _rows(lines: list[Line]) -> list[list[Line]]:
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.center_y, ln.bbox[0])):
        row = rows[-1] if rows else None
        if row is not None and abs(line.center_y - row[0].center_y) <= 0.3 * _height(row[0]):
            row.append(line)
        else:
            rows.append([line])
    return [sorted(row, key=lambda ln: ln.bbox[0]) for row in rows]


def _height(line: Line) -> float:
    return max(1.0, line.bbox[3] - line.bbox[1])


def _field_between(
    left: Line, right: Line, rules: Sequence[Rule], drawings: Sequence[BBox]
) -> bool:
    """Whether small boxes drawn between the two labels fill the gap between them, all but
    about an em on either side (a field's frame or a radio button next to its label)."""
    x0, x1 = left.bbox[2], right.bbox[0]
    if x1 <= x0:
        return False
    top = min(left.bbox[1], right.bbox[1])
    bottom = max(left.bbox[3], right.bbox[3])
    tallest = WIDGET_HEIGHT_LINES * max(_height(left), _height(right))
    spans: list[tuple[float, float]] = []
    walls = sorted(
        rule.at
        for rule in rules
        if not rule.horizontal
        and x0 <= rule.at <= x1
        and rule.end - rule.start <= tallest
        and rule.start < bottom
        and rule.end > top
    )
    if len(walls) >= 2:
        spans.append((walls[0], walls[-1]))
    spans.extend(
        (bx0, bx1)
        for bx0, by0, bx1, by1 in drawings
        if x0 <= bx0 and bx1 <= x1 and by1 - by0 <= tallest and by0 < bottom and by1 > top
    )
    if not spans:
        return False
    covered = max(end for _, end in spans) - min(start for start, _ in spans)
    em = max(left.size, right.size)
    return x1 - x0 - covered <= FREE_EMS * em
