"""Paragraph candidates in reading order → typed ``Block``s: headings, paragraphs, list items.

* headings come from font statistics: the most common size is body text; clearly larger, short
  groups are headings, and so is a short bold group at body size (one line, or up to three
  where a narrow column wraps it; bold capitals may be a little smaller); their levels come
  from ``layout.levels`` (size ranks, then weight and case, then numbering depth); a bold
  subtitle right under a centred title is part of the title block, a paragraph;
* bulleted or numbered lines become list items (``layout.paragraphs`` splits a group into a
  paragraph and items, and joins paragraphs a page break or a run-in lead cut);
* line-break hyphens are removed ("docu-" + "ment" → "document");
* running headers and footers, when kept, become ``page_header`` / ``page_footer`` blocks.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pagemill.processors.convert.layout.levels import (
    HeadingStyle,
    heading_levels,
    is_capitals,
    is_indented,
)
from pagemill.processors.convert.layout.lines import (
    BULLET,
    Atom,
    Group,
    Line,
    PageLayout,
    is_vertical,
    union,
)
from pagemill.processors.convert.layout.paragraphs import (
    body_segments,
    join_run_in_leads,
    join_run_on,
)
from pagemill.processors.document import BBox, Block, block_id_for

HEADING_SIZE_RATIO = 1.15  # this much larger than body text (and at least 1 pt) reads as a heading
HEADING_MIN_SIZE_GAP = 1.0
MAX_HEADING_LINES = 3
MAX_HEADING_CHARS = 200
MAX_BOLD_HEADING_CHARS = 120
TITLE_GAP_EMS = 1.0  # lines of one heading size at most this far apart are one title
BOLD_RUN_GAP_EMS = 1.5  # bold lines of body size this close one below another are one block
MIN_FOOT_PAGE_LINES = 5  # a page with fewer other lines says nothing about its last row
MIN_BOLD_STACK = 3  # when this many stack up (a heading and its subtitle are two)
# Bold capitals read as a heading down to this share of the body size ("INTRODUCTION" at 11 pt
# over 12 pt text): capitals make up for the smaller type.
CAPS_MIN_SIZE = 0.9
SIZE_STEP = 0.5  # sizes are compared after rounding to half points: 10.48 and 10.5 are one size
DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*\S*$")  # "1 Introduction . . . . 7": a contents entry


@dataclass(frozen=True, slots=True)
class BodyStyle:
    size: float
    bold: bool


def round_size(size: float) -> float:
    return round(size / SIZE_STEP) * SIZE_STEP


def join_lines(lines: Iterable[str]) -> str:
    """Join the lines of a paragraph, removing hyphens that only broke a word across lines.

    "docu-" + "ment" → "document"; "Jean-" + "Paul" and "2019-" + "2020" keep their hyphen (a
    capital or a digit after the break says the hyphen is part of the text), without a space.
    """
    joined = ""
    for line in lines:
        if not line:
            continue
        if not joined:
            joined = line
        elif _ends_in_break_hyphen(joined):
            joined = joined[:-1] + line if line[0].islower() else joined + line
        else:
            joined = f"{joined} {line}"
    return joined


def _ends_in_break_hyphen(text: str) -> bool:
    # "docu-" yes; "well -" and "-" alone no: those are dashes, not broken words.
    return len(text) >= 2 and text[-1] == "-" and text[-2].isalnum()


def body_style(layouts: Iterable[PageLayout]) -> BodyStyle | None:
    chars_by_size: Counter[float] = Counter()
    bold_by_size: Counter[float] = Counter()
    for layout in layouts:
        for group in layout.groups:
            if isinstance(group, Atom):
                continue
            for line in group:
                chars_by_size[line.size] += line.chars
                if line.bold:
                    bold_by_size[line.size] += line.chars
    if not chars_by_size:
        return None
    size = chars_by_size.most_common(1)[0][0]
    return BodyStyle(size=size, bold=bold_by_size[size] * 2 > chars_by_size[size])


def _group_size(lines: Sequence[Line]) -> float:
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += line.chars
    return weights.most_common(1)[0][0]


def _group_bold(lines: Sequence[Line]) -> bool:
    return sum(line.chars for line in lines if line.bold) * 2 > sum(line.chars for line in lines)


def heading_rule(lines: Sequence[Line], body: BodyStyle) -> str | None:
    """``"size"`` or ``"bold"`` when the group of ``lines`` reads as a heading, else ``None``."""
    text = join_lines(line.text for line in lines)
    if len(lines) > MAX_HEADING_LINES or len(text) > MAX_HEADING_CHARS:
        return None
    if not any(char.isalpha() for char in text):
        return None  # large page numbers and figure labels are not headings
    if any(is_vertical(line) for line in lines):
        return None  # a stamp up the margin, however large, is no section title
    if DOT_LEADER.search(text):
        return None  # table-of-contents entries are often bold but are not the sections
    size = _group_size(lines)
    if size >= body.size * HEADING_SIZE_RATIO and size - body.size >= HEADING_MIN_SIZE_GAP:
        return "size"
    if (
        _group_bold(lines)
        and not body.bold  # in an all-bold document bold says nothing
        and len(text) <= MAX_BOLD_HEADING_CHARS  # wrapped in a narrow column: several lines
        and (
            size >= body.size - SIZE_STEP
            or (is_capitals(text) and size >= CAPS_MIN_SIZE * body.size)
        )
        and not text.endswith((".", ",", ";"))
    ):
        return "bold"
    return None


def _join_across_pages(layouts: Sequence[PageLayout]) -> None:
    """A paragraph the page break cuts mid-sentence goes on at the top of the next page (in
    place, ``join_run_on``). The block stays on the page where it starts."""
    for before, after in itertools.pairwise(layouts):
        join_run_on(before.groups, after.groups)


def _beside_text(group: Sequence[Line], lines: Sequence[Line]) -> bool:
    """Whether another line sits on the group's row within an em of it: a label in a margin
    box ("TIP" beside its note) or a table cell, not a section title, which has its row to
    itself within its column."""
    members = {id(line) for line in group}
    for line in group:
        em, height = line.size, line.bbox[3] - line.bbox[1]
        for other in lines:
            overlap = min(other.bbox[3], line.bbox[3]) - max(other.bbox[1], line.bbox[1])
            if id(other) in members or overlap < 0.5 * min(height, other.bbox[3] - other.bbox[1]):
                continue  # stacked above or below, not beside
            gap = max(other.bbox[0] - line.bbox[2], line.bbox[0] - other.bbox[2])
            if 0 <= gap < em:
                return True
    return False


def _at_page_foot(group: Sequence[Line], lines: Sequence[Line]) -> bool:
    """Whether the group is on the page's last row with other text beside it (a footer: the
    document's title beside the page number). A section title opens the text under it: on the
    last row of a page, sharing that row, it is furniture of a page too short to prove it."""
    bottom = max(line.bbox[3] for line in group)
    top = min(line.bbox[1] for line in group)
    members = {id(line) for line in group}
    others = [line for line in lines if id(line) not in members]
    if len(others) < MIN_FOOT_PAGE_LINES or any(line.bbox[1] >= bottom for line in others):
        return False
    return any(
        min(line.bbox[3], bottom) - max(line.bbox[1], top) > 0 and line.bbox[1] > top - line.size
        for line in others
    )


def _leads_block(group: Sequence[Line], after: Sequence[Line]) -> bool:
    """A bold line on top of a centred block of regular lines of its size, at line spacing:
    an author's name over the affiliation, not a section title (a heading stands apart from
    what follows, or is followed by text of another size)."""
    last, first = group[-1], after[0]
    size = last.size
    tolerance = max(2.0, 0.5 * size)
    lines = [last, *after]
    centred = max(ln.center_x for ln in lines) - min(ln.center_x for ln in lines) <= tolerance
    ragged = max(ln.bbox[0] for ln in lines) - min(ln.bbox[0] for ln in lines) > tolerance
    return (
        not first.bold
        and first.size == size
        and first.bbox[1] - last.bbox[3] <= 0.5 * size
        and centred
        and ragged
    )


def _join_block_leads(groups: list[Group], body: BodyStyle) -> list[Group]:
    """A bold lead on top of its centred block (``_leads_block``: an author's name over the
    affiliation) is the block's first line: one paragraph, not a name and an address."""
    out: list[Group] = []
    for group in groups:
        previous = out[-1] if out else None
        if (
            isinstance(previous, list)
            and isinstance(group, list)
            and heading_rule(previous, body) == "bold"
            and _leads_block(previous, group)
        ):
            previous.extend(group)
        else:
            out.append(group)
    return out


