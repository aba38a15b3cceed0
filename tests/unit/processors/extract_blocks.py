"""Documents as checkpoint blocks laid out line by line, for extractor tests without a PDF."""

from __future__ import annotations

from typing import Any

from pagemill.processors.document import Block
from pagemill.processors.extract.offline import extract_offline
from pagemill.processors.extract.schema import fields_of

LINE = 14.0


def page(*lines: str | tuple[float, str], top: float = 60.0) -> list[Block]:
    """One block per line, each line below the last; ``(x, text)`` puts a block at ``x`` on the
    same line as the block before it (a second column)."""
    blocks: list[Block] = []
    y = top
    for index, line in enumerate(lines):
        if isinstance(line, tuple):
            x, text = line
            y -= LINE
        else:
            x, text = 60.0, line
        width = 5.5 * len(text)
        block_id = f"/page/0/Paragraph/{index}"
        blocks.append(Block(block_id, 0, (x, y, x + width, y + 10), "paragraph", text))
        y += LINE
    return blocks


def schema(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


STRING: dict[str, Any] = {"type": "string"}
NUMBER: dict[str, Any] = {"type": "number"}
DATE: dict[str, Any] = {"type": "string", "format": "date"}


def extract(blocks: list[Block], json_schema: dict[str, Any]) -> dict[str, Any]:
    return extract_offline(blocks, fields_of(json_schema)).data
