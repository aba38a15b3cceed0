"""Test processors for the benchmark server: no PDF work, so only pagemill's own costs show.

``convert`` sleeps for ``settings["sleep_seconds"]`` (default 0) and returns a tiny result and
checkpoint; ``segment`` returns a tiny result. Both run in a thread (``cpu_heavy = False``).
The sleep waits on ``RELEASE``, which the server sets on shutdown, so a step that is still
"in flight" when the benchmark ends does not hold the process for minutes.
"""

from __future__ import annotations

import threading
from typing import Any

from pagemill.domain.errors import InvalidInput
from pagemill.ports.processing import Processor, ProcessorInput, ProcessorOutput

RELEASE = threading.Event()
MAX_SLEEP_SECONDS = 600.0
_CHECKPOINT = b'{"format":"bench","blocks":[]}'


class SleepyConvert(Processor):
    step_type = "convert"
    version = "bench-1"
    cpu_heavy = False

    def check_settings(self, settings: dict[str, Any]) -> None:
        seconds = settings.get("sleep_seconds", 0)
        if not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_SLEEP_SECONDS:
            raise InvalidInput(f"sleep_seconds must be a number in [0, {MAX_SLEEP_SECONDS}].")

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        seconds = float(job.settings.get("sleep_seconds", 0))
        if seconds > 0:
            RELEASE.wait(seconds)
        result = {"status": "complete", "success": True, "markdown": "# bench\n", "page_count": 1}
        return ProcessorOutput(result=result, page_count=1, checkpoint=_CHECKPOINT)


class FastSegment(Processor):
    step_type = "segment"
    version = "bench-1"
    cpu_heavy = False

    def check_settings(self, settings: dict[str, Any]) -> None:
        return None

    def run(self, job: ProcessorInput) -> ProcessorOutput:
        result = {"status": "complete", "success": True, "segments": [], "page_count": 1}
        return ProcessorOutput(result=result, page_count=1)
