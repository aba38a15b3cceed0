"""``convert``: one document to Markdown, HTML, JSON or chunks, in this process, with the
server's convert processor and its settings checks."""

from __future__ import annotations

from typing import Any

from pagemill.library.documents import Source, local_document
from pagemill.library.pipeline import builtin_processors
from pagemill.library.results import ConversionResult
from pagemill.ports.processing import ProcessorInput


def convert(source: Source, *, filename: str | None = None, **settings: Any) -> ConversionResult:
    """Convert a document (a path, or the file's bytes) and return the result.

    ``settings`` are the convert step's settings, checked as the server checks them (an
    unknown or mistyped one raises ``InvalidInput``): ``output_format`` (``"markdown"``,
    ``"html"``, ``"json"``, ``"chunks"`` or several, comma-separated), ``page_range``
    (``"0,2-4"``), ``max_pages``, ``mode``, ``paginate``, ``include_images``, … — see the
    processors documentation. ``filename`` names a document given as bytes (its extension
    helps with plain-text formats). A document that cannot be converted raises
    ``ProcessingError``.

    >>> result = convert("report.pdf", output_format="markdown,json")
    >>> result.markdown, result.page_count
    """
    processors = builtin_processors()
    processors.check_steps([("convert", settings)])
    processor = processors.get("convert")
    with local_document(source, filename) as document:
        output = processor.run(
            ProcessorInput(document=document.path, filename=document.filename, settings=settings)
        )
    return ConversionResult.from_payload(output.result)
