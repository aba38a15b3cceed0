"""What a processor is: a pure function of (document or checkpoint, settings) → result."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pagemill.ports.compute import ComputePool


@dataclass(frozen=True, slots=True)
class ProcessorInput:
    document: Path  # the uploaded document, as a local file
    filename: str
    settings: dict[str, Any]
    page_range: str | None = None
    output_format: str | None = None  # run-level override
    checkpoint: Path | None = None  # upstream checkpoint, when there is one
    progress_file: Path | None = None  # where to report progress (``processors.progress``)


@dataclass(frozen=True, slots=True)
class ProcessorOutput:
    result: dict[str, Any]  # the step-result payload (single-shot ResultResponse keys)
    page_count: int
    checkpoint: bytes | None = None  # serialized parsed document for downstream steps
    metadata: dict[str, Any] = field(default_factory=dict)


class Processor(ABC):
    """A step type. ``run`` must be picklable (it may execute in another process)."""

    step_type: str
    version: str
    cpu_heavy: bool = True
    # Modules a worker process imports before its first task (heavy parsers), so no step pays
    # for them; the processor's own module is always imported.
    preload: tuple[str, ...] = ()

    @abstractmethod
    def check_settings(self, settings: dict[str, Any]) -> None:
        """Raise ``InvalidInput`` for settings that can never work."""

    @abstractmethod
    def run(self, job: ProcessorInput) -> ProcessorOutput:
        """Do the work; raise ``ProcessingError`` for documents that cannot be processed."""

    async def run_sliced(
        self, job: ProcessorInput, compute: ComputePool, slice_pages: int
    ) -> ProcessorOutput | None:
        """Do the work as page slices of at most ``slice_pages`` pages run in parallel on
        ``compute``, with the same output as ``run``; None: this job is not split (too short,
        not splittable), and ``run`` does it."""
        return None
