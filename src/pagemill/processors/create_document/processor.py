"""The ``create_document`` processor: Markdown (the input file, UTF-8) → a DOCX, as base64.

The result has the keys the SDK's ``CreateDocumentResult`` reads: ``status``, ``success``,
``error``, ``output_format`` (``docx``), ``output_base64``, ``runtime``, ``page_count``; notes
about images that were not embedded are in ``metadata``.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.step_settings import check_choice, refuse_unknown

STEP_TYPE = "create_document"
OUTPUT_FORMATS = ("docx",)
MAX_MARKDOWN_BYTES = 16 * 1024 * 1024


class CreateDocumentProcessor(Processor):
    step_type = STEP_TYPE
    version = "create-document-1"
    cpu_heavy = True

    def check_settings(self, settings: dict[str, Any]) -> None:
        refuse_unknown(settings, ("output_format",), STEP_TYPE)
        check_choice(settings, "output_format", OUTPUT_FORMATS)

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        from pagemill.processors.create_document.builder import build_docx

        started = time.perf_counter()
        try:
            self.check_settings(job.settings)
        except InvalidInput as error:
            raise ProcessingError(error.detail) from error
        markdown = read_markdown(job)
        try:
            data, notes = build_docx(markdown)
        except ProcessingError:
            raise
        except Exception as error:  # a Markdown construct python-docx cannot write
            raise ProcessingError(
                f"The document could not be created ({type(error).__name__}: {error})."
            ) from error
        return ProcessorOutput(
            result={
                "status": "complete",
                "success": True,
                "error": None,
                "output_format": "docx",
                "output_base64": base64.b64encode(data).decode("ascii"),
                "page_count": 1,
                "metadata": {"docx_bytes": len(data), **notes},
                "runtime": round(time.perf_counter() - started, 4),
            },
            page_count=1,
        )


def read_markdown(job: ProcessorInput) -> str:
    try:
        size = job.document.stat().st_size
        if size > MAX_MARKDOWN_BYTES:
            raise ProcessingError(
                f"The Markdown is {size} bytes; at most {MAX_MARKDOWN_BYTES} are accepted."
            )
        return job.document.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ProcessingError(f"The Markdown is not valid UTF-8 ({error.reason}).") from error
    except OSError as error:
        raise ProcessingError(f"Could not read the Markdown: {error}", retryable=True) from error
