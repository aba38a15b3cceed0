"""The real-document corpus: public documents nobody in this project wrote, with references.

``bench/quality/real/manifest.json`` lists every document: its file under ``real/docs/``, its
family, where it came from (registry, package, version, path inside it, upstream project), its
licence and why that licence covers the file, and how it was derived (pages cut, rotated,
re-exported) when it was. The reference Markdown for ``docs/NAME.EXT`` is ``ref/NAME.md``,
written and checked by hand against the rendered pages: headings as ``#`` levels, paragraphs
separated by blank lines, tables as pipe tables, no running headers, footers or page numbers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REAL = Path(__file__).resolve().parent / "real"

# Report order; every family of the manifest must be one of these.
FAMILIES = (
    "pdf-text",
    "pdf-multicolumn",
    "pdf-spread",
    "pdf-tables",
    "pdf-rtl",
    "pdf-office",
    "pdf-repeated",
    "scan",
    "docx",
    "pptx",
    "xlsx",
    "markup",  # text formats with structure: JATS XML, AsciiDoc, notebooks
)


@dataclass(frozen=True, slots=True)
class RealDoc:
    name: str
    family: str
    path: Path
    reference: Path
    pages: int
    sha256: str
    entry: dict[str, Any]

    @property
    def is_pdf(self) -> bool:
        return self.path.suffix.lower() == ".pdf"

    def reference_markdown(self) -> str:
        return self.reference.read_text(encoding="utf-8")


def load_manifest(directory: Path = REAL) -> list[dict[str, Any]]:
    """The manifest's entries, as written."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = manifest["documents"]
    return entries


def load(directory: Path = REAL) -> list[RealDoc]:
    """Every document of the manifest that has its reference (``pending`` lists the others)."""
    docs = []
    for entry in load_manifest(directory):
        path = directory / entry["file"]
        if not (directory / "ref" / f"{entry['name']}.md").exists():
            continue
        docs.append(
            RealDoc(
                name=entry["name"],
                family=entry["family"],
                path=path,
                reference=directory / "ref" / f"{entry['name']}.md",
                pages=int(entry["pages"]),
                sha256=entry["sha256"],
                entry=entry,
            )
        )
    order = {family: index for index, family in enumerate(FAMILIES)}
    return sorted(docs, key=lambda doc: (order[doc.family], doc.name))


def pending(directory: Path = REAL) -> list[str]:
    """Documents of the manifest whose reference is not written yet."""
    return [
        entry["name"]
        for entry in load_manifest(directory)
        if not (directory / "ref" / f"{entry['name']}.md").exists()
    ]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