def _merge_heading_runs(groups: list[Group], rules: dict[int, str | None]) -> list[Group]:
    """Runs of heading candidates that are really one block, merged.

    * A title set on several lines with loose leading (wider than a paragraph's, so the lines
      came as separate groups) is one heading: lines of one heading size straight below one
      another, within ``TITLE_GAP_EMS``, overlapping across.
    * Bold lines of body size that share their row, or stack three or more deep at line
      spacing, centred and ragged (the names of a paper's authors), are one paragraph, not a
      run of headings: a section title has its row to itself, and stacked headings
      ("DEPARTMENT OF …" over "Federal … Administration") share their left edge.
    """
    out: list[Group] = []
    run: list[list[Line]] = []  # bold candidates, each right after the one before
    row_mates = False  # two of them share a row

    def close_run() -> None:
        nonlocal row_mates
        if (len(run) >= MIN_BOLD_STACK and _centred(run)) or (len(run) > 1 and row_mates):
            first = run[0]
            for other in run[1:]:
                first.extend(other)
                out.remove(other)
            rules[id(first)] = None
        run.clear()
        row_mates = False

    for group in groups:
        previous = out[-1] if out else None
        rule = rules.get(id(group)) if isinstance(group, list) else None
        if isinstance(previous, list) and isinstance(group, list) and rule is not None:
            if (
                rule == "size"
                and rules.get(id(previous)) == "size"
                and _same_title(previous, group)
            ):
                previous.extend(group)
                continue
            if rule == "bold" and run and run[-1] is previous:
                link = _bold_link(run, group)
                if link is not None:
                    row_mates = row_mates or link == "row"
                    run.append(group)
                    out.append(group)
                    continue
        close_run()
        if rule == "bold" and isinstance(group, list):
            run.append(group)
        out.append(group)
    close_run()
    return out


