"""Running headers and footers: text repeated at the same height near the top or bottom.

A line is furniture when its text, with digits masked (so "Page 3 of 10" matches "Page 4 of 10"
and bare page numbers match each other), sits in the top or bottom tenth of the page at the same
height (within a few points) on at least two pages, and on at least a quarter of the pages
parsed. One page alone is no evidence: a single-page selection keeps its furniture as text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pagemill.processors.convert.layout.lines import Line, PageLayout

FURNITURE_BAND = 0.10  # share of the page height at the top and at the bottom
SAME_HEIGHT = 4.0  # points: scans drift a little from page to page
DIGITS = re.compile(r"\d+")


def find_furniture(pages: Sequence[tuple[int, float, Sequence[Line]]]) -> set[tuple[int, int]]:
    """``(page, line index)`` of running headers and footers.

    A line is furniture when its text, with digits masked (so "Page 3 of 10" matches
    "Page 4 of 10" and bare page numbers match each other), sits in the top or bottom band of
    the page at the same height (within a few points) on at least two pages, and on at least a
    quarter of the pages parsed. ``pages`` holds ``(page, page height, lines)``.
    """
    seen: dict[tuple[str, str], list[tuple[float, int, int]]] = defaultdict(list)
    for page, height, lines in pages:
        for index, line in enumerate(lines):
            center = line.center_y
            if center <= FURNITURE_BAND * height:
                band = "top"
            elif center >= (1 - FURNITURE_BAND) * height:
                band = "bottom"
            else:
                continue
            key = DIGITS.sub("#", " ".join(line.text.lower().split()))
            position = center if band == "top" else height - center
            seen[(band, key)].append((position, page, index))
    needed = max(2, -(-len(pages) // 4))
    furniture: set[tuple[int, int]] = set()
    for occurrences in seen.values():
        for cluster in _clusters(sorted(occurrences)):
            if len({page for _, page, _ in cluster}) >= needed:
                furniture.update((page, index) for _, page, index in cluster)
    return furniture


def set_apart(
    layout: PageLayout, height: float, lines: Sequence[Line], furniture: set[tuple[int, int]]
) -> list[Line]:
    """The body lines of ``layout``'s page; its furniture goes to ``headers``/``footers``.

    ``lines`` are numbered as they were for ``find_furniture``.
    """
    body: list[Line] = []
    for index, line in enumerate(lines):
        if (layout.page, index) not in furniture:
            body.append(line)
        elif line.center_y < height / 2:
            layout.headers.append(line)
        else:
            layout.footers.append(line)
    return body


def _clusters(
    occurrences: list[tuple[float, int, int]], tolerance: float = SAME_HEIGHT
) -> Iterable[list[tuple[float, int, int]]]:
    cluster: list[tuple[float, int, int]] = []
    for occurrence in occurrences:
        if cluster and occurrence[0] - cluster[0][0] > tolerance:
            yield cluster
            cluster = []
        cluster.append(occurrence)
    if cluster:
        yield cluster


def running_text(layouts: Iterable[PageLayout]) -> dict[str, list[str]]:
    """Each page's running headers and footers (top to bottom), for ``metadata``: dropped from
    the blocks, they still say "page 2 of 3" to the steps that read the checkpoint."""
    return {
        str(layout.page): [line.text for line in sorted(lines, key=lambda ln: ln.bbox[1])]
        for layout in layouts
        if (lines := [*layout.headers, *layout.footers])
    }
