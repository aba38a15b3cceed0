"""Running headers and footers: text repeated at the same height near the top or bottom.

Removing furniture must never remove content, so a line is furniture only when all of this holds:

* it sits in the top or bottom tenth of the page (a bare page number: the top or bottom 15%),
  at the same height (within a few points) on at least two pages and on at least a quarter of
  the pages parsed;
* its text is the same on those pages, or differs only in numbers **and** reads as a page
  number ("7", "Page 3 of 10", "- 4 -") or is set smaller than the body text. Headings and
  body lines that differ only in a number ("Section 3", "Invoice no. 1042", the first lines of
  each page of a scanned form) are content. In a line set smaller than the body, letters
  misread by OCR ("VICKSBURG", "VICKSBUEG": at least 10 letters, 90% alike, at the height of
  such a line on one of the two pages before) count as a difference like a number's;
* a line set larger than the body text must repeat on at least three pages: on two, it is a
  title on each copy of a document printed twice (an invoice's original and copy);
* every other line on its row is furniture too: a table row whose first cells happen to repeat
  ("Closure", "07/17/2015") is content. A bare page number on a running head's row is
  furniture with it, even on a page where the folio is not apart from the head.

One page alone is no evidence: a single-page selection keeps its furniture as text.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pagemill.processors.convert.layout.lines import Line, PageLayout

FURNITURE_BAND = 0.10  # share of the page height at the top and at the bottom
SAME_HEIGHT = 4.0  # points: scans drift a little from page to page
DIGITS = re.compile(r"\d+")
ROMAN = re.compile(r"\b[ivxlc]+\b")
# What is left of a page number once digits are masked: "#", "page # of #", "- # -", "p. #".
PAGE_NUMBER = re.compile(
    r"^[\s\-–—|.(\[]*(?:(?:page|pages|p\.|pg\.?|seite|página|pagina|side|sida|страница)\s*)?"  # noqa: RUF001
    r"#(?:\s*(?:/|of|von|de|sur|di|van|из)\s*#)?[\s\-–—|.)\]]*$",  # noqa: RUF001
    re.IGNORECASE,
)
# A line that ends in "Page #" or "Page # of #" after some words, numbers masked.
TITLED_FOLIO = re.compile(
    r"\s(?:page|seite|página|pagina|p\.)\s*#(?:\s*(?:/|of|von|de|sur|di|van)\s*#)?$",
    re.IGNORECASE,
)
SMALLER = 0.9  # set at most this share of the body size: a folio or a footer line
# A line set this much larger than the body, repeated on fewer pages than this, is a title (an
# invoice printed as original and copy), not a running head.
LARGER = 1.15
TITLE_REPEATS = 3
FOLIO_BAND = 0.15  # a bare page number is looked for this far in from the top and bottom
MIN_FUZZY_LETTERS = 10  # shorter lines must repeat exactly: "Part I" and "Part II" differ
FUZZY_SAME = 0.9  # letters this alike (difflib ratio) are one line misread
MISREAD_PAGES = 2  # a misread running head is compared with those of this many pages before


def find_furniture(pages: Sequence[tuple[int, float, Sequence[Line]]]) -> set[tuple[int, int]]:
    """``(page, line index)`` of running headers and footers (see the module's rules).

    ``pages`` holds ``(page, page height, lines)``.
    """
    body_size = _body_size(line for _, _, lines in pages for line in lines)
    seen: dict[tuple[str, str], list[tuple[float, int, int, str, Line]]] = defaultdict(list)
    recent: list[_Seen] = []  # small lines of the band on the last pages, for misread heads
    band_lines: dict[int, list[tuple[int, Line]]] = defaultdict(list)
    for ordinal, (page, height, lines) in enumerate(pages):
        recent = [seen_line for seen_line in recent if ordinal - seen_line.ordinal <= MISREAD_PAGES]
        for index, line in enumerate(lines):
            text = " ".join(line.text.lower().split())
            key = DIGITS.sub("#", text)
            # A bare folio may sit a little further in (LaTeX sets it about 11% up the page).
            reach = FOLIO_BAND if _bare_folio(key) else FURNITURE_BAND
            center = line.center_y
            if center <= reach * height:
                band = "top"
            elif center >= (1 - reach) * height:
                band = "bottom"
            else:
                continue
            position = center if band == "top" else height - center
            if body_size > 0 and line.size <= SMALLER * body_size:
                key = _canonical(_Seen(ordinal, band, position, key), recent)
            seen[(band, key)].append((position, page, index, text, line))
            band_lines[page].append((index, line))
    needed = max(2, -(-len(pages) // 4))
    candidates: set[tuple[int, int]] = set()
    for (_, key), occurrences in seen.items():
        for cluster in _clusters(sorted(occurrences, key=lambda item: item[0])):
            repeats = len({page for _, page, _, _, _ in cluster})
            if repeats < needed:
                continue
            if repeats < TITLE_REPEATS and _larger(cluster, body_size):
                continue  # a title on each copy of a document printed twice: content
            if len({text for _, _, _, text, _ in cluster}) > 1 and not _folio(
                key, [line for *_, line in cluster], body_size
            ):
                continue  # differs in numbers: content unless it reads as a page number
            candidates.update((page, index) for _, page, index, _, _ in cluster)
    candidates |= _folios_beside(band_lines, candidates)
    return {
        (page, index)
        for page, index in candidates
        if _row_is_furniture(page, index, band_lines[page], candidates)
    }


def _bare_folio(key: str) -> bool:
    return bool(PAGE_NUMBER.match(key) or PAGE_NUMBER.match(ROMAN.sub("#", key)))


def _letters(key: str) -> str:
    return "".join(char for char in key if char.isalpha())


@dataclass(slots=True)
class _Seen:
    ordinal: int  # the page's place in the selection
    band: str
    position: float  # from the page edge of its band
    key: str  # the key it is counted under


def _canonical(line: _Seen, recent: list[_Seen]) -> str:
    """The key a small line of a band is counted under: that of a small line at its height on
    one of the last pages that spells the same words but for a misread letter or two (an OCR
    text layer reads "VICKSBURG" on one page and "VICKSBUEG" on the next) and a folio run into
    the line ("50 THE SIEGE ..."). Only the last few pages are compared, so a long document
    costs a few comparisons per line; ``line`` joins ``recent``."""
    letters = _letters(line.key)
    if len(letters) >= MIN_FUZZY_LETTERS:
        for earlier in recent:
            other = _letters(earlier.key)
            if (
                earlier.band == line.band
                and earlier.ordinal < line.ordinal
                and abs(earlier.position - line.position) <= SAME_HEIGHT
                and abs(len(other) - len(letters)) <= 2
                and difflib.SequenceMatcher(None, letters, other).ratio() >= FUZZY_SAME
            ):
                line.key = earlier.key
                break
    recent.append(line)
    return line.key


def _folios_beside(
    band_lines: dict[int, list[tuple[int, Line]]], candidates: set[tuple[int, int]]
) -> set[tuple[int, int]]:
    """Bare page numbers on the row of a running head ("THE SIEGE OF VICKSBURG.  49"): the
    head repeats, and its folio, drawn apart on some pages and run into it on others, goes
    with it."""
    found: set[tuple[int, int]] = set()
    for page, lines in band_lines.items():
        for index, line in lines:
            key = DIGITS.sub("#", " ".join(line.text.lower().split()))
            if (page, index) in candidates or not _bare_folio(key):
                continue
            top, bottom = line.bbox[1], line.bbox[3]
            if any(
                (page, other_index) in candidates and other.bbox[1] < bottom and other.bbox[3] > top
                for other_index, other in lines
            ):
                found.add((page, index))
    return found


def _body_size(lines: Iterable[Line]) -> float:
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += line.chars
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _larger(cluster: list[tuple[float, int, int, str, Line]], body_size: float) -> bool:
    return body_size > 0 and all(line.size >= LARGER * body_size for *_, line in cluster)


def _folio(key: str, lines: list[Line], body_size: float) -> bool:
    if _bare_folio(key):
        return True
    if TITLED_FOLIO.search(key):
        return True  # "Copyright Office Summary December 1998 Page 9": a footer with its folio
    return body_size > 0 and all(line.size <= SMALLER * body_size for line in lines)


def _row_is_furniture(
    page: int, index: int, lines: list[tuple[int, Line]], candidates: set[tuple[int, int]]
) -> bool:
    """Every line sharing this line's row is furniture too."""
    line = dict(lines)[index]
    top, bottom = line.bbox[1], line.bbox[3]
    return all(
        (page, other_index) in candidates
        for other_index, other in lines
        if other_index != index and other.bbox[1] < bottom and other.bbox[3] > top
    )


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
    occurrences: list[tuple[float, int, int, str, Line]], tolerance: float = SAME_HEIGHT
) -> Iterable[list[tuple[float, int, int, str, Line]]]:
    cluster: list[tuple[float, int, int, str, Line]] = []
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
