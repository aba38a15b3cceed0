"""Generated PDFs and page images with known content, for tests that need real documents.

``make_pdf`` draws each page exactly as given (headings in large bold type, paragraphs wrapped in
the body font, bulleted list items with a hanging indent), so tests know which text sits on which
page. A ``\\n`` inside a paragraph forces a line break there, which is how tests place a
hyphenated word at the end of a line.

Beyond plain pages it can draw what real documents do to a converter:

* ``columns=2`` or ``3``: body text flows into columns ("colbreak" items move to the next one);
  an ``h1`` spans all columns. ``row_major=True`` writes the page's text in row-major stream order
  (a line of the left column, then the line beside it in the right column, …), as some
  generators do, while the page looks the same.
* ``header`` / ``footer``: running furniture drawn on every page; ``{page}`` and ``{pages}`` are
  replaced by the 1-based page number and the page count.
* ``("table", "A | B\\n1 | 2")``: a ruled table, one row per line, cells split at ``" | "``.
  ``("grid", …)`` draws the same cells without rules.
* ``("image", "120x80")``: an embedded picture of that size in points (2 pixels per point).
* ``scanned={1}``: those pages are rasterised at ``scan_dpi`` and embedded as one image each, so
  they have no text layer, like a scanner's output.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfgen.canvas import Canvas

PageContent = Sequence[tuple[str, str]]  # (kind, text), kind in h1|h2|h3|p|li|table|grid|image…

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
OTHER_KINDS = ("table", "grid", "image", "colbreak")
BULLET_INDENT = 14.0
MARGIN = 72.0
GUTTER = 24.0
FURNITURE_SIZE = 9.0
FURNITURE_OFFSET = 40.0  # from the page edge to the header's or footer's baseline
TABLE_ROW_HEIGHT = 18.0
CELL_PADDING = 4.0

_WORDS = [
    *("ledger", "pipeline", "document", "worker", "convert", "segment", "extract", "page"),
    *("block", "heading", "paragraph", "status", "lease", "attempt", "queue", "checkpoint"),
    *("result", "format", "markdown", "server", "client", "schema", "value", "citation"),
    *("execution", "engine", "process", "archive", "invoice", "contract", "report", "summary"),
]


@dataclass(frozen=True, slots=True)
class _Text:
    x: float
    y: float  # baseline, PDF coordinates (origin bottom-left)
    font: str
    size: float
    text: str


@dataclass(frozen=True, slots=True)
class _Rules:
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class _Picture:
    x: float
    y: float
    width: float
    height: float


_Op = _Text | _Rules | _Picture


def make_pdf(
    path: Path,
    pages: Sequence[PageContent],
    *,
    password: str | None = None,
    columns: int = 1,
    row_major: bool = False,
    header: str | None = None,
    footer: str | None = None,
    scanned: Collection[int] = (),
    scan_dpi: int = 200,
) -> Path:
    """Write a PDF with one page per item of ``pages``; return ``path``.

    ``password`` encrypts the file (RC4/AES per reportlab's defaults) with that user password.
    Raises ``ValueError`` if a page's content does not fit on one page, so page numbers stay exact.
    """
    layouts = [
        _layout(page, index, len(pages), columns, header, footer)
        for index, page in enumerate(pages)
    ]
    scans: dict[int, Image.Image] = {}
    if scanned:
        text_pdf = io.BytesIO()
        _write(text_pdf, layouts, row_major=row_major)
        images = rasterise(text_pdf.getvalue(), dpi=scan_dpi)
        scans = {index: images[index] for index in scanned}
    encrypt = StandardEncryption(password, canPrint=1) if password is not None else None
    with path.open("wb") as handle:
        _write(handle, layouts, row_major=row_major, scans=scans, encrypt=encrypt)
    return path


def rasterise(pdf: bytes | Path, *, dpi: int = 200) -> list[Image.Image]:
    """Every page of ``pdf`` as a greyscale image at ``dpi``, as a scanner would see it."""
    document = pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    try:
        return [
            document[index].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            for index in range(len(document))
        ]
    finally:
        document.close()


def page_image(page: PageContent, *, dpi: int = 200, **options: object) -> Image.Image:
    """One page drawn as by ``make_pdf`` and rasterised at ``dpi``: a "scanned" image input."""
    buffer = io.BytesIO()
    layouts = [_layout(page, 0, 1, int(str(options.get("columns", 1))), None, None)]
    _write(buffer, layouts, row_major=False)
    return rasterise(buffer.getvalue(), dpi=dpi)[0]


def page_words(pages: Sequence[PageContent]) -> list[str]:
    """The words a reader sees on ``pages``, in order (for accuracy scores)."""
    words: list[str] = []
    for page in pages:
        for kind, text in page:
            if kind in STYLES:
                words.extend(text.split())
            elif kind in ("table", "grid"):
                words.extend(w for row in _cells(text) for cell in row for w in cell.split())
    return words


def make_large_pdf(path: Path, n_pages: int, **options: object) -> Path:
    """Write ``n_pages`` pages of a heading and wrapped paragraphs each; return ``path``."""
    pages: list[list[tuple[str, str]]] = []
    for page_number in range(n_pages):
        content: list[tuple[str, str]] = []
        if page_number == 0:
            content.append(("h1", "Generated Report"))
        content.append(("h2", f"Section {page_number + 1}"))
        content.extend(("p", filler_paragraph(page_number * 10 + i, 70)) for i in range(5))
        pages.append(content)
    return make_pdf(path, pages, **options)  # type: ignore[arg-type]


def filler_paragraph(seed: int, n_words: int) -> str:
    """A deterministic sentence-like paragraph of ``n_words`` words."""
    words = [_WORDS[(seed * 7 + i * 13 + i // 5) % len(_WORDS)] for i in range(n_words)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def _layout(
    page: PageContent,
    page_number: int,
    page_count: int,
    columns: int,
    header: str | None,
    footer: str | None,
) -> list[_Op]:
    width, height = LETTER
    ops: list[_Op] = []
    frame_width = (width - 2 * MARGIN - (columns - 1) * GUTTER) / columns
    column = 0
    top = height - MARGIN  # where the current band of columns starts
    y = top
    lowest = top  # the lowest point drawn in any column of the band

    def column_x() -> float:
        return MARGIN + column * (frame_width + GUTTER)

    for kind, text in page:
        if kind not in STYLES and kind not in OTHER_KINDS:
            raise ValueError(f"unknown block kind {kind!r}; expected one of {sorted(STYLES)}")
        if kind == "colbreak":
            column, y = column + 1, top
            if column >= columns:
                raise ValueError(f"page {page_number} has more column breaks than columns")
            continue
        spanning = kind == "h1" and columns > 1
        if spanning:  # a title spans the columns and starts a new band below everything so far
            y = top = min(lowest, y)
            column = 0
        x, frame = (MARGIN, width - 2 * MARGIN) if spanning else (column_x(), frame_width)
        if kind in ("table", "grid"):
            rows = _cells(text)
            y = _table(ops, rows, x, y, frame, ruled=kind == "table")
        elif kind == "image":
            w, h = (float(v) for v in text.split("x"))
            y -= h
            ops.append(_Picture(x, y, w, h))
            y -= 10.0
        else:
            font, size, leading, space_after = STYLES[kind]
            indent = BULLET_INDENT if kind == "li" else 0.0
            for line_number, line in enumerate(_wrap(text, font, size, frame - indent)):
                y -= leading
                if y < MARGIN and columns > 1 and column + 1 < columns and not spanning:
                    column, y = column + 1, top - leading  # flow on into the next column
                    x = column_x()
                if kind == "li" and line_number == 0:
                    ops.append(_Text(x, y, font, size, "\u2022"))
                ops.append(_Text(x + indent, y, font, size, line))
            y -= space_after
        if y < MARGIN:
            raise ValueError(f"content of page {page_number} does not fit on one page")
        lowest = min(lowest, y)
        if spanning:
            top = y
    for template, baseline in ((header, height - FURNITURE_OFFSET), (footer, FURNITURE_OFFSET)):
        if template is not None:
            line = template.format(page=page_number + 1, pages=page_count)
            ops.append(_Text(MARGIN, baseline, BODY_FONT, FURNITURE_SIZE, line))
    return ops


def _table(
    ops: list[_Op], rows: list[list[str]], x: float, y: float, width: float, *, ruled: bool
) -> float:
    n_columns = max(len(row) for row in rows)
    cell_width = width / n_columns
    xs = tuple(x + i * cell_width for i in range(n_columns + 1))
    ys = tuple(y - i * TABLE_ROW_HEIGHT for i in range(len(rows) + 1))
    if ruled:
        ops.append(_Rules(xs, ys))
    for row_index, row in enumerate(rows):
        font = "Helvetica-Bold" if row_index == 0 else BODY_FONT
        baseline = ys[row_index + 1] + (TABLE_ROW_HEIGHT - BODY_SIZE) / 2 + 1.5
        for column_index, cell in enumerate(row):
            ops.append(_Text(xs[column_index] + CELL_PADDING, baseline, font, BODY_SIZE, cell))
    return ys[-1] - 12.0


def _write(
    target: io.BytesIO | io.BufferedWriter,
    layouts: list[list[_Op]],
    *,
    row_major: bool,
    scans: dict[int, Image.Image] | None = None,
    encrypt: StandardEncryption | None = None,
) -> None:
    width, height = LETTER
    canvas = Canvas(target, pagesize=LETTER, encrypt=encrypt, invariant=1)
    for index, ops in enumerate(layouts):
        scan = (scans or {}).get(index)
        if scan is not None:
            canvas.drawImage(ImageReader(scan), 0, 0, width=width, height=height)
            canvas.showPage()
            continue
        texts = [op for op in ops if isinstance(op, _Text)]
        if row_major:  # baseline by baseline, left to right: the columns' lines interleave
            texts.sort(key=lambda op: (-op.y, op.x))
        for op in ops:
            if isinstance(op, _Rules):
                canvas.setLineWidth(0.75)
                canvas.grid(list(op.xs), list(op.ys))
            elif isinstance(op, _Picture):
                canvas.drawImage(ImageReader(_picture(op)), op.x, op.y, op.width, op.height)
        for text in texts:
            canvas.setFont(text.font, text.size)
            canvas.drawString(text.x, text.y, text.text)
        canvas.showPage()
    canvas.save()


def _picture(op: _Picture) -> Image.Image:
    """A deterministic colour gradient, 2 pixels per point."""
    w, h = max(1, int(op.width * 2)), max(1, int(op.height * 2))
    image = Image.new("RGB", (w, h))
    image.putdata([((x * 255) // w, (y * 255) // h, 128) for y in range(h) for x in range(w)])
    return image


def _cells(text: str) -> list[list[str]]:
    return [[cell.strip() for cell in row.split(" | ")] for row in text.split("\n")]


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for forced_line in text.split("\n"):
        lines.extend(simpleSplit(forced_line, font, size, width) or [""])
    return lines
