"""Small, fast processors for tests of the engine and the API (picklable, top level)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput
from pagemill.processors.registry import ProcessorRegistry


class EchoConvert(Processor):
    """ "Converts" by reporting the input size; ``settings.sleep`` makes it slow,
    ``settings.fail`` makes it fail, ``settings.fail_times`` fails the first N attempts."""

    step_type = "convert"
    version = "test-1"
    cpu_heavy = False

    def check_settings(self, settings: dict[str, Any]) -> None:
        if "sleep" in settings and not isinstance(settings["sleep"], int | float):
            raise InvalidInput("sleep must be a number")

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        settings = job.settings
        if settings.get("fail"):
            raise ProcessingError(str(settings["fail"]))
        marker = settings.get("fail_marker")
        if marker and not Path(marker).exists():
            Path(marker).write_text("failed once")
            raise ProcessingError("transient failure", retryable=True)
        time.sleep(float(settings.get("sleep", 0)))
        data = job.document.read_bytes()
        text = f"{job.filename}: {len(data)} bytes"
        return ProcessorOutput(
            result={
                "status": "complete",
                "success": True,
                "output_format": "markdown",
                "markdown": text,
                "page_count": 1,
            },
            page_count=1,
            checkpoint=text.encode(),
        )


class UpperSegment(Processor):
    """A second step that reads the upstream checkpoint."""

    step_type = "segment"
    version = "test-1"
    cpu_heavy = False

    def check_settings(self, settings: dict[str, Any]) -> None:
        return None

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        if job.checkpoint is None:
            raise ProcessingError("segment needs the convert checkpoint")
        upstream = job.checkpoint.read_text()
        return ProcessorOutput(
            result={
                "status": "complete",
                "success": True,
                "segmentation_results": {"segments": [{"name": upstream.upper()}]},
            },
            page_count=1,
        )


def test_registry() -> ProcessorRegistry:
    return ProcessorRegistry([EchoConvert(), UpperSegment()])


test_registry.__test__ = False  # type: ignore[attr-defined]
