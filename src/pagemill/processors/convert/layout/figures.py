"""Text drawn inside a figure (a diagram's labels, a chart's axes, a screenshot's callouts).

Read as prose, a figure's labels become dozens of one-line paragraphs ("Model Input", "Output:",
"Month") scattered between the text around it. A figure is a cluster of drawings and images
(curves, slanted lines, pictures: not the straight rules tables are made of), and the text in
it is smaller than the body text. Its lines are kept, in their own reading order, as one
paragraph at the figure's place: every word stays, and the text around reads on.

Text in a box with body-size type (a note, a sidebar) is prose and is left alone, and so is a
background image that covers most of the page (a scan with its OCR text layer).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from pagemill.processors.convert.layout.blocks import join_lines
from pagemill.processors.convert.layout.columns import reading_order
from pagemill.processors.convert.layout.lines import Atom, Line, union
from pagemill.processors.document import BBox

CLUSTER_GAP = 12.0  # points: graphics and labels this close belong to one figure
MAX_GRAPHIC_SHARE = 0.5  # a graphic covering more of the page is a background, not a figure
INSIDE_PAD = 2.0
PANEL_GAP = 36.0  # points: the panels of one figure stand at most this far apart
MIN_FIGURE_WIDTH = 72.0
MIN_FIGURE_HEIGHT = 36.0
MIN_FIGURE_LINES = 3
SMALL_TEXT_RATIO = 0.9  # figure labels are set smaller than this share of the body size
SMALL_TEXT_SHARE = 0.6  # of the characters inside the figure
MAX_LABEL_WIDTH = 0.35  # of the page width: a wider line of small type is a note, not a label


def figure_text(
    lines: Sequence[Line],
    graphics: Sequence[BBox],
    page_size: tuple[float, float],
    body_size: float | None,
) -> tuple[list[Atom], list[Line]]:
    """Each figure's text as one paragraph atom, and the lines outside every figure."""
    if not graphics or body_size is None or not lines:
        return [], list(lines)
    width, height = page_size
    area = max(1.0, width * height)
    boxes = [
        box
        for box in graphics
        if (box[2] - box[0]) * (box[3] - box[1]) < MAX_GRAPHIC_SHARE * area
        and box[2] > 0
        and box[3] > 0
        and box[0] < width
        and box[1] < height
    ]
    # A figure's labels tie its parts together (panels set apart by white space, a caption
    # inside the frame): short lines of small type join the graphics they are near.
    glue = [
        line.bbox
        for line in lines
        if line.size < SMALL_TEXT_RATIO * body_size
        and line.bbox[2] - line.bbox[0] < MAX_LABEL_WIDTH * width
    ]
    prose = [  # a large glyph without a letter or digit ("…", an arrow) is part of the art
        line
        for line in lines
        if line.size >= SMALL_TEXT_RATIO * body_size and any(c.isalnum() for c in line.text)
    ]
    regions = [
        region
        for region in _clusters([*boxes, *glue], CLUSTER_GAP)
        if any(_contains(region, box, 0.0) for box in boxes)
    ]
    atoms: list[Atom] = []
    taken: set[int] = set()
    for region in _panels(regions, prose):
        art = union(box for box in boxes if _contains(region, box, 0.0))
        if art[2] - art[0] < MIN_FIGURE_WIDTH or art[3] - art[1] < MIN_FIGURE_HEIGHT:
            continue
        members = [line for line in lines if id(line) not in taken and _inside(line, region)]
        if len(members) < MIN_FIGURE_LINES:
            continue
        chars = sum(line.chars for line in members)
        small = sum(line.chars for line in members if line.size < SMALL_TEXT_RATIO * body_size)
        if small < SMALL_TEXT_SHARE * chars:
            continue
        taken.update(id(line) for line in members)
        groups = reading_order(members)
        text = " ".join(
            join_lines(line.text for line in group)
            for group in groups
            if not isinstance(group, Atom)
        )
        atoms.append(Atom(bbox=union(line.bbox for line in members), type="paragraph", text=text))
    return atoms, [line for line in lines if id(line) not in taken]


def _inside(line: Line, region: BBox) -> bool:
    return _contains(region, line.bbox, INSIDE_PAD)


def _contains(region: BBox, box: BBox, pad: float) -> bool:
    return (
        box[0] >= region[0] - pad
        and box[1] >= region[1] - pad
        and box[2] <= region[2] + pad
        and box[3] <= region[3] + pad
    )


def _panels(regions: list[BBox], prose: Sequence[Line]) -> list[BBox]:
    """Figures side by side at one height, a little apart, with no prose between them, are the
    panels of one figure (a diagram, then a screenshot of its use)."""
    merged = True
    while merged:
        merged = False
        for a, b in itertools.combinations(range(len(regions)), 2):
            first, second = regions[a], regions[b]
            if not _near(first, second, PANEL_GAP):
                continue
            both = union((first, second))
            if any(
                _contains(both, line.bbox, 0.0)
                and not _contains(first, line.bbox, INSIDE_PAD)
                and not _contains(second, line.bbox, INSIDE_PAD)
                for line in prose
            ):
                continue
            regions = [r for index, r in enumerate(regions) if index not in (a, b)] + [both]
            merged = True
            break
    return regions


def _clusters(boxes: Sequence[BBox], gap: float) -> list[BBox]:
    """The bounding boxes of groups of graphics that touch or nearly touch."""
    regions = [tuple(box) for box in boxes]
    merged = True
    while merged:
        merged = False
        out: list[tuple[float, ...]] = []
        for box in regions:
            for index, other in enumerate(out):
                if _near(box, other, gap):
                    out[index] = (
                        min(box[0], other[0]),
                        min(box[1], other[1]),
                        max(box[2], other[2]),
                        max(box[3], other[3]),
                    )
                    merged = True
                    break
            else:
                out.append(box)
        regions = out
    return [(r[0], r[1], r[2], r[3]) for r in regions]


def _near(a: Sequence[float], b: Sequence[float], gap: float) -> bool:
    return a[0] - gap <= b[2] and b[0] - gap <= a[2] and a[1] - gap <= b[3] and b[1] - gap <= a[3]
