"""Extraction through a ``StructuredExtractor``: the document as cited text, the answer checked.

Each block is one line prefixed with its id (``[/page/0/Paragraph/3] Invoice Number: 123``);
tables become one line per row with `` | `` between cells. The schema sent along (the answer is
constrained to it) asks for a ``<field>_citations`` list beside every top-level field. The
offline extractor's values are offered as hints, each with the block it came from.

The answer is checked against the document: citations that name no block are dropped, and a
value is kept only when a block it cites contains it (the text, the number or the date, in
any of the document's spellings). A value without such a citation is left out and named in
``metadata.rejected_fields`` with the reason: no value beats an invented one.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.ports.extractor import StructuredExtractor
from pagemill.processors.document import Block
from pagemill.processors.extract.candidates import Extraction
from pagemill.processors.extract.offline import extract_offline
from pagemill.processors.extract.schema import fields_of
from pagemill.processors.extract.values import DATE, NUMBER, parse_date_match, parse_number

MAX_TEXT_CHARS = 400_000  # past this the text is cut (and the cut reported)
CITATIONS = "_citations"
INSTRUCTIONS = (
    "You extract structured data from a document. Each line of the document starts with the "
    "id of its block in square brackets. Fill the JSON schema with values found in the "
    "document only; leave out fields the document does not contain instead of guessing. Use "
    "ISO 8601 (YYYY-MM-DD) for dates and plain numbers without currency symbols or thousands "
    "separators for numeric fields. For every top-level field you fill, also return "
    "<field>_citations: the ids of the blocks the value was read from; a value whose cited "
    "blocks do not contain it is discarded. Candidate values found by a rule-based reader are "
    "listed after the document as hints: use them when the document confirms them. Answer "
    "with one JSON object and nothing else."
)
HINTS = "\n\nHints (from a rule-based reader; may be wrong):\n"


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
    hints = extract_offline(blocks, fields_of(schema))
    if hints.data:
        offered = {
            key: {"value": value, "blocks": hints.citations.get(key, [])}
            for key, value in hints.data.items()
        }
        text += HINTS + json.dumps(offered, ensure_ascii=False, default=str)
    answer = extractor.extract(text, cited_schema(schema), INSTRUCTIONS)
    if not isinstance(answer, dict):
        raise ProcessingError("The LLM extractor answered with something other than an object.")
    by_id = {block.block_id: block for block in blocks}
    data: dict[str, Any] = {}
    citations: dict[str, list[str]] = {}
    rejected: dict[str, str] = {}
    for key in schema.get("properties", {}):
        if key not in answer or answer[key] is None:
            continue
        cited = answer.get(f"{key}{CITATIONS}")
        ids = (
            [c.strip("[] ") for c in cited if isinstance(c, str)] if isinstance(cited, list) else []
        )
        ids = [i for i in ids if i in by_id]
        if not ids:
            rejected[key] = "no citation of a block of the document"
        elif not any(contains(block_text_of(by_id[i]), answer[key]) for i in ids):
            rejected[key] = f"the cited blocks do not contain {answer[key]!r}"
        else:
            data[key] = answer[key]
            citations[key] = ids
    notes: dict[str, Any] = {"text_truncated": cut} if cut else {}
    if rejected:
        notes["rejected_fields"] = rejected
    return Extraction(data, citations, notes)


def block_text_of(block: Block) -> str:
    if block.rows:
        return "\n".join(" | ".join(row) for row in block.rows)
    return block.text


def contains(text: str, value: Any) -> bool:
    """Whether ``text`` shows ``value``: its words, its number or its date; for objects and
    lists, any of their scalar parts (they may span several cited blocks)."""
    if isinstance(value, bool):
        return True  # a ticked box or a yes/no has no one spelling
    if isinstance(value, dict):
        return any(contains(text, part) for part in value.values() if part is not None)
    if isinstance(value, list):
        return any(contains(text, part) for part in value if part is not None)
    if isinstance(value, int | float):
        numbers = (parse_number(m.group(0)) for m in NUMBER.finditer(text))
        return any(n is not None and abs(n - float(value)) < 0.005 for n in numbers)
    wanted = _squash(str(value))
    if wanted and wanted in _squash(text):
        return True
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        for match in DATE.finditer(text):
            for order in (True, False):
                day = parse_date_match(match, order)
                if day is not None and day.isoformat() == value:
                    return True
    return False


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())
