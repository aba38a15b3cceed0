"""The ``convert`` step: a document → markdown / html / json / chunks, plus a checkpoint.

``ConvertProcessor`` holds no state, so it pickles by name and ``run`` can execute in a child
process. Every failure a document can cause leaves ``run`` as a ``ProcessingError``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.compute import ComputePool
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.convert import options as convert_settings
from pagemill.processors.convert.formats import (
    PARSERS,
    ParseRequest,
    detect_format,
    parser_for,
)
from pagemill.processors.convert.options import ConvertOptions, convert_options
from pagemill.processors.convert.render import RenderOptions, parse_output_formats, render
from pagemill.processors.document import Document
from pagemill.processors.progress import reporter

# How a page's text was obtained, by detected format; OCRed pages say "ocr".
_EXTRACTION_METHODS = {"pdf": "pdftext", "image": "ocr"}


class ConvertProcessor(Processor):
    step_type = "convert"
    # Part of every executor-cache key: bump it whenever the output for the same input changes.
    version = "convert-8"
    cpu_heavy = True
    # PDF is what most pipelines convert; other formats' parsers load on first use.
    preload = (PARSERS["pdf"].partition(":")[0],)

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Known keys only (``options.KNOWN_SETTINGS``), each of the right type."""
        convert_settings.check_settings(settings)

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        return self.run_prepared(job, None)

    async def run_sliced(
        self, job: ProcessorInput, compute: ComputePool, slice_pages: int
    ) -> ProcessorOutput | None:
        """A long PDF's pages are read in parallel slices on ``compute`` (``slices``)."""
        from pagemill.processors.convert import slices

        return await slices.run_sliced(self, job, compute, slice_pages)

    def run_prepared(self, job: ProcessorInput, prepared: Any) -> ProcessorOutput:
        """``run``, with a PDF's pages already read when ``prepared`` is given (``slices``)."""
        started = time.perf_counter()
        settings = job.settings
        try:
            self.check_settings(settings)
            options = convert_options(settings)
            formats = parse_output_formats(
                job.output_format or settings.get("output_format") or "markdown"
            )
            kind = detect_format(job.document)
            parse = parser_for(kind, job.filename)
            document = parse(
                parse_request(job, options, reporter(job.progress_file), prepared=prepared)
            )
        except InvalidInput as error:
            # Settings were checked when the pipeline was saved; what fails here is a run-level
            # override or a range this document is too short for. Neither improves on retry.
            raise ProcessingError(error.detail) from error

        # Later steps (custom, their results' metadata) read it from the checkpoint.
        document.metadata["source_format"] = kind
        result = document_result(document, formats, settings)
        apply_extras(result, job, kind, document, formats, options)
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


def parse_request(
    job: ProcessorInput,
    options: ConvertOptions,
    report: Callable[..., None] | None,
    prepared: Any = None,
) -> ParseRequest:
    """What the parser is asked, from the step's settings and the run's overrides."""
    settings = job.settings
    return ParseRequest(
        path=job.document,
        filename=job.filename,
        page_range=(job.page_range or settings.get("page_range") or "").strip() or None,
        max_pages=settings.get("max_pages"),
        mode=str(settings.get("mode") or "fast"),
        include_headers_footers=bool(settings.get("include_headers_footers", False)),
        include_images=options.include_images,
        keep_spreadsheet_formatting=options.keep_spreadsheet_formatting,
        report=report,
        prepared=prepared,
    )


def document_result(
    document: Document, formats: list[str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """The single-shot-style result of a step whose output is a document (convert, custom)."""
    options = RenderOptions(
        paginate=bool(settings.get("paginate", False)),
        add_block_ids=bool(settings.get("add_block_ids", False)),
        include_markdown_in_chunks=bool(settings.get("include_markdown_in_chunks", False)),
        token_efficient_markdown=bool(settings.get("token_efficient_markdown", False)),
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


def apply_extras(
    result: dict[str, Any],
    job: ProcessorInput,
    kind: str,
    document: Document,
    formats: list[str],
    options: ConvertOptions,
) -> None:
    """The ``extras`` and the notes on settings that could not change this output."""
    from pagemill.processors.convert import extras

    notes = dict(options.notes)
    metadata = result["metadata"]
    if options.keep_spreadsheet_formatting and kind != "xlsx":
        notes["keep_spreadsheet_formatting"] = f"applies to spreadsheets; this is {kind}"
    if options.wants("extract_links"):
        links = extras.extract_links(job.document, kind, document)
        if links is None:
            notes["extras.extract_links"] = f"links are read from PDF, DOCX and HTML; not {kind}"
        else:
            metadata["links"] = links
    if options.wants("table_row_bboxes"):
        if kind == "pdf":
            metadata["table_row_bboxes"] = extras.table_row_bboxes(job.document, kind, document)
        else:
            notes["extras.table_row_bboxes"] = f"{kind} tables have no geometry; PDF only"
    if options.wants("track_changes"):
        if kind == "docx":
            _with_tracked_changes(result, job, document, formats, options)
        else:
            notes["extras.track_changes"] = f"tracked changes are read from DOCX; not {kind}"
    if notes:
        metadata["settings_notes"] = notes


def _with_tracked_changes(
    result: dict[str, Any],
    job: ProcessorInput,
    document: Document,
    formats: list[str],
    options: ConvertOptions,
) -> None:
    """A DOCX's markdown and html with its revisions and comments marked up."""
    from pagemill.processors.track_changes.processor import tracked_result
    from pagemill.processors.track_changes.reader import read_tracked_docx

    tracked = read_tracked_docx(job.document)
    pages = [page for page in document.pages if page < tracked.page_count] or [0]
    wanted = [name for name in formats if name in ("markdown", "html")]
    marked = tracked_result(
        tracked, pages, wanted or ["markdown"], bool(job.settings.get("paginate"))
    )
    for name in wanted:
        result[name] = marked[name]
    result["metadata"]["track_changes"] = marked["metadata"]["track_changes"]
