"""pagemill: a self-hostable document pipeline server, wire-compatible with Datalab Pipelines.

Used as a library, without a server::

    from pagemill import Pipeline, convert, run

    markdown = convert("report.pdf").markdown
    result = run(Pipeline([{"type": "convert"}, {"type": "segment"}]), "report.pdf")

The library's names (``pagemill.library``) are imported on first use, so importing a part of
pagemill (the server, a processor in a worker process) does not load the engine.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pagemill.version import __version__

if TYPE_CHECKING:
    from pagemill.library import (
        ConversionResult,
        Engine,
        ExtractionResult,
        InvalidInput,
        PagemillError,
        Pipeline,
        ProcessingError,
        RunProgress,
        RunResult,
        SegmentationResult,
        StepProgress,
        StepResult,
        convert,
        run,
    )


__all__ = [
    "ConversionResult",
    "Engine",
    "ExtractionResult",
    "InvalidInput",
    "PagemillError",
    "Pipeline",
    "ProcessingError",
    "RunProgress",
    "RunResult",
    "SegmentationResult",
    "StepProgress",
    "StepResult",
    "__version__",
    "convert",
    "run",
]
_LIBRARY = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _LIBRARY:
        value = getattr(importlib.import_module("pagemill.library"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pagemill' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
