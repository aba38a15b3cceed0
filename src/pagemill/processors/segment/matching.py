"""Pages → segments: page features, document boundaries, schema matching, auto-detection.

A page *starts a document* (a strong boundary) when its first block is a heading and no other
heading on the page is more prominent — the way invoices, letters and résumés begin. A
continuation marker keeps a document together: a page that says "page k of n" with k > 1
(in a heading, its first lines or its running header or footer), or whose first heading or
line says "continued" / "(cont.)", continues the page before, and so does the page after one
that says "page k of n" with k < n; "page 1 of n" starts a document.

Schema matching scores each page against each segment with TF-IDF cosine over the page's
headings (weighted x3), its first lines (x1) and the rest of its text (x0.3), against the
segment's name (x2), description (x1) and concept words (x0.5). A dynamic programme then labels
every page with one segment: switching segments is free at a strong boundary and costs
``SWITCH_PENALTY`` elsewhere, so continuation pages stay with the segment they continue. A run
of pages with one label is split again where a strong boundary's headings name the segment
themselves (two invoices in a row are two segments; a report's section pages are not).

Auto-detection starts a segment at every strong boundary and names it by its heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pagemill.processors.document import Block, Document
from pagemill.processors.segment.lexical import (
    Counts,
    TfIdf,
    cosine,
    expand_concepts,
    jaccard,
    tokens,
    weighted_counts,
)
from pagemill.processors.segment.schema import SegmentSpec

SWITCH_PENALTY = 0.35
REPEAT_SHARE = 0.2
FIRST_LINES_WORDS = 60
MAX_NAME_CHARS = 120
FURNITURE = ("page_header", "page_footer")
CONTINUED = re.compile(r"\b(cont(inued|'d|\.)|fortsetzung)(?!\w)", re.IGNORECASE)
PAGE_OF = re.compile(r"\b(?:page|p\.|seite|pg\.?)\s*(\d{1,4})\s*(?:of|/|von)\s*(\d{1,4})\b", re.I)
MARKER_WORDS = 30  # the first words of a page searched for a continuation marker


@dataclass(slots=True)
class Page:
    number: int
    blocks: list[Block]
    headings: list[Block] = field(default_factory=list)
    starts_document: bool = False
    # (k, n) of a "page k of n" marker on the page, if it has one
    page_of: tuple[int, int] | None = None

    @property
    def first_heading(self) -> Block | None:
        return self.headings[0] if self.headings else None

    def first_lines(self) -> str:
        words: list[str] = []
        for block in self.blocks:
            if block.type != "heading":
                words.extend(block.text.split())
            if len(words) >= FIRST_LINES_WORDS:
                break
        return " ".join(words[:FIRST_LINES_WORDS])

    def text(self) -> str:
        return " ".join(block.text for block in self.blocks)


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    pages: list[int]
    confidence: str  # high | medium | low

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "pages": self.pages, "confidence": self.confidence}


def pages_of(document: Document) -> list[Page]:
    pages: list[Page] = []
    for number in document.pages:
        everything = [b for b in document.blocks_on(number) if b.text.strip()]
        blocks = [b for b in everything if b.type not in FURNITURE]
        page = Page(number, blocks, [b for b in blocks if b.type == "heading"])
        # Running headers and footers: kept as blocks, or (by default) only in the metadata.
        running = [b.text for b in everything if b.type in FURNITURE]
        running += document.metadata.get("running_text", {}).get(str(number), [])
        page.page_of = _page_of(page, running)
        pages.append(page)
    for index, page in enumerate(pages):
        before = pages[index - 1] if index else None
        page.starts_document = index == 0 or (
            not _continues(page, before) and (_opens(page) or _starts_document(page))
        )
    return pages


def _page_of(page: Page, running: list[str]) -> tuple[int, int] | None:
    """The page's "page k of n" marker (1 ≤ k ≤ n), from its headings, first words or
    running header and footer."""
    words = " ".join(page.first_lines().split()[:MARKER_WORDS])
    for text in [*(b.text for b in page.headings), words, *running]:
        for match in PAGE_OF.finditer(text):
            k, n = int(match.group(1)), int(match.group(2))
            if 1 <= k <= n:
                return k, n
    return None


def _continues(page: Page, before: Page | None) -> bool:
    """Whether a continuation marker ties ``page`` to the page before it."""
    if page.page_of is not None:
        return page.page_of[0] > 1
    if before is not None and before.page_of is not None and before.page_of[0] < before.page_of[1]:
        return True  # the page before said more pages follow
    first = page.blocks[0].text if page.blocks else ""
    return bool(CONTINUED.search(first))


def _opens(page: Page) -> bool:
    return page.page_of is not None and page.page_of[0] == 1 and page.page_of[1] > 1


def _starts_document(page: Page) -> bool:
    if not page.blocks or page.blocks[0].type != "heading":
        return False
    top = page.blocks[0]
    return not any((h.level or 9) < (top.level or 9) for h in page.headings)


# --- auto-detection ---------------------------------------------------------------------------


def auto_segments(pages: list[Page]) -> list[Segment]:
    if not pages:
        return []
    runs: list[list[Page]] = []
    sections: list[bool] = []
    document: list[Page] = []  # the pages since the last split that was not a section
    for page in pages:
        if not runs or page.starts_document:
            section = bool(runs) and _is_section(page, document)
            sections.append(section)
            runs.append([page])
            document = [*document, page] if section else [page]
        else:
            runs[-1].append(page)
            document.append(page)
    return [
        _auto_segment(run, index, section)
        for index, (run, section) in enumerate(zip(runs, sections, strict=True))
    ]


def _is_section(page: Page, run: list[Page]) -> bool:
    """Whether the heading on top of ``page`` has the level of the *sections* of the document
    ``run`` reads: a level it already used below its title ("Section 2" after "Report" and
    "Section 1"). Such a page may start a section rather than a new document: it still
    starts a segment (segments are named sections), with medium confidence."""
    levels = [h.level or 9 for p in run for h in p.headings]
    if not levels:
        return False
    subordinate = {level for level in levels if level > min(levels)}
    return (page.blocks[0].level or 9) in subordinate


def _auto_segment(run: list[Page], index: int, section: bool) -> Segment:
    first = run[0]
    numbers = [page.number for page in run]
    if first.blocks and first.blocks[0].type == "heading":
        return Segment(_name(first.blocks[0].text), numbers, "medium" if section else "high")
    for page in run:
        if page.headings:
            prominent = min(page.headings, key=lambda h: h.level or 9)
            return Segment(_name(prominent.text), numbers, "medium")
    for page in run:
        if page.blocks:
            return Segment(_name(page.blocks[0].text), numbers, "low")
    return Segment(f"Section {index + 1}", numbers, "low")


def _name(text: str) -> str:
    name = " ".join(text.split())
    if len(name) > MAX_NAME_CHARS:
        name = name[: MAX_NAME_CHARS - 1].rstrip() + "…"
    return name


# --- schema matching --------------------------------------------------------------------------


def page_counts(page: Page) -> Counts:
    first_lines = page.first_lines()
    return weighted_counts(
        [
            *((heading.text, 3.0) for heading in page.headings),
            (first_lines, 1.0),
            (page.text(), 0.3),
        ]
    )


def segment_counts(spec: SegmentSpec) -> Counts:
    counts = weighted_counts([(spec.name, 2.0), (spec.description, 1.0)])
    named = tokens(spec.name) + tokens(spec.description)
    for term in expand_concepts(named)[len(named) :]:
        counts[term] = counts.get(term, 0.0) + 0.5
    return counts


def similarity(
    pages: list[Page], specs: list[SegmentSpec]
) -> tuple[list[list[float]], list[list[float]]]:
    """``S[p][k]``: how much page ``p`` looks like segment ``k``; and the same for the page's
    headings alone (what a new document announces itself with)."""
    page_counts_ = [page_counts(page) for page in pages]
    spec_counts = [segment_counts(spec) for spec in specs]
    model = TfIdf([*page_counts_, *spec_counts])
    sv = [model.vector(counts) for counts in spec_counts]
    pv = [model.vector(counts) for counts in page_counts_]
    hv = [model.vector(weighted_counts((h.text, 1.0) for h in page.headings)) for page in pages]
    return (
        [[cosine(page, spec) for spec in sv] for page in pv],
        [[cosine(page, spec) for spec in sv] for page in hv],
    )


def match_segments(pages: list[Page], specs: list[SegmentSpec]) -> list[Segment]:
    if not pages or not specs:
        return []
    scores, heading_scores = similarity(pages, specs)
    labels = _best_labels(pages, scores)
    segments: list[Segment] = []
    run_start = 0
    for index in range(1, len(pages) + 1):
        if (
            index < len(pages)
            and labels[index] == labels[run_start]
            and not _repeats(
                pages[run_start],
                pages[index],
                heading_scores[index][labels[index]],
                heading_scores[run_start][labels[run_start]],
            )
        ):
            continue
        k = labels[run_start]
        segments.append(
            Segment(
                specs[k].name,
                [page.number for page in pages[run_start:index]],
                _confidence(scores, run_start, index, k),
            )
        )
        run_start = index
    return segments


def _best_labels(pages: list[Page], scores: list[list[float]]) -> list[int]:
    n_specs = len(scores[0])
    best = list(scores[0])
    back: list[list[int]] = []
    for p in range(1, len(pages)):
        penalty = 0.0 if pages[p].starts_document else SWITCH_PENALTY
        top = max(range(n_specs), key=lambda j: best[j])
        row: list[int] = []
        current: list[float] = []
        for k in range(n_specs):
            stay, switch = best[k], best[top] - penalty
            if top != k and switch > stay:
                row.append(top)
                current.append(switch + scores[p][k])
            else:
                row.append(k)
                current.append(stay + scores[p][k])
        back.append(row)
        best = current
    label = max(range(n_specs), key=lambda j: best[j])
    labels = [label]
    for row in reversed(back):
        label = row[label]
        labels.append(label)
    return labels[::-1]


def _repeats(start: Page, page: Page, own: float, first: float) -> bool:
    """Whether ``page`` starts a second document of the kind that starts at ``start``: it starts
    a document and either repeats the first one's heading or its headings name that kind
    (``own``, their score, at least ``REPEAT_SHARE`` of ``first``, the first page's)."""
    if not page.starts_document or start.first_heading is None or page.first_heading is None:
        return False
    if jaccard(start.first_heading.text, page.first_heading.text) >= 0.5:
        return True
    return own > 0.0 and own >= REPEAT_SHARE * first


def _confidence(scores: list[list[float]], start: int, end: int, k: int) -> str:
    """How clearly the run's pages, on average, match segment ``k`` rather than any other."""
    run = scores[start:end]
    means = [sum(row[j] for row in run) / len(run) for j in range(len(run[0]))]
    own = means[k]
    rival = max((m for j, m in enumerate(means) if j != k), default=0.0)
    if own >= 0.1 and own >= 2 * rival:
        return "high"
    if own >= 0.03 and own > rival:
        return "medium"
    return "low"
