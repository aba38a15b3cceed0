"""Page ranges such as ``0,2-4`` (0-indexed, inclusive), as the hosted API accepts them."""

from __future__ import annotations

from pagemill.domain.errors import InvalidInput

MAX_PAGE_INDEX = 1_000_000


def parse_page_range(text: str) -> list[int]:
    """Parse ``text`` into sorted, unique 0-based page indexes.

    Raises ``InvalidInput`` with a message that names the offending part.
    """
    if not text or not text.strip():
        raise InvalidInput("page_range is empty; expected e.g. '0,2-4'.")
    pages: set[int] = set()
    for raw_part in text.split(","):
        part = raw_part.strip()
        if not part:
            raise InvalidInput(f"page_range {text!r} has an empty part.")
        if "-" in part:
            start_text, _, end_text = part.partition("-")
            start, end = _index(start_text, text), _index(end_text, text)
            if start > end:
                raise InvalidInput(f"page_range part {part!r} runs backwards.")
            if end - start > MAX_PAGE_INDEX:
                raise InvalidInput(f"page_range part {part!r} is too long.")
            pages.update(range(start, end + 1))
        else:
            pages.add(_index(part, text))
    return sorted(pages)


def _index(value: str, whole: str) -> int:
    stripped = value.strip()
    if not stripped.isdigit():
        raise InvalidInput(
            f"page_range {whole!r}: {stripped!r} is not a page number "
            "(pages are 0-indexed, e.g. '0,2-4')."
        )
    number = int(stripped)
    if number > MAX_PAGE_INDEX:
        raise InvalidInput(f"page_range {whole!r}: page {number} is out of range.")
    return number


def select_pages(
    page_count: int, page_range: str | None, max_pages: int | None = None
) -> list[int]:
    """The pages of a ``page_count``-page document to process, in order.

    ``page_range`` wins over ``max_pages`` (as in the hosted API); pages past the end are an error
    only when none of the requested pages exists.
    """
    if page_range:
        requested = parse_page_range(page_range)
        pages = [p for p in requested if p < page_count]
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