def _drop_subtitles(groups: Sequence[Group], rules: dict[int, str | None]) -> None:
    """A bold line set right under a heading at line spacing, centred on the heading's axis
    but not on its left edge, is the title's subtitle ("U.S. Copyright Office Summary" under
    the act's name): part of a title block, not a section of its own, so a paragraph."""
    for above, below in itertools.pairwise(groups):
        if (
            isinstance(above, list)
            and isinstance(below, list)
            and rules.get(id(above)) is not None
            and rules.get(id(below)) == "bold"
            and _subtitle(above[-1], below[0])
        ):
            rules[id(below)] = None


def _subtitle(last: Line, first: Line) -> bool:
    tolerance = max(2.0, 0.5 * first.size)
    gap = first.bbox[1] - last.bbox[3]
    return (
        -0.2 * first.size <= gap <= 0.5 * first.size
        and abs(first.center_x - last.center_x) <= tolerance
        and abs(first.bbox[0] - last.bbox[0]) > tolerance
    )


def _centred(groups: list[list[Line]]) -> bool:
    lines = [line for group in groups for line in group]
    tolerance = max(2.0, 0.5 * lines[0].size)
    centres = [line.center_x for line in lines]
    lefts = [line.bbox[0] for line in lines]
    return max(centres) - min(centres) <= tolerance < max(lefts) - min(lefts)


def _same_title(above: list[Line], below: list[Line]) -> bool:
    last, first = above[-1], below[0]
    across = min(last.bbox[2], first.bbox[2]) - max(last.bbox[0], first.bbox[0])
    gap = first.bbox[1] - last.bbox[3]
    return (
        last.size == first.size
        and across > 0
        and -0.2 * last.size <= gap <= TITLE_GAP_EMS * last.size
    )


