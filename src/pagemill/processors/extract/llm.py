"""Extraction through a ``StructuredExtractor``: the document as cited text, the answer checked.

Each block is one line prefixed with its id (``[/page/0/Paragraph/3] Invoice Number: 123``);
tables become one line per row with `` | `` between cells. The schema sent along asks for a
``<field>_citations`` list beside every top-level field; citations that name no block of the
text are dropped, so every citation returned is a real block id.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.ports.extractor import StructuredExtractor
from pagemill.processors.document import Block
from pagemill.processors.extract.offline import Extraction

MAX_TEXT_CHARS = 400_000  # past this the text is cut (and the cut reported)
CITATIONS = "_citations"
INSTRUCTIONS = (
    "You extract structured data from a document. Each line of the document starts with the "
    "id of its block in square brackets. Fill the JSON schema with values found in the "
    "document only; leave out fields the document does not contain instead of guessing. Use "
    "ISO 8601 (YYYY-MM-DD) for dates and plain numbers without currency symbols or thousands "
    "separators for numeric fields. For every top-level field you fill, also return "
    "<field>_citations: the ids of the blocks the value was read from. Answer with one JSON "
    "object and nothing else."
)


def document_text(blocks: Sequence[Block]) -> tuple[str, bool]:
    """The cited text of ``blocks`` and whether it had to be cut to ``MAX_TEXT_CHARS``."""
    lines: list[str] = []
    size = 0
    for block in blocks:
        if block.type == "picture":
            continue
        if block.rows:
            body = "\n".join(" | ".join(cell for cell in row) for row in block.rows)
        else:
            body = block.text
        line = f"[{block.block_id}] {body}"
        if size + len(line) > MAX_TEXT_CHARS:
            return "\n".join(lines), True
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines), False


def cited_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with an optional ``<field>_citations`` list of strings per top-level field."""
    cited = copy.deepcopy(schema)
    properties: dict[str, Any] = cited.setdefault("properties", {})
    for key in list(properties):
        properties.setdefault(
            f"{key}{CITATIONS}",
            {"type": "array", "items": {"type": "string"}, "description": f"Block ids for {key}"},
        )
    return cited


def extract_with(
    extractor: StructuredExtractor, blocks: Sequence[Block], schema: dict[str, Any]
) -> Extraction:
    text, cut = document_text(blocks)
    answer = extractor.extract(text, cited_schema(schema), INSTRUCTIONS)
    if not isinstance(answer, dict):
        raise ProcessingError("The LLM extractor answered with something other than an object.")
    known = {block.block_id for block in blocks}
    data: dict[str, Any] = {}
    citations: dict[str, list[str]] = {}
    for key in schema.get("properties", {}):
        if key in answer and answer[key] is not None:
            data[key] = answer[key]
            cited = answer.get(f"{key}{CITATIONS}")
            ids = [c for c in cited if isinstance(c, str)] if isinstance(cited, list) else []
            citations[key] = [c.strip("[] ") for c in ids if c.strip("[] ") in known]
    notes: dict[str, Any] = {"text_truncated": cut} if cut else {}
    return Extraction(data, citations, notes)
