"""Paragraph candidates joined and split: what goes on across a page break or a spread's
fold, a bold lead run into its paragraph, and a body group cut into a paragraph and list items.

``layout.blocks`` types the groups (headings, paragraphs, list items); the rules here decide
where one paragraph ends and the next begins once the lines are grouped.
"""

from __future__ import annotations

from pagemill.processors.convert.layout.lines import (
    SENTENCE_END,
    Atom,
    Group,
    Line,
    list_marker,
)

__all__ = ["body_segments", "join_run_in_leads", "join_run_on"]

FULL_LINE_EMS = 3.0  # a line ending this close to its block's right edge was wrapped
MAX_STRAY_MARK_CHARS = 8  # "—4", "12", "* * *": a mark at a page's foot, not a paragraph
NOTE_SIZE_GAP = 1.0  # points smaller than the text that goes on: a footnote or a footer


def join_run_on(before: list[Group], after: list[Group]) -> None:
    """Join the first group of ``after`` onto the last of ``before`` (in place) when a page
    break (or a spread's fold) cuts a paragraph: the last group ends unfinished, the next
    starts in lower case in the same style. What sits after it at the foot of the page stays
    where it is and does not cut the paragraph: footnotes and a one-off footer (set at least a
    point smaller than the text that goes on) and stray marks (a printer's signature mark
    "—4", a folio not proven to repeat: no letters)."""
    if not before or not after or isinstance(after[0], Atom):
        return
    first = after[0]
    tail = len(before)
    while tail > 1 and (_stray_mark(before[tail - 1]) or _smaller(before[tail - 1], first[0].size)):
        tail -= 1
    last = before[tail - 1]
    if isinstance(last, Atom):
        return
    end, start = last[-1], first[0]
    if (
        (end.size, end.bold) == (start.size, start.bold)
        and any(char.isalpha() for char in end.text)  # not a page number
        and not end.text.endswith(SENTENCE_END)
        and start.text[:1].islower()
    ):
        last.extend(first)
        after.pop(0)


def _smaller(group: Group, size: float) -> bool:
    return isinstance(group, list) and all(line.size <= size - NOTE_SIZE_GAP for line in group)


def _stray_mark(group: Group) -> bool:
    return (
        isinstance(group, list)
        and len(group) == 1
        and len(group[0].text) <= MAX_STRAY_MARK_CHARS
        and not any(char.isalpha() for char in group[0].text)
    )


def join_run_in_leads(groups: list[Group]) -> list[Group]:
    """A bold lead run into its paragraph ("Capital gain distributions. If you ...") is the
    paragraph's start, not a heading: its bold run stops inside its last line, or wraps onto
    the next line, which goes on in regular type. The lead's group and the paragraph's are one."""
    out: list[Group] = []
    for group in groups:
        previous = out[-1] if out else None
        if isinstance(previous, list) and isinstance(group, list) and _run_in(previous, group):
            previous.extend(group)
        else:
            out.append(group)
    return out


def _run_in(lead: list[Line], after: list[Line]) -> bool:
    last, first = lead[-1], after[0]
    if not (last.bold or last.starts_bold) or first.size != last.size:
        return False
    if not 0 <= first.bbox[1] - last.bbox[3] <= 0.6 * last.size:
        return False  # set apart by space: a heading over its paragraph
    stops_inside = last.starts_bold and not last.ends_bold
    wraps_on = first.starts_bold and not first.bold
    return stops_inside or wraps_on or _fills_line(lead, after)


def _fills_line(lead: list[Line], after: list[Line]) -> bool:
    """A bold lead that ends its sentence where its line ends ("Line 9b—Tax-exempt interest."),
    with the paragraph going on in regular type on the next line, left-aligned with it: it was
    run in, and the paragraph's first word did not fit after it. A heading breaks its line
    although that word would have fitted."""
    last, first = lead[-1], after[0]
    if not last.bold or first.bold or not last.text.endswith(".") or len(lead) > 1:
        return False
    if abs(first.bbox[0] - last.bbox[0]) > 1.0 or len(after) < 2:
        return False  # the measure is known from a paragraph of at least two lines
    measure = max(line.bbox[2] for line in after)
    word = first.text.split()[0]
    char_width = (first.bbox[2] - first.bbox[0]) / max(1, len(first.text))
    return (len(word) + 1) * char_width > measure - last.bbox[2]


def body_segments(lines: list[Line]) -> list[tuple[str, list[Line]]]:
    """Split a body group into a paragraph and/or list items.

    A bulleted or numbered line starts a list item when it opens the group, follows another
    item, or follows a finished sentence; a wrapped line continues an item when it is indented
    past the marker (a hanging indent) or goes on with an unfinished sentence
    (``_sentence_runs_on``), and otherwise starts a paragraph.
    """
    segments: list[tuple[str, list[Line]]] = []
    right = max(line.bbox[2] for line in lines)
    for line in lines:
        current = segments[-1] if segments else None
        starts_item = list_marker(line.text) and (
            current is None
            or current[0] == "list_item"
            or current[1][-1].text.endswith(SENTENCE_END)
        )
        if starts_item:
            segments.append(("list_item", [line]))
        elif current is None or (
            current[0] == "list_item"
            and not _hangs_under(line, current[1])
            and not _sentence_runs_on(current[1][-1], line, right)
        ):
            segments.append(("paragraph", [line]))
        else:
            current[1].append(line)
    return segments


def _sentence_runs_on(previous: Line, line: Line, right: float) -> bool:
    # An item set flush with its bullet ("• Dividends you received as a" over "nominee. See
    # ...") wraps without a hanging indent: a sentence left open goes on, in lower case or
    # after a line that was full (wrapped at the measure: "• Days you commute to work in the"
    # over "United States from ...").
    if previous.text.endswith(SENTENCE_END):
        return False
    full = right - previous.bbox[2] <= FULL_LINE_EMS * previous.size
    return line.text[:1].islower() or line.text[:1].isdigit() or full


def _hangs_under(line: Line, item_lines: list[Line]) -> bool:
    return line.bbox[0] > item_lines[0].bbox[0] + 1.0
