"""The ``fill`` processor: a form (PDF or image) filled from ``field_data``.

* A PDF with AcroForm fields: each key is matched to a field by the field's name, its tooltip
  and the label printed next to it, and the value written into the field (text, checkbox,
  radio group or choice).
* A PDF without fields, or an image: each key is matched to a label on the page (``Name:``,
  ``Date ____``) and the value drawn after it. Pages without a text layer, and images, are
  OCRed for their labels. When no label matches any key the step fails, saying so.

The result has the keys the SDK's ``FormFillingResult`` reads: ``output_format`` (``pdf``, or
``png`` for images and on request — pages stacked top to bottom in one PNG), ``output_base64``,
``fields_filled`` and ``fields_not_found`` (keys), ``page_count``, ``runtime``; ``metadata``
says how each key was matched and why a matched key could not be filled.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Sequence
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.ports.extractor import StructuredExtractor
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.convert.formats import detect_format
from pagemill.processors.fill import acroform, overlay, targets
from pagemill.processors.fill.matching import Match, Target, assign, llm_choices
from pagemill.processors.fill.request import STEP_TYPE, FillRequest, parse_fill_settings
from pagemill.processors.fill.text import OCR_DPI, TextLine, ocr_lines, pdf_lines
from pagemill.processors.page_images import open_pdf, render_page
from pagemill.processors.step_settings import page_range_of

VERSION = "fill-1"
PNG_DPI = 144.0  # PDF pages written as PNG


class FillProcessor(Processor):
    step_type = STEP_TYPE
    cpu_heavy = True

    def __init__(self, extractor: StructuredExtractor | None = None) -> None:
        self._extractor = extractor
        self.version = VERSION if extractor is None else f"{VERSION}+{extractor.name}"

    def check_settings(self, settings: dict[str, Any]) -> None:
        request = parse_fill_settings(settings)
        if request.matching == "llm" and self._extractor is None:
            raise InvalidInput(
                "matching 'llm' needs an LLM endpoint, and this server has none configured "
                "(PAGEMILL_LLM_BASE_URL, PAGEMILL_LLM_API_KEY, PAGEMILL_LLM_MODEL)."
            )

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        started = time.perf_counter()
        try:
            self.check_settings(job.settings)
            request = parse_fill_settings(job.settings)
            page_range = page_range_of(job.settings, job.page_range)
            max_pages = job.settings.get("max_pages")
            kind = detect_format(job.document)
            if kind == "pdf":
                filled = self._fill_pdf(job, request, page_range, max_pages)
            elif kind == "image":
                filled = self._fill_image(job, request, page_range, max_pages)
            else:
                raise ProcessingError(
                    f"Forms are filled in PDFs and images (PNG, JPEG…); {job.filename!r} is "
                    f"neither (detected: {kind})."
                )
        except InvalidInput as error:  # a range this document is too short for
            raise ProcessingError(error.detail) from error
        output_format, data, page_count, matches, notes = filled
        filled_keys = [m.key.key for m in matches if m.key.key not in notes["unfillable"]]
        result = {
            "status": "complete",
            "success": True,
            "error": None,
            "output_format": output_format,
            "output_base64": base64.b64encode(data).decode("ascii"),
            "fields_filled": filled_keys,
            "fields_not_found": [k.key for k in request.keys if k.key not in filled_keys],
            "page_count": page_count,
            "metadata": notes,
            "runtime": round(time.perf_counter() - started, 4),
        }
        return ProcessorOutput(
            result=result,
            page_count=page_count,
            metadata={"fill_method": notes["fill_method"], "fields_filled": len(filled_keys)},
        )

    # -- matching --------------------------------------------------------------------------
    def _match(
        self, request: FillRequest, found: Sequence[Target], notes: dict[str, Any]
    ) -> list[Match]:
        chosen: list[Match] = []
        use_llm = self._extractor is not None and request.matching != "offline"
        notes["matching"] = "llm" if use_llm else "lexical"
        if use_llm and self._extractor is not None and found:
            try:
                chosen = llm_choices(self._extractor, request.keys, found, request.context)
            except ProcessingError as error:
                if request.matching == "llm":
                    raise
                notes["llm_error"] = f"{error.message} (matched lexically instead)"
                notes["matching"] = "lexical"
        elif request.context:
            notes["context"] = "used by LLM matching only; this match was lexical"
        matches = assign(request.keys, found, request.threshold, chosen)
        notes["matches"] = [
            {
                "key": m.key.key,
                "target": m.target.texts[0] if m.target.texts else m.target.target_id,
                "page": m.target.page,
                "confidence": m.confidence,
                "method": m.method,
            }
            for m in matches
        ]
        return matches

    # -- PDFs ------------------------------------------------------------------------------
    def _fill_pdf(
        self, job: ProcessorInput, request: FillRequest, page_range: str | None, max_pages: Any
    ) -> tuple[str, bytes, int, list[Match], dict[str, Any]]:
        reader = acroform.open_reader(job.document)
        total = len(reader.pages)
        pages = select_pages(total, page_range, max_pages)
        fields = acroform.read_fields(reader, pages)
        notes: dict[str, Any] = {"unfillable": {}}
        if fields:
            notes["fill_method"] = "acroform"
            lines = pdf_lines(job.document, sorted({f.page for f in fields}))
            pairs = targets.field_targets(fields, lines)
            by_id = {t.target_id: f for t, f in pairs}
            matches = self._match(request, [t for t, _ in pairs], notes)
            values: dict[str, tuple[acroform.FormField, str]] = {}
            for match in matches:
                form_field = by_id[match.target.target_id]
                value = acroform.field_value(form_field, match.key.value)
                if value is None:
                    notes["unfillable"][match.key.key] = (
                        f"{form_field.kind} field {form_field.name!r} cannot take "
                        f"{match.key.value!r}"
                    )
                else:
                    values[form_field.name] = (form_field, value)
            writer = acroform.write_values(reader, values)
        else:
            notes["fill_method"] = "overlay"
            lines = self._page_lines(job, pages, notes)
            spots = targets.label_targets(lines)
            by_spot = {t.target_id: s for t, s in spots}
            matches = self._match(request, [t for t, _ in spots], notes)
            if not matches:
                raise ProcessingError(_nothing_matched("The PDF has no form fields, and", request))
            from pypdf import PdfWriter

            writer = PdfWriter(clone_from=reader)
            placed = [overlay.Placed(by_spot[m.target.target_id], m.key.value) for m in matches]
            lossy = overlay.draw_on_pdf(writer, placed)
            if lossy:
                notes["characters_replaced"] = lossy
        buffer = io.BytesIO()
        writer.write(buffer)
        data = buffer.getvalue()
        if request.output_format == "png":
            return "png", _pdf_as_png(data, pages), total, matches, notes
        return "pdf", data, total, matches, notes

    def _page_lines(
        self, job: ProcessorInput, pages: list[int], notes: dict[str, Any]
    ) -> dict[int, list[TextLine]]:
        """Text-layer lines, and OCR for the pages that have none."""
        from pagemill.processors.convert.ocr import tesseract

        lines = pdf_lines(job.document, pages)
        scanned = [page for page in pages if not lines.get(page)]
        if scanned:
            tesseract.check_available()
            with open_pdf(job.document) as pdf:
                for page in scanned:
                    image, dpi = render_page(pdf, page, OCR_DPI, grayscale=True)
                    lines[page] = ocr_lines(page, image, dpi, 72.0 / dpi)
            notes["ocr_pages"] = scanned
        return lines

    # -- images ----------------------------------------------------------------------------
    def _fill_image(
        self, job: ProcessorInput, request: FillRequest, page_range: str | None, max_pages: Any
    ) -> tuple[str, bytes, int, list[Match], dict[str, Any]]:
        from pagemill.processors.convert.ocr import tesseract
        from pagemill.processors.convert.ocr.images import page_images

        if request.output_format == "pdf":
            raise ProcessingError(
                "An image form is filled as a PNG; output_format 'pdf' is for PDF forms."
            )
        tesseract.check_available()
        total, frames = page_images(job.document, page_range, max_pages, colour=True)
        notes: dict[str, Any] = {"unfillable": {}, "fill_method": "overlay", "ocr_pages": []}
        lines: dict[int, list[TextLine]] = {}
        for page, frame, dpi in frames:
            lines[page] = ocr_lines(page, frame.convert("L"), dpi, 1.0)
            notes["ocr_pages"].append(page)
        spots = targets.label_targets(lines)
        by_spot = {t.target_id: s for t, s in spots}
        matches = self._match(request, [t for t, _ in spots], notes)
        if not matches:
            raise ProcessingError(_nothing_matched("On this image", request))
        drawn = [
            overlay.draw_on_image(
                frame,
                [
                    overlay.Placed(by_spot[m.target.target_id], m.key.value)
                    for m in matches
                    if m.target.page == page
                ],
            )
            for page, frame, _ in frames
        ]
        return "png", _png(_stacked(drawn)), total, matches, notes


def _nothing_matched(where: str, request: FillRequest) -> str:
    keys = ", ".join(repr(k.key) for k in request.keys[:10])
    return (
        f"{where} no label on its pages matches any field_data key ({keys}) with confidence "
        f"≥ {request.threshold:g}; nothing was filled. Lower confidence_threshold, or describe "
        "the keys as the form labels them."
    )


def _pdf_as_png(data: bytes, pages: list[int]) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "filled.pdf"
        path.write_bytes(data)
        with open_pdf(path, forms=True) as pdf:
            images = [render_page(pdf, page, PNG_DPI)[0] for page in pages]
    return _png(_stacked(images))


def _stacked(images: list[Any]) -> Any:
    from PIL import Image

    if len(images) == 1:
        return images[0]
    width = max(image.width for image in images)
    sheet = Image.new("RGB", (width, sum(image.height for image in images)), "white")
    top = 0
    for image in images:
        sheet.paste(image.convert("RGB"), (0, top))
        top += image.height
    return sheet


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
