"""Page ranges such as ``0,2-4`` (0-indexed, inclusive), as the hosted API accepts them."""

from __future__ import annotations

from pagemill.domain.errors import InvalidInput

MAX_PAGE_INDEX = 1_000_000
_MAX_DIGITS = len(str(MAX_PAGE_INDEX))


def parse_page_range(text: str) -> list[int]:
    """Parse ``text`` into sorted, unique 0-based page indexes.

    Raises ``InvalidInput`` with a message that names the offending part. The cost is linear
    in the length of ``text`` plus the number of pages returned (overlapping parts such as
    ``0-999999,0-999999,…`` are merged before any page is listed).
    """
    return [page for start, end in _intervals(text) for page in range(start, end + 1)]


def _intervals(text: str) -> list[tuple[int, int]]:
    """The parts of ``text`` as sorted, disjoint, non-adjacent inclusive intervals."""
    if not text or not text.strip():
        raise InvalidInput("page_range is empty; expected e.g. '0,2-4'.")
    parts: list[tuple[int, int]] = []
    for raw_part in text.split(","):
        part = raw_part.strip()
        if not part:
            raise InvalidInput(f"page_range {text!r} has an empty part.")
        if "-" in part:
            start_text, _, end_text = part.partition("-")
            start, end = _index(start_text, text), _index(end_text, text)
            if start > end:
                raise InvalidInput(f"page_range part {part!r} runs backwards.")
            parts.append((start, end))
        else:
            page = _index(part, text)
            parts.append((page, page))
    parts.sort()
    merged = [parts[0]]
    for start, end in parts[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end + 1:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def _index(value: str, whole: str) -> int:
    stripped = value.strip()
    # ASCII only: str.isdigit() also accepts "²" or "٣", which int() refuses or misreads.
    if not (stripped.isascii() and stripped.isdigit()):
        raise InvalidInput(
            f"page_range {whole!r}: {stripped!r} is not a page number "
            "(pages are 0-indexed, e.g. '0,2-4')."
        )
    digits = stripped.lstrip("0") or "0"
    # Checked before int(): a long digit string is slow to convert (or over Python's limit).
    if len(digits) > _MAX_DIGITS or int(digits) > MAX_PAGE_INDEX:
        raise InvalidInput(f"page_range {whole!r}: page {digits[:20]} is out of range.")
    return int(digits)


def select_pages(
    page_count: int, page_range: str | None, max_pages: int | None = None
) -> list[int]:
    """The pages of a ``page_count``-page document to process, in order.

    ``page_range`` wins over ``max_pages`` (as in the hosted API); pages past the end are an error
    only when none of the requested pages exists.
    """
    if page_range:
        pages = [
            page
            for start, end in _intervals(page_range)
            if start < page_count
            for page in range(start, min(end, page_count - 1) + 1)
        ]
        if not pages:
            raise InvalidInput(
                f"page_range {page_range!r} selects no page of a {page_count}-page document."
            )
        return pages
    pages = list(range(page_count))
    if max_pages is not None:
        if max_pages < 1:
            raise InvalidInput("max_pages must be at least 1.")
        pages = pages[:max_pages]
    return pages
