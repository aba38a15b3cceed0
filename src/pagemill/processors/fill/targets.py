"""What a form's targets are called: AcroForm fields with the label printed beside them, and
the labels of pages without fields."""

from __future__ import annotations

from collections.abc import Sequence

from pagemill.processors.fill.acroform import FormField
from pagemill.processors.fill.matching import Target
from pagemill.processors.fill.text import Box, Spot, TextLine, label_spots

MAX_LEFT_DISTANCE = 250.0  # points between a label's end and its field
GAP_LINE_HEIGHTS = 2.0  # a wider gap inside a line separates two labels


def field_targets(
    fields: Sequence[FormField], lines: dict[int, list[TextLine]]
) -> list[tuple[Target, FormField]]:
    found: list[tuple[Target, FormField]] = []
    for index, form_field in enumerate(fields):
        label = nearby_label(form_field.rect, lines.get(form_field.page, []))
        texts = tuple(
            dict.fromkeys(
                t
                for t in (form_field.name, form_field.tooltip, label, *_leaf(form_field.name))
                if t
            )
        )
        found.append((Target(f"f{index}", texts, form_field.page, form_field.kind), form_field))
    return found


def _leaf(name: str) -> tuple[str, ...]:
    """``form1[0].page1[0].last_name[0]`` → ``last_name``: generated prefixes say nothing."""
    leaf = name.rsplit(".", 1)[-1].split("[", 1)[0]
    return (leaf,) if leaf and leaf != name else ()


def label_targets(lines: dict[int, list[TextLine]]) -> list[tuple[Target, Spot]]:
    found: list[tuple[Target, Spot]] = []
    for page in sorted(lines):
        for line in lines[page]:
            for spot in label_spots(line):
                if spot.label:
                    target = Target(f"l{len(found)}", (spot.label,), page, "label")
                    found.append((target, spot))
    return found


def nearby_label(rect: Box, lines: Sequence[TextLine]) -> str:
    """The text just left of the field on its row, else the text just above it."""
    x0, y0, x1, y1 = rect
    height = max(y1 - y0, 1.0)
    best_left: tuple[float, str] | None = None
    best_above: tuple[float, str] | None = None
    for line in lines:
        line_height = max(line.bbox[3] - line.bbox[1], 1.0)
        overlap = min(y1, line.bbox[3]) - max(y0, line.bbox[1])
        if overlap >= 0.4 * min(height, line_height) and line.bbox[0] < x0:
            text, end = _text_between(line, x0 - MAX_LEFT_DISTANCE, x0 + 2)
            if text and (best_left is None or x0 - end < best_left[0]):
                best_left = (x0 - end, text)
        elif (
            line.bbox[3] <= y0 + 2
            and y0 - line.bbox[3] <= max(2.5 * height, 24.0)
            and min(x1, line.bbox[2]) - max(x0, line.bbox[0]) > 0
        ):
            text, _ = _text_between(line, x0 - 10, x1 + 10)
            gap = y0 - line.bbox[3]
            if text and (best_above is None or gap < best_above[0]):
                best_above = (gap, text)
    if best_left is not None:
        return best_left[1]
    return best_above[1] if best_above is not None else ""


def _text_between(line: TextLine, low: float, high: float) -> tuple[str, float]:
    """The last run of the line's text whose pieces lie in [low, high], and where it ends."""
    height = max(line.bbox[3] - line.bbox[1], 1.0)
    runs: list[list[int]] = []
    previous_end: float | None = None
    for number, box in enumerate(line.boxes):
        if box[0] < low or box[2] > high:
            continue
        if previous_end is None or box[0] - previous_end > GAP_LINE_HEIGHTS * height:
            runs.append([])
        runs[-1].append(number)
        previous_end = box[2]
    if not runs:
        return "", 0.0
    last = runs[-1]
    start = line.offsets[last[0]]
    end = line.offsets[last[-1] + 1] if last[-1] + 1 < len(line.offsets) else len(line.text)
    text = line.text[start:end].strip(" :_.\t")
    return text, line.boxes[last[-1]][2]