def _bold_link(run: list[list[Line]], below: list[Line]) -> str | None:
    """``"row"`` when ``below`` starts on the row the ``run`` ends on, ``"stack"`` when it is
    right under the run at line spacing, else ``None``."""
    last, first = run[-1][-1], below[0]
    if last.size != first.size:
        return None
    overlap = min(last.bbox[3], first.bbox[3]) - max(last.bbox[1], first.bbox[1])
    if overlap > 0.5 * min(last.bbox[3] - last.bbox[1], first.bbox[3] - first.bbox[1]):
        return "row"
    left = min(line.bbox[0] for group in run for line in group)
    right = max(line.bbox[2] for group in run for line in group)
    across = min(right, first.bbox[2]) - max(left, first.bbox[0])
    gap = first.bbox[1] - last.bbox[3]
    return "stack" if across > 0 and 0 <= gap <= BOLD_RUN_GAP_EMS * last.size else None


def build_blocks(layouts: Sequence[PageLayout], *, keep_furniture: bool) -> list[Block]:
    """Every page's groups as blocks with ids, in reading order; heading levels span the pages."""
    body = body_style(layouts)
    page_lines = {
        layout.page: [line for group in layout.groups if isinstance(group, list) for line in group]
        for layout in layouts
    }
    _join_across_pages(layouts)
    rules: dict[int, str | None] = {}
    for layout in layouts:
        layout.groups = join_run_in_leads(layout.groups)
        lines = page_lines[layout.page]
        if body is not None:
            layout.groups = _join_block_leads(layout.groups, body)
        for group, after in zip(layout.groups, [*layout.groups[1:], None], strict=False):
            if not isinstance(group, Atom) and body is not None:
                rule = heading_rule(group, body)
                if rule is not None and (
                    (isinstance(after, list) and rule == "bold" and _leads_block(group, after))
                    or _beside_text(group, lines)
                    or _at_page_foot(group, lines)
                ):
                    rule = None
                rules[id(group)] = rule
        layout.groups = _merge_heading_runs(layout.groups, rules)
        _drop_subtitles(layout.groups, rules)
    headings = [
        (group, page_lines[layout.page])
        for layout in layouts
        for group in layout.groups
        if not isinstance(group, Atom) and rules.get(id(group)) is not None
    ]
    levels = dict(
        zip(
            (id(group) for group, _ in headings),
            heading_levels(
                [
                    HeadingStyle(
                        rule=rules[id(group)] or "",
                        size=_group_size(group),
                        text=join_lines(line.text for line in group),
                        indented=is_indented(group, lines),
                    )
                    for group, lines in headings
                ],
                body.size if body is not None else 0.0,
            ),
            strict=True,
        )
    )

    blocks: list[Block] = []
    for layout in layouts:
        page = layout.page
        parts: list[tuple[str, BBox, str, int | None, Atom | None]] = []
        if keep_furniture:
            parts.extend(
                ("page_header", ln.bbox, ln.text, None, None) for ln in _by_position(layout.headers)
            )
        for group in layout.groups:
            if isinstance(group, Atom):
                parts.append((group.type, group.bbox, group.text, None, group))
                continue
            level = levels.get(id(group))
            segments = [("heading", group)] if level is not None else body_segments(group)
            for block_type, lines in segments:
                text = join_lines(line.text for line in lines)
                if block_type == "list_item":
                    text = BULLET.sub("", text, count=1)
                box = union(line.bbox for line in lines)
                parts.append((block_type, box, text, level if level is not None else None, None))
        if keep_furniture:
            parts.extend(
                ("page_footer", ln.bbox, ln.text, None, None) for ln in _by_position(layout.footers)
            )
        for index, (block_type, box, text, level, atom) in enumerate(parts):
            blocks.append(
                Block(
                    block_id=block_id_for(page, block_type, index),
                    page=page,
                    bbox=_rounded(box),
                    type=block_type,
                    text=text,
                    level=level if block_type == "heading" else None,
                    rows=atom.rows if atom is not None else None,
                    image=atom.image if atom is not None else None,
                )
            )
    return blocks


def _by_position(lines: list[Line]) -> list[Line]:
    return sorted(lines, key=lambda line: (round(line.bbox[1]), line.bbox[0]))


def _rounded(box: BBox) -> BBox:
    return round(box[0], 2), round(box[1], 2), round(box[2], 2), round(box[3], 2)
