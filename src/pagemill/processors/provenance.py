"""What produced a step's result: the processor's version and the libraries it reads documents
with, as installed in the process that ran it (recorded with each result, see the step runner).
"""

from __future__ import annotations

import functools
import importlib.metadata
import platform
from datetime import datetime
from typing import Any

from pagemill.domain.clock import utc
from pagemill.version import __version__

# The third-party distributions whose behaviour shapes each step type's output. Unknown step
# types (installed transforms run under ``custom``) record none.
LIBRARIES: dict[str, tuple[str, ...]] = {
    "convert": (
        "pypdfium2",
        "pdftext",
        "pdfplumber",
        "tesserocr",
        "pillow",
        "python-docx",
        "python-pptx",
        "openpyxl",
        "beautifulsoup4",
        "lxml",
    ),
    "segment": (),
    "extract": ("jsonschema",),
    "custom": (),
    "fill": ("pypdf", "pypdfium2", "pillow", "tesserocr"),
    "ocr": ("tesserocr", "pypdfium2", "pillow"),
    "track_changes": ("python-docx", "lxml"),
    "create_document": ("python-docx", "markdown-it-py"),
}


@functools.cache
def library_versions(step_type: str) -> dict[str, str | None]:
    """``{distribution: version}`` for ``step_type`` (None: not installed here)."""
    versions: dict[str, str | None] = {}
    for name in LIBRARIES.get(step_type, ()):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def producer(step_type: str, processor_version: str) -> dict[str, Any]:
    """The processor and software that run a ``step_type`` step in this process."""
    return {
        "step_type": step_type,
        "processor_version": processor_version,
        "pagemill_version": __version__,
        "python_version": platform.python_version(),
        "libraries": library_versions(step_type),
    }


def attempt_record(
    step_type: str,
    processor_version: str,
    *,
    worker: str,
    attempt: int,
    started_at: datetime | None,
    finished_at: datetime,
) -> dict[str, Any]:
    """The ``provenance`` stored with a result: who made it, with what, and when."""
    return {
        **producer(step_type, processor_version),
        "worker": worker,
        "attempt": attempt,
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
    }


def _iso(value: datetime | None) -> str | None:
    return utc(value).isoformat().replace("+00:00", "Z") if value is not None else None
