"""Operator code: custom transforms installed as ``pagemill.processors`` entry points.

A package declares, in its own ``pyproject.toml``::

    [project.entry-points."pagemill.processors"]
    invoice_tagger = "acme_pagemill.tagger:InvoiceTagger"

and the class (instantiated without arguments) implements ``CustomTransform``. The server then
offers it to every team as the read-only custom processor ``cp_invoice_tagger``. A broken entry
point is logged and skipped: it never stops the server from starting.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pagemill.domain.custom_processors import CUSTOM_PROCESSOR_PREFIX
from pagemill.processors.document import Document

log = logging.getLogger("pagemill.processors.custom")

ENTRY_POINT_GROUP = "pagemill.processors"
_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


@runtime_checkable
class CustomTransform(Protocol):
    """What an entry point provides: a pure function of (document, step settings)."""

    name: str
    version: str

    def apply(self, document: Document, settings: dict[str, Any]) -> Document:
        """Return the changed document (page labels may go to ``metadata["page_labels"]``,
        a mapping of ``str(page)`` to label)."""
        ...


@dataclass(frozen=True, slots=True)
class InstalledTransform:
    entry_point: str  # the entry point's name: the processor id is cp_<entry_point>
    target: str  # "module:attribute", as declared
    transform: CustomTransform

    @property
    def processor_id(self) -> str:
        return CUSTOM_PROCESSOR_PREFIX + self.entry_point

    @property
    def name(self) -> str:
        return str(self.transform.name)

    @property
    def version(self) -> str:
        return str(self.transform.version)


def load_transforms(group: str = ENTRY_POINT_GROUP) -> dict[str, InstalledTransform]:
    """The installed transforms by entry point name; broken entry points are logged, skipped."""
    try:
        entry_points = list(importlib.metadata.entry_points(group=group))
    except Exception:
        log.exception("could not list the %r entry points; no custom transforms loaded", group)
        return {}
    found: dict[str, InstalledTransform] = {}
    for entry_point in entry_points:
        name, target = entry_point.name, entry_point.value
        if not _NAME.fullmatch(name):
            log.error(
                "custom transform entry point %r (%s) skipped: names are 1 to 64 letters, "
                "digits or underscores",
                name,
                target,
            )
            continue
        if name in found:
            log.error(
                "custom transform entry point %r (%s) skipped: %s already uses that name",
                name,
                target,
                found[name].target,
            )
            continue
        try:
            transform = _instantiate(entry_point.load())
        except Exception as exc:
            log.error(
                "custom transform entry point %r (%s) skipped: %s: %s",
                name,
                target,
                type(exc).__name__,
                exc,
            )
            continue
        found[name] = InstalledTransform(entry_point=name, target=target, transform=transform)
        log.info("custom transform cp_%s loaded from %s", name, target)
    return found


def _instantiate(loaded: Any) -> CustomTransform:
    transform = loaded() if isinstance(loaded, type) else loaded
    missing = [
        attribute for attribute in ("name", "version", "apply") if not hasattr(transform, attribute)
    ]
    if missing:
        raise TypeError(f"it does not implement CustomTransform (missing {', '.join(missing)})")
    if not callable(transform.apply):
        raise TypeError("its 'apply' is not callable")
    if not isinstance(transform, CustomTransform):  # pragma: no cover - checked above
        raise TypeError("it does not implement CustomTransform")
    return transform
