"""The ``ocr`` processor (the hosted, deprecated ``/ocr``): every selected page through Tesseract.

Result (what the SDK's ``OCRResult`` reads): ``pages`` — one entry per page with ``page``
(1-based, as the hosted OCR numbers pages), ``text_lines`` (``text``, ``confidence`` 0 to 1,
``bbox`` ``[x0, y0, x1, y1]``, ``polygon`` — four corners clockwise from the top left — and
``words`` with the same keys), ``image_bbox`` (the page's frame) and ``languages``; plus
``page_count``, ``success``, ``status``, ``runtime``.

PDF pages are always rendered and recognised (a text layer is not trusted: this step is OCR),
at 300 dpi; coordinates are PDF points with the origin at the top left, like the convert step's
boxes. Image frames are recognised at their own resolution; coordinates are their pixels.
"""

from __future__ import annotations

import time
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.convert.formats import detect_format
from pagemill.processors.page_images import open_pdf, render_page
from pagemill.processors.progress import reporter
from pagemill.processors.step_settings import check_pages, page_range_of, refuse_unknown

STEP_TYPE = "ocr"
DPI = 300.0
LANGUAGES = ["en"]  # the installed Tesseract model


class OcrProcessor(Processor):
    step_type = STEP_TYPE
    version = "ocr-tesseract-1"
    cpu_heavy = True
    preload = ("pagemill.processors.convert.ocr.tesseract",)

    def check_settings(self, settings: dict[str, Any]) -> None:
        refuse_unknown(settings, ("page_range", "max_pages"), STEP_TYPE)
        check_pages(settings)

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        from pagemill.processors.convert.ocr import tesseract

        started = time.perf_counter()
        try:
            self.check_settings(job.settings)
            page_range = page_range_of(job.settings, job.page_range)
            max_pages = job.settings.get("max_pages")
            kind = detect_format(job.document)
            if kind not in ("pdf", "image"):
                raise ProcessingError(
                    f"OCR reads PDFs and images; {job.filename!r} is neither (detected: {kind})."
                )
            tesseract.check_available()
            report = reporter(job.progress_file)
            if kind == "pdf":
                total, pages = _pdf_pages(job, page_range, max_pages, report)
            else:
                total, pages = _image_pages(job, page_range, max_pages, report)
        except InvalidInput as error:  # a range this document is too short for
            raise ProcessingError(error.detail) from error
        return ProcessorOutput(
            result={
                "status": "complete",
                "success": True,
                "error": None,
                "pages": pages,
                "page_count": len(pages),
                "metadata": {"total_pages": total, "dpi": DPI if kind == "pdf" else None},
                "runtime": round(time.perf_counter() - started, 4),
            },
            page_count=len(pages),
            metadata={"total_pages": total},
        )


def _pdf_pages(
    job: ProcessorInput, page_range: str | None, max_pages: int | None, report: Any
) -> tuple[int, list[dict[str, Any]]]:
    from pagemill.processors.convert.ocr import tesseract

    pages: list[dict[str, Any]] = []
    with open_pdf(job.document) as pdf:
        total = len(pdf)
        selected = select_pages(total, page_range, max_pages)
        for done, page in enumerate(selected):
            report(stage="ocr", pages_done=done, pages_total=len(selected))
            width, height = pdf.get_page_size(page)
            image, dpi = render_page(pdf, page, DPI, grayscale=True)
            lines = tesseract.read_text_lines(image, dpi=dpi)
            pages.append(page_result(page, lines, 72.0 / dpi, (width, height)))
    return total, pages


def _image_pages(
    job: ProcessorInput, page_range: str | None, max_pages: int | None, report: Any
) -> tuple[int, list[dict[str, Any]]]:
    from pagemill.processors.convert.ocr import tesseract
    from pagemill.processors.convert.ocr.images import page_images

    total, frames = page_images(job.document, page_range, max_pages)
    pages: list[dict[str, Any]] = []
    for done, (page, frame, dpi) in enumerate(frames):
        report(stage="ocr", pages_done=done, pages_total=len(frames))
        lines = tesseract.read_text_lines(frame, dpi=dpi)
        pages.append(page_result(page, lines, 1.0, (frame.width, frame.height)))
    return total, pages


def page_result(
    page: int, lines: list[Any], scale: float, size: tuple[float, float]
) -> dict[str, Any]:
    """One page of the result; ``scale`` takes pixel boxes to the page's units."""

    def box(raw: tuple[int, int, int, int]) -> list[float]:
        return [round(value * scale, 2) for value in raw]

    return {
        "page": page + 1,
        "text_lines": [
            {
                "text": line.text,
                "confidence": line.confidence,
                "bbox": box(line.bbox),
                "polygon": polygon(box(line.bbox)),
                "words": [
                    {
                        "text": text,
                        "confidence": confidence,
                        "bbox": box(raw),
                        "polygon": polygon(box(raw)),
                    }
                    for text, raw, confidence in line.words
                ],
            }
            for line in lines
        ],
        "image_bbox": [0.0, 0.0, round(float(size[0]), 2), round(float(size[1]), 2)],
        "languages": LANGUAGES,
    }


def polygon(bbox: list[float]) -> list[list[float]]:
    x0, y0, x1, y1 = bbox
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
