"""pdfium is not thread-safe: converts run in threads (an in-process compute pool, the library
with no worker processes) must give what they give one at a time.

Without the lock around every pdfium use, eight threads converting these documents at once
returned different Markdown for about a third of them (a workflow test once read an invoice
number without its prefix).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pagemill.processors.convert.extras import extract_links
from pagemill.processors.convert.pdf.parse import parse_pdf
from pagemill.processors.pages import count_pages
from tests.unit.processors.real_documents import real_path

DOCUMENTS = (
    "arxiv-autogen-p1.pdf",
    "census-arrests.pdf",
    "dmca-summary.pdf",
    "amiri-arabic-p1-3.pdf",
    "irs-1040nr-p2.pdf",
    "mtcars-ruled.pdf",
)


def test_converts_in_threads_match_converts_one_at_a_time() -> None:
    paths = [real_path(name) for name in DOCUMENTS]
    alone = {path: parse_pdf(path) for path in paths}

    def convert(path: Path) -> bool:
        document = parse_pdf(path)
        count_pages(path)  # page counting and link reading share pdfium too
        extract_links(path, "pdf", document)
        return document == alone[path]

    with ThreadPoolExecutor(max_workers=8) as pool:
        same = list(pool.map(convert, paths * 3))
    assert all(same), f"{same.count(False)} of {len(same)} threaded converts differed"
