"""The ``segment`` step: the convert checkpoint → named page spans with confidence.

It reads the upstream document checkpoint only (no parsing, so not CPU-heavy) and passes the
same document on as its own checkpoint, with the segments in ``metadata["segments"]``, so an
``extract`` after it can extract per segment.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.document import SEGMENTS_KEY, Document, read_checkpoint
from pagemill.processors.segment.matching import Segment, auto_segments, match_segments, pages_of
from pagemill.processors.segment.schema import SETTING, parse_segmentation_schema
from pagemill.processors.step_settings import refuse_unknown


class SegmentProcessor(Processor):
    step_type = "segment"
    version = "lexical-1"
    cpu_heavy = False

    def check_settings(self, settings: dict[str, Any]) -> None:
        refuse_unknown(settings, (SETTING,), self.step_type)
        parse_segmentation_schema(settings.get(SETTING))

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        started = time.perf_counter()
        try:
            specs = parse_segmentation_schema(job.settings.get(SETTING))
        except InvalidInput as error:
            raise ProcessingError(error.detail) from error
        document = read_checkpoint(job)
        pages = pages_of(document)
        segments = match_segments(pages, specs) if specs else auto_segments(pages)
        method = "schema_matching" if specs else "auto_detected"
        results = {
            "segments": [segment.to_dict() for segment in segments],
            "metadata": {"total_pages": document.page_count, "segmentation_method": method},
        }
        passed_on = with_segments(document, segments)
        return ProcessorOutput(
            result={
                "status": "complete",
                "success": True,
                "segmentation_results": results,
                "page_count": len(document.pages),
                "error": None,
                "runtime": round(time.perf_counter() - started, 4),
            },
            page_count=len(document.pages),
            checkpoint=passed_on.to_json_bytes(),
            metadata={"segment_count": len(segments), "segmentation_method": method},
        )


def with_segments(document: Document, segments: list[Segment]) -> Document:
    metadata = {**document.metadata, SEGMENTS_KEY: [segment.to_dict() for segment in segments]}
    return dataclasses.replace(document, metadata=metadata)
