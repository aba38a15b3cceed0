"""Page thumbnails as base64 JPEG: PDF pages rendered with pypdfium2, image frames scaled.

Office documents have no pages of their own; their thumbnails are those of the PDF they were
converted to, which the caller passes as ``converted_pdf`` (without one: a clear error).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.processors.convert.formats import detect_format
from pagemill.processors.page_images import open_pdf, render_page

DEFAULT_WIDTH = 300
WIDTH_RANGE = (16, 2000)
MAX_THUMBNAILS = 100
JPEG_QUALITY = 80
OFFICE_FORMATS = ("docx", "pptx", "xlsx", "legacy-office")


def check_thumb_width(value: Any) -> int:
    if value is None:
        return DEFAULT_WIDTH
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (WIDTH_RANGE[0] <= value <= WIDTH_RANGE[1])
    ):
        raise InvalidInput(
            f"thumb_width must be a whole number of pixels from {WIDTH_RANGE[0]} to "
            f"{WIDTH_RANGE[1]}, not {value!r}."
        )
    return value


def thumbnails(
    path: Path,
    *,
    page_range: str | None = None,
    thumb_width: Any = DEFAULT_WIDTH,
    converted_pdf: Path | None = None,
) -> list[str]:
    """One base64 JPEG per selected page (0-indexed ``page_range``; all pages, at most
    ``MAX_THUMBNAILS``, without one), each ``thumb_width`` pixels wide."""
    width = check_thumb_width(thumb_width)
    kind = detect_format(path)
    if kind in OFFICE_FORMATS:
        if converted_pdf is None:
            raise ProcessingError(
                f"Thumbnails of a {kind.upper()} document are drawn from its converted PDF, "
                "and there is none for this request (office documents are rendered to PDF "
                "only when LibreOffice is installed)."
            )
        path, kind = converted_pdf, "pdf"
    if kind == "pdf":
        return _pdf_thumbnails(path, page_range, width)
    if kind == "image":
        from pagemill.processors.convert.ocr.images import page_images

        _, frames = page_images(path, _range(page_range), None, colour=True)
        _check_count(len(frames), page_range)
        return [_jpeg(frame, width) for _, frame, _ in frames]
    raise ProcessingError(
        f"Thumbnails are drawn for PDFs, images and office documents, not {kind}."
    )


def _pdf_thumbnails(path: Path, page_range: str | None, width: int) -> list[str]:
    found: list[str] = []
    with open_pdf(path) as pdf:
        pages = select_pages(len(pdf), _range(page_range), None)
        _check_count(len(pages), page_range)
        for page in pages:
            page_width, _ = pdf.get_page_size(page)
            image, _ = render_page(pdf, page, 72.0 * width / max(page_width, 1.0))
            found.append(_jpeg(image, width))
    return found


def _range(page_range: str | None) -> str | None:
    return (page_range or "").strip() or None


def _check_count(count: int, page_range: str | None) -> None:
    if count > MAX_THUMBNAILS:
        raise InvalidInput(
            f"{'page_range selects' if page_range else 'The document has'} {count} pages; at "
            f"most {MAX_THUMBNAILS} thumbnails are drawn per request (use page_range)."
        )


def _jpeg(image: Any, width: int) -> str:
    from PIL import Image

    if image.width != width:
        height = max(1, round(image.height * width / max(image.width, 1)))
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
