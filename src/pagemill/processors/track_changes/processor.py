"""The ``track_changes`` processor: a DOCX's revisions and comments as Markdown, HTML, chunks.

Its result has the keys the SDK's ``track_changes`` reads into a ``ConversionResult``
(``output_format``, ``markdown``, ``html``, ``chunks``, ``json``, ``metadata``, ``page_count``);
``metadata["track_changes"]`` counts the revisions by kind and lists them with the comments.
"""

from __future__ import annotations

import time
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.convert.formats import detect_format
from pagemill.processors.step_settings import (
    check_bools,
    check_pages,
    comma_list,
    page_range_of,
    refuse_unknown,
)
from pagemill.processors.track_changes.reader import TrackedDocument, read_tracked_docx
from pagemill.processors.track_changes.render import RENDERERS, changes, comment_list

STEP_TYPE = "track_changes"
OUTPUT_FORMATS = tuple(RENDERERS)
DEFAULT_FORMATS = "markdown,html,chunks"
KNOWN_SETTINGS = ("output_format", "paginate", "page_range", "max_pages")


class TrackChangesProcessor(Processor):
    step_type = STEP_TYPE
    version = "track-changes-1"
    cpu_heavy = True

    def check_settings(self, settings: dict[str, Any]) -> None:
        refuse_unknown(settings, KNOWN_SETTINGS, STEP_TYPE)
        check_bools(settings, ("paginate",))
        check_pages(settings)
        output_formats(settings.get("output_format"))

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        started = time.perf_counter()
        settings = job.settings
        try:
            self.check_settings(settings)
            formats = output_formats(job.output_format or settings.get("output_format"))
        except InvalidInput as error:
            raise ProcessingError(error.detail) from error
        kind = detect_format(job.document)
        if kind != "docx":
            raise ProcessingError(
                f"Tracked changes are read from DOCX documents only; {job.filename!r} is not "
                f"one (detected: {kind})."
            )
        document = read_tracked_docx(job.document)
        try:
            pages = select_pages(
                document.page_count,
                page_range_of(settings, job.page_range),
                settings.get("max_pages"),
            )
        except InvalidInput as error:
            raise ProcessingError(error.detail) from error
        result = tracked_result(document, pages, formats, bool(settings.get("paginate")))
        result["runtime"] = round(time.perf_counter() - started, 4)
        return ProcessorOutput(
            result=result,
            page_count=len(pages),
            metadata={"changes": result["metadata"]["track_changes"]["counts"]},
        )


def output_formats(value: Any) -> list[str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        value = DEFAULT_FORMATS
    formats = comma_list(value, OUTPUT_FORMATS, "output_format")
    if not formats:
        raise InvalidInput(f"output_format {value!r} names no format.")
    return formats


def tracked_result(
    document: TrackedDocument, pages: list[int], formats: list[str], paginate: bool
) -> dict[str, Any]:
    listed = changes(document, pages)
    counts = {
        kind: sum(1 for change in listed if change["type"] == kind)
        for kind in ("insertion", "deletion", "move_from", "move_to")
    }
    comments = comment_list(document, pages)
    counts["comments"] = len(comments)
    authors = sorted(
        {c["author"] for c in listed if c["author"]}
        | {c["author"] for c in comments if c["author"]}
    )
    return {
        "status": "complete",
        "success": True,
        "output_format": ",".join(formats),
        **{name: RENDERERS[name](document, pages, paginate) for name in formats},
        "page_count": len(pages),
        "metadata": {
            "track_changes": {
                "counts": counts,
                "authors": authors,
                "changes": listed,
                "comments": comments,
            },
            "total_pages": document.page_count,
        },
        "error": None,
    }
