"""Generated PDFs with known content, for tests that need real documents.

``make_pdf`` draws each page exactly as given (headings in large bold type, paragraphs wrapped in
the body font, bulleted list items with a hanging indent), so tests know which text sits on which
page. A ``\\n`` inside a paragraph forces a
line break there, which is how tests place a hyphenated word at the end of a line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

PageContent = Sequence[tuple[str, str]]  # (kind, text), kind in h1|h2|h3|p|li

BODY_FONT = "Helvetica"
BODY_SIZE = 10.5
# kind -> (font, size, leading, space after)
STYLES: dict[str, tuple[str, float, float, float]] = {
    "h1": ("Helvetica-Bold", 22.0, 26.0, 10.0),
    "h2": ("Helvetica-Bold", 15.0, 19.0, 8.0),
    "h3": ("Helvetica-Bold", BODY_SIZE, 14.0, 6.0),  # bold at body size: the lowest heading
    "p": (BODY_FONT, BODY_SIZE, 14.0, 10.0),
    "li": (BODY_FONT, BODY_SIZE, 14.0, 2.0),  # a bullet, then the text with a hanging indent
}
BULLET_INDENT = 14.0
MARGIN = 72.0

_WORDS = [
    *("ledger", "pipeline", "document", "worker", "convert", "segment", "extract", "page"),
    *("block", "heading", "paragraph", "status", "lease", "attempt", "queue", "checkpoint"),
    *("result", "format", "markdown", "server", "client", "schema", "value", "citation"),
    *("execution", "engine", "process", "archive", "invoice", "contract", "report", "summary"),
]


def make_pdf(path: Path, pages: Sequence[PageContent], *, password: str | None = None) -> Path:
    """Write a PDF with one page per item of ``pages``; return ``path``.

    ``password`` encrypts the file (RC4/AES per reportlab's defaults) with that user password.
    Raises ``ValueError`` if a page's content does not fit on one page, so page numbers stay exact.
    """
    width, height = LETTER
    encrypt = StandardEncryption(password, canPrint=1) if password is not None else None
    canvas = Canvas(str(path), pagesize=LETTER, encrypt=encrypt, invariant=1)
    text_width = width - 2 * MARGIN
    for page_number, page in enumerate(pages):
        y = height - MARGIN
        for kind, text in page:
            if kind not in STYLES:
                raise ValueError(f"unknown block kind {kind!r}; expected one of {sorted(STYLES)}")
            font, size, leading, space_after = STYLES[kind]
            indent = BULLET_INDENT if kind == "li" else 0.0
            for line_number, line in enumerate(_wrap(text, font, size, text_width - indent)):
                y -= leading
                if y < MARGIN:
                    raise ValueError(f"content of page {page_number} does not fit on one page")
                canvas.setFont(font, size)
                if kind == "li" and line_number == 0:
                    canvas.drawString(MARGIN, y, "\u2022")
                canvas.drawString(MARGIN + indent, y, line)
            y -= space_after
        canvas.showPage()
    canvas.save()
    return path


def make_large_pdf(path: Path, n_pages: int) -> Path:
    """Write ``n_pages`` pages of a heading and wrapped paragraphs each; return ``path``."""
    pages: list[list[tuple[str, str]]] = []
    for page_number in range(n_pages):
        content: list[tuple[str, str]] = []
        if page_number == 0:
            content.append(("h1", "Generated Report"))
        content.append(("h2", f"Section {page_number + 1}"))
        content.extend(("p", filler_paragraph(page_number * 10 + i, 70)) for i in range(5))
        pages.append(content)
    return make_pdf(path, pages)


def filler_paragraph(seed: int, n_words: int) -> str:
    """A deterministic sentence-like paragraph of ``n_words`` words."""
    words = [_WORDS[(seed * 7 + i * 13 + i // 5) % len(_WORDS)] for i in range(n_words)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for forced_line in text.split("\n"):
        lines.extend(simpleSplit(forced_line, font, size, width) or [""])
    return lines
