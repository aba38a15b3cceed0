"""The ``convert`` step: a document → markdown / html / json / chunks, plus a checkpoint.

``ConvertProcessor`` holds no state, so it pickles by name and ``run`` can execute in a child
process. Every failure a document can cause leaves ``run`` as a ``ProcessingError``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import parse_page_range
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.convert.formats import (
    PARSERS,
    ParseRequest,
    detect_format,
    parser_for,
)
from pagemill.processors.convert.render import RenderOptions, parse_output_formats, render
from pagemill.processors.document import Document
from pagemill.processors.progress import reporter

MODES = ("fast", "balanced", "accurate")
# Flags of the hosted convert step and /convert form. Most change nothing for text-layer PDFs yet
# (no images, no captions), but they are accepted so pipelines written for the hosted API work.
BOOL_SETTINGS = (
    "paginate",
    "add_block_ids",
    "include_markdown_in_chunks",
    "include_headers_footers",
    "include_images",
    "include_image_captions",
    "fence_synthetic_captions",
    "disable_image_extraction",
    "disable_image_captions",
    "token_efficient_markdown",
    "save_checkpoint",
    "skip_cache",
    "force_new",
)
# How a page's text was obtained, by detected format; OCRed pages say "ocr".
_EXTRACTION_METHODS = {"pdf": "pdftext", "image": "ocr"}


class ConvertProcessor(Processor):
    step_type = "convert"
    # Part of every executor-cache key: bump it whenever the output for the same input changes.
    version = "convert-3"
    cpu_heavy = True
    # PDF is what most pipelines convert; other formats' parsers load on first use.
    preload = (PARSERS["pdf"].partition(":")[0],)

    def check_settings(self, settings: dict[str, Any]) -> None:
        for key in BOOL_SETTINGS:
            value = settings.get(key)
            if value is not None and not isinstance(value, bool):
                raise InvalidInput(f"Setting {key!r} must be true or false, not {value!r}.")
        mode = settings.get("mode")
        if mode is not None and mode not in MODES:
            raise InvalidInput(f"Setting 'mode' must be one of {', '.join(MODES)}, not {mode!r}.")
        output_format = settings.get("output_format")
        if output_format is not None:
            if not isinstance(output_format, str):
                raise InvalidInput("Setting 'output_format' must be a string such as 'markdown'.")
            parse_output_formats(output_format)
        page_range = settings.get("page_range")
        if page_range is not None:
            if not isinstance(page_range, str):
                raise InvalidInput("Setting 'page_range' must be a string such as '0,2-4'.")
            if page_range.strip():  # form clients send "" for "no range"
                parse_page_range(page_range)
        max_pages = settings.get("max_pages")
        if max_pages is not None and (
            isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1
        ):
            raise InvalidInput(
                f"Setting 'max_pages' must be a whole number ≥ 1, not {max_pages!r}."
            )

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        started = time.perf_counter()
        settings = job.settings
        try:
            self.check_settings(settings)
            formats = parse_output_formats(
                job.output_format or settings.get("output_format") or "markdown"
            )
            kind = detect_format(job.document)
            parse = parser_for(kind, job.filename)
            document = parse(
                ParseRequest(
                    path=job.document,
                    filename=job.filename,
                    page_range=(job.page_range or settings.get("page_range") or "").strip() or None,
                    max_pages=settings.get("max_pages"),
                    mode=str(settings.get("mode") or "fast"),
                    include_headers_footers=bool(settings.get("include_headers_footers", False)),
                    include_images=bool(settings.get("include_images", False)),
                    report=reporter(job.progress_file),
                )
            )
        except InvalidInput as error:
            # Settings were checked when the pipeline was saved; what fails here is a run-level
            # override or a range this document is too short for. Neither improves on retry.
            raise ProcessingError(error.detail) from error

        # Later steps (custom, their results' metadata) read it from the checkpoint.
        document.metadata["source_format"] = kind
        result = document_result(document, formats, settings)
        result["runtime"] = round(time.perf_counter() - started, 4)
        return ProcessorOutput(
            result=result,
            page_count=len(document.pages),
            checkpoint=document.to_json_bytes(),
            metadata={
                "total_pages": document.page_count,
                "pages": document.pages,
                "block_count": len(document.blocks),
                "pages_without_text": document.metadata.get("pages_without_text", []),
                "source_format": kind,
                "ocr_pages": document.metadata.get("ocr_pages", []),
            },
        )


def document_result(
    document: Document, formats: list[str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """The single-shot-style result of a step whose output is a document (convert, custom)."""
    options = RenderOptions(
        paginate=bool(settings.get("paginate", False)),
        add_block_ids=bool(settings.get("add_block_ids", False)),
        include_markdown_in_chunks=bool(settings.get("include_markdown_in_chunks", False)),
    )
    return {
        "status": "complete",
        "success": True,
        "output_format": ",".join(formats),
        **render(document, formats, options),
        "page_count": len(document.pages),
        "metadata": result_metadata(document),
        # Pictures are only extracted with include_images, so this is empty otherwise.
        "images": dict(document.images),
        "error": None,
    }


def result_metadata(document: Document) -> dict[str, Any]:
    """The result's ``metadata``: per-page block counts and how each page's text was read."""
    ocr_pages = set(document.metadata.get("ocr_pages", []))
    kind = str(document.metadata.get("source_format", "pdf"))
    method = _EXTRACTION_METHODS.get(kind, kind)
    counts: dict[int, Counter[str]] = {page: Counter() for page in document.pages}
    for block in document.blocks:
        counts[block.page][block.block_type] += 1
    return {
        "page_stats": [
            {
                "page": page,
                "text_extraction_method": "ocr" if page in ocr_pages else method,
                "block_counts": [[name, count] for name, count in counts[page].most_common()],
            }
            for page in document.pages
        ],
        "total_pages": document.page_count,
        "ocr_pages": sorted(ocr_pages),
    }
