"""The real-document corpus (bench/quality/real, licences in its manifest.json) for the
converter's regression tests: one place that finds a document and parses it."""

from __future__ import annotations

from pathlib import Path

from pagemill.processors.convert.pdf.parse import parse_pdf
from pagemill.processors.document import Block, Document
from tests.support.postgres import require_service

REAL = Path(__file__).resolve().parents[3] / "bench" / "quality" / "real" / "docs"


def real_path(name: str) -> Path:
    path = REAL / name
    if not path.exists():  # the corpus is part of the repository; a partial checkout lacks it
        require_service("real-document corpus", f"{name} is not in bench/quality/real/docs")
    return path


def real(name: str) -> Document:
    """The PDF ``name`` of the corpus, parsed."""
    return parse_pdf(real_path(name))


def tables(document: Document) -> list[Block]:
    return [block for block in document.blocks if block.type == "table"]


def rows_of(document: Document) -> list[tuple[str, ...]]:
    return [row for table in tables(document) for row in (table.rows or ())]
