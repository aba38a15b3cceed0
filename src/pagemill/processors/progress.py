"""Progress of a running step, from wherever the processor runs to the engine.

A processor may run in another process, so progress travels through a small JSON file that the
processor replaces atomically and the engine reads at each heartbeat. A lost or torn update is
harmless: progress is live-only information.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

Report = Callable[..., None]


def reporter(path: Path | None) -> Report:
    """A function ``report(**fields)`` writing to ``path``; a no-op without one."""
    if path is None:
        return _ignore

    def report(**fields: Any) -> None:
        temporary = path.with_name(path.name + ".tmp")
        with contextlib.suppress(OSError):
            temporary.write_text(json.dumps(fields))
            os.replace(temporary, path)

    return report


def read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ignore(**fields: Any) -> None:
    return None
