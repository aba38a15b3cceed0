"""What OCR does not report, estimated from the page: font size, weight and paragraph breaks.

Tesseract gives each text line a row height and its words' boxes, but no font size or weight,
and it often glues a heading to the paragraph under it. Headings on scanned pages are found by
the same font statistics as on text pages (``layout.blocks``), so this module supplies them:

* **size** from the row's x-height plus ascenders. Tesseract's row height also counts the
  descenders, which it has to guess on a line without descending letters, so the same style
  comes out up to 15 % apart; the part above the baseline is steadier. Sizes of one document
  within about 10 % of each other are then taken for one size (``harmonise_sizes``).
* **weight** from the stroke width measured on Tesseract's own binarised image (ink area over
  the number of ink runs across and down): a line whose strokes are clearly thicker than the
  page's body text, size for size, is bold. A row of table cells (words set apart by
  cell-wide gaps) is a row whatever its weight, never a bold heading.
* **paragraph breaks** inside a Tesseract paragraph: at a jump in size, at a change of weight,
  and after a short line followed by a gap clearly wider than the page's line spacing.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pagemill.processors.convert.layout.lines import Line

SIZE_JUMP = 1.25  # consecutive lines whose sizes differ this much are a heading and its text
SAME_SIZE = 1.10  # one document's sizes this close are one size misjudged
BOLD_STROKE = 1.25  # strokes this much thicker than the body text's (size for size) are bold
TAB_GAP_EMS = 2.0  # a gap this many sizes wide between two words separates table cells
SHORT_LINE = 0.8  # a line narrower than this share of its paragraph's widest line ends early
GAP_PITCH = 1.3  # a baseline-to-baseline distance this much above the page's is a break
MIN_PITCHES = 3  # line spacings needed on a page before gaps can be judged


@dataclass(slots=True)
class Measured:
    """A recognised line with what was measured for it on the page image."""

    line: Line
    stroke: float  # mean stroke width in pixels; 0 when there is no ink
    baseline: float  # the baseline's height at the line's start, in points from the top
    tabbed: bool  # its words are set apart by cell-wide gaps: a table row


def stroke_width(ink: Any, box: tuple[int, int, int, int]) -> float:
    """Mean stroke width in pixels inside ``box`` of ``ink`` (mode "L", ink 255, paper 0).

    A stroke of width w and length l covers w·l pixels and is crossed by about l runs of ink
    (rows across an upright stroke, columns down a flat one), so area / runs ≈ w.
    """
    from PIL import Image, ImageChops

    crop = ink.crop(box)
    width, height = crop.size
    if width < 2 or height < 2:
        return 0.0
    area: int = crop.histogram()[255]
    if not area:
        return 0.0
    shifted_right = Image.new("L", crop.size, 0)
    shifted_right.paste(crop.crop((0, 0, width - 1, height)), (1, 0))
    shifted_down = Image.new("L", crop.size, 0)
    shifted_down.paste(crop.crop((0, 0, width, height - 1)), (0, 1))
    # A run starts where there is ink and none just left of it (or just above it).
    runs: int = (
        ImageChops.subtract(crop, shifted_right).histogram()[255]
        + ImageChops.subtract(crop, shifted_down).histogram()[255]
    )
    return area / max(1, runs)


def tabbed(boxes: Sequence[tuple[int, int, int, int]], size_px: float) -> bool:
    """Whether two consecutive words are further apart than table cells, not words, would be."""
    ordered = sorted(boxes)
    return any(
        right[0] - left[2] > TAB_GAP_EMS * size_px for left, right in itertools.pairwise(ordered)
    )


def refine_page(paragraphs: list[list[Measured]]) -> list[list[Line]]:
    """One page's Tesseract paragraphs with weights set and glued paragraphs split."""
    _mark_bold([m for paragraph in paragraphs for m in paragraph])
    pitch = _line_pitch(paragraphs)
    parts: list[list[Line]] = []
    for paragraph in paragraphs:
        widest = max(m.line.bbox[2] - m.line.bbox[0] for m in paragraph)
        previous: Measured | None = None
        for measured in paragraph:
            if previous is None or _breaks(previous, measured, widest, pitch):
                parts.append([])
            parts[-1].append(measured.line)
            previous = measured
    return parts


def harmonise_sizes(lines: Iterable[Line]) -> None:
    """Give sizes within ``SAME_SIZE`` of a more common size that size, across a document.

    Sizes are visited from the most characters down; each joins the nearest size already kept
    that it is close to, or is kept itself. Ranking heading levels by size then sees one size
    per style instead of every half point a row-height estimate wandered to.
    """
    lines = list(lines)
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += line.chars
    kept: list[float] = []
    mapping: dict[float, float] = {}
    for size, _ in sorted(weights.items(), key=lambda entry: (-entry[1], entry[0])):
        near = [other for other in kept if max(other, size) <= SAME_SIZE * min(other, size)]
        if near:
            mapping[size] = min(near, key=lambda other: abs(other - size))
        else:
            kept.append(size)
            mapping[size] = size
    for line in lines:
        line.size = mapping[line.size]


def _mark_bold(measured: list[Measured]) -> None:
    inked = [m for m in measured if m.stroke > 0]
    if not inked:
        return
    weights: Counter[float] = Counter()
    for m in inked:
        weights[m.line.size] += m.line.chars
    body_size = weights.most_common(1)[0][0]
    body = [m for m in inked if _close(m.line.size, body_size)]
    # The character-weighted median: long lines of body text outvote a few short headings.
    strokes = sorted((m.stroke, m.line.chars) for m in body)
    half, seen, typical = sum(chars for _, chars in strokes) / 2, 0, strokes[-1][0]
    for stroke, chars in strokes:
        seen += chars
        if seen >= half:
            typical = stroke
            break
    for m in inked:
        # Strokes grow with the size; a smaller line is not scaled up (blur thickens small
        # print more than it thins it).
        scaled = m.stroke * min(1.0, body_size / max(m.line.size, 1.0))
        m.line.bold = not m.tabbed and scaled >= BOLD_STROKE * typical


def _line_pitch(paragraphs: list[list[Measured]]) -> float:
    """The page's usual baseline-to-baseline distance inside paragraphs, in sizes; 0 if unknown."""
    pitches = [
        (b.baseline - a.baseline) / max(a.line.size, b.line.size)
        for paragraph in paragraphs
        for a, b in itertools.pairwise(paragraph)
        if _close(a.line.size, b.line.size) and b.baseline > a.baseline
    ]
    return statistics.median(pitches) if len(pitches) >= MIN_PITCHES else 0.0


def _breaks(previous: Measured, measured: Measured, widest: float, pitch: float) -> bool:
    a, b = previous.line, measured.line
    if max(a.size, b.size) > SIZE_JUMP * min(a.size, b.size):
        return True
    if a.bold != b.bold:
        return True  # a bold heading glued to its paragraph, or bold text after regular
    short = a.bbox[2] - a.bbox[0] < SHORT_LINE * widest
    spacing = (measured.baseline - previous.baseline) / max(a.size, b.size)
    return short and pitch > 0 and spacing > GAP_PITCH * pitch


def _close(size: float, other: float) -> bool:
    return max(size, other) <= SAME_SIZE * min(size, other)
