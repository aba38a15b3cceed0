"""Realistic one-page PDFs for throughput benchmarks that run the real processors.

The page is a short business report: a title, a section heading, three paragraphs and a ruled
table (about 250 words), drawn once with reportlab. ``scanned_page_pdf`` is the same page as a
scanner delivers it: a 200 dpi greyscale image with no text layer, which the converter OCRs.
``unique_copy``/``unique_scan`` append a PDF comment after ``%%EOF`` so every submission has
different bytes: the executor cache never answers instead of the processors, and the page
itself (what the converter reads) stays the same, so every execution costs the same work.
Readers ignore bytes after ``%%EOF``.
"""

from __future__ import annotations

import functools
import io
import secrets

import pypdfium2 as pdfium
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

_PARAGRAPHS = (
    "Revenue grew in every region during the quarter, led by the northern sales team, which "
    "closed three large contracts with logistics customers. Operating costs rose more slowly "
    "than revenue, so the operating margin improved by two points compared with last year.",
    "The board approved the budget for the coming year. It funds two new support offices, a "
    "replacement of the warehouse scanners and a training programme for field engineers. "
    "Capital spending stays within the limit agreed with the lenders in the spring.",
    "Risks remain in the supply of components for the older product line. The purchasing team "
    "has qualified a second supplier and expects the first deliveries before the end of the "
    "next quarter. Inventory of finished goods covers about six weeks of demand.",
)
_TABLE = (
    ("Region", "Q1", "Q2", "Q3", "Change"),
    ("North", "10.4", "12.1", "13.8", "+14%"),
    ("South", "8.2", "8.9", "9.1", "+2%"),
    ("East", "7.5", "7.9", "8.6", "+9%"),
    ("West", "6.1", "6.0", "6.4", "+7%"),
)


def _wrap(text: str, width: float, canvas: Canvas, font: str, size: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if canvas.stringWidth(candidate, font, size) > width and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


@functools.cache
def one_page_pdf() -> bytes:
    """The benchmark page, as PDF bytes (built once per process)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=True)
    page_width, page_height = letter
    left, width = 72.0, page_width - 144.0
    y = page_height - 80.0
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(left, y, "Quarterly Operations Report")
    y -= 34
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(left, y, "Summary")
    y -= 22
    for paragraph in _PARAGRAPHS:
        for line in _wrap(paragraph, width, canvas, "Helvetica", 10.5):
            canvas.setFont("Helvetica", 10.5)
            canvas.drawString(left, y, line)
            y -= 14
        y -= 10
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(left, y, "Revenue by region (millions)")
    y -= 12
    column = width / len(_TABLE[0])
    row_height = 18.0
    xs = [left + column * i for i in range(len(_TABLE[0]) + 1)]
    ys = [y - row_height * i for i in range(len(_TABLE) + 1)]
    canvas.grid(xs, ys)
    for row_index, row in enumerate(_TABLE):
        font = "Helvetica-Bold" if row_index == 0 else "Helvetica"
        canvas.setFont(font, 10)
        for cell_index, cell in enumerate(row):
            canvas.drawString(xs[cell_index] + 4, ys[row_index] - 13, cell)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@functools.cache
def scanned_page_pdf(dpi: int = 200) -> bytes:
    """The benchmark page rasterised at ``dpi`` (greyscale) in an image-only PDF."""
    document = pdfium.PdfDocument(one_page_pdf())
    try:
        image = document[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    png = io.BytesIO()
    image.save(png, format="PNG")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=True)
    canvas.drawImage(ImageReader(io.BytesIO(png.getvalue())), 0, 0, *letter)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _unique(document: bytes) -> bytes:
    return document + f"% bench {secrets.token_hex(8)}\n".encode()


def unique_copy() -> bytes:
    """The benchmark page with a random comment after ``%%EOF``: new bytes, same page."""
    return _unique(one_page_pdf())


def unique_scan() -> bytes:
    """The scanned benchmark page with new bytes (see ``unique_copy``)."""
    return _unique(scanned_page_pdf())
