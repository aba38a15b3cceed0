"""Small Markdown helpers shared by the generated pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def code(value: str) -> str:
    """An inline code span that survives backticks inside ``value``."""
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines


def json_value(value: Any) -> str:
    """A default as the operator would write it in the environment."""
    return json.dumps(value, separators=(", ", ": "))


def anchor(*parts: str) -> str:
    """A stable lower-case id for ``{ #id }`` attributes and links."""
    return "-".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)


def paragraphs(text: str) -> list[str]:
    """A docstring or description as Markdown paragraphs (its own line breaks joined)."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text.strip())]
    out: list[str] = []
    for block in blocks:
        if block:
            out += [block, ""]
    return out
