"""Pages as pictures: PDF pages rendered with pypdfium2, image frames as they are.

Shared by the steps that look at pages rather than parse them (``ocr``, ``fill`` on scans and
its PNG output, thumbnails). Every failure is a ``ProcessingError``; a render never exceeds
``MAX_RENDER_PIXELS``, lowering the resolution of poster-sized pages instead.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError

MAX_RENDER_PIXELS = 50_000_000
# pdfium is not thread-safe, and an embedded worker may run light steps in threads.
PDFIUM_LOCK = threading.RLock()


def open_pdf_document(path: Path) -> Any:
    """``pypdfium2.PdfDocument(path)``, its failures as ``ProcessingError`` (the caller
    closes it)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise ProcessingError(
                "The PDF is encrypted (password-protected); "
                "remove the password and upload it again."
            ) from error
        raise ProcessingError(
            f"The PDF could not be opened: it is corrupt or truncated ({error})."
        ) from error


@contextmanager
def open_pdf(path: Path, *, forms: bool = False) -> Iterator[Any]:
    """The PDF at ``path`` as a ``pypdfium2.PdfDocument`` (with its form fields drawn when
    ``forms``), held under ``PDFIUM_LOCK`` and closed on exit."""
    with PDFIUM_LOCK:
        pdf = open_pdf_document(path)
        try:
            if forms:
                pdf.init_forms()
            yield pdf
        finally:
            pdf.close()


def render_page(
    pdf: Any, page_number: int, dpi: float, *, grayscale: bool = False
) -> tuple[Any, float]:
    """Page ``page_number`` as a PIL image at ``dpi`` (lowered to fit ``MAX_RENDER_PIXELS``)
    and the dpi actually used."""
    page = pdf[page_number]
    try:
        width, height = page.get_size()
        fit = math.sqrt(MAX_RENDER_PIXELS / max(1.0, width * height)) * 72
        used = min(float(dpi), fit)
        bitmap = page.render(scale=used / 72, grayscale=grayscale, may_draw_forms=True)
        return bitmap.to_pil(), used
    except ProcessingError:
        raise
    except Exception as error:  # pdfium raises on damaged page content
        raise ProcessingError(
            f"Page {page_number} of the PDF could not be rendered ({type(error).__name__}: "
            f"{error})."
        ) from error
    finally:
        page.close()
