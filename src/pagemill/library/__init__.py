"""pagemill as a library: convert documents and run pipelines in this process, no server.

``convert`` runs the convert processor directly; ``run`` and ``Engine`` run pipelines on the
embedded engine (the server's own services on a SQLite ledger in a data directory). Settings
and pipelines are checked by the server's rules, so what works here works on a server.

This is an entry point (like the command line): it may open the composition root; nothing
below it imports it.
"""

from pagemill.domain.errors import InvalidInput, PagemillError, ProcessingError
from pagemill.library.conversion import convert
from pagemill.library.documents import Source
from pagemill.library.engine import Engine, ProgressCallback, run
from pagemill.library.pipeline import Pipeline
from pagemill.library.results import (
    ConversionResult,
    ExtractionResult,
    RunProgress,
    RunResult,
    SegmentationResult,
    StepOutput,
    StepProgress,
    StepResult,
)

__all__ = [
    "ConversionResult",
    "Engine",
    "ExtractionResult",
    "InvalidInput",
    "PagemillError",
    "Pipeline",
    "ProcessingError",
    "ProgressCallback",
    "RunProgress",
    "RunResult",
    "SegmentationResult",
    "Source",
    "StepOutput",
    "StepProgress",
    "StepResult",
    "convert",
    "run",
]
