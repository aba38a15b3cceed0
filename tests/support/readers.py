"""Document inspectors (``services.admission.Inspector``) that misbehave like a hostile document
makes a reader misbehave; they run in worker processes, so this module imports nothing heavy
(a child imports it to unpickle them)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def crashing_reader(
    path: Path, page_range: str | None, max_pages: int | None, cap: int, converted: str | None
) -> tuple[int, str | None]:
    os.kill(os.getpid(), signal.SIGSEGV)  # what a native parser's crash looks like
    return 1, None


def hanging_reader(
    path: Path, page_range: str | None, max_pages: int | None, cap: int, converted: str | None
) -> tuple[int, str | None]:
    time.sleep(600)
    return 1, None


def greedy_reader(
    path: Path, page_range: str | None, max_pages: int | None, cap: int, converted: str | None
) -> tuple[int, str | None]:
    hoard = bytearray(4 * 1024**3)  # far past the pool's memory limit
    return len(hoard), None
