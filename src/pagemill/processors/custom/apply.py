"""A declarative definition applied to a ``Document``: block rules, then page classification."""

from __future__ import annotations

import dataclasses
from typing import Any

from pagemill.domain.custom_processors import Definition, Rule
from pagemill.processors.document import Block, Document


def apply_definition(document: Document, definition: Definition) -> Document:
    """The document after each rule, in order; block ids stay those of the convert step.

    Keeping the ids means a citation made downstream (``extract``) still points at the block
    of the original parse, whatever a rule renamed or relabelled.
    """
    blocks = list(document.blocks)
    for rule in definition.rules:
        blocks = _apply(rule, blocks)
    return dataclasses.replace(document, blocks=blocks)


def classify_pages(document: Document, definition: Definition) -> list[dict[str, Any]]:
    """``[{"page", "label"}]`` for every parsed page: the best keyword score, or None."""
    text: dict[int, list[str]] = {page: [] for page in document.pages}
    for block in document.blocks:
        text.setdefault(block.page, []).append(searchable_text(block))
    return [
        {"page": page, "label": definition.classify("\n".join(text.get(page, [])))}
        for page in document.pages
    ]


def searchable_text(block: Block) -> str:
    """What patterns and keywords see: the text, and a table's cells."""
    if not block.rows:
        return block.text
    cells = "\n".join(" ".join(row) for row in block.rows)
    return f"{block.text}\n{cells}" if block.text else cells


def _apply(rule: Rule, blocks: list[Block]) -> list[Block]:
    match = rule.match
    if rule.action == "drop":
        return [b for b in blocks if not match.matches(b.type, searchable_text(b), b.page)]
    if rule.action == "keep":
        return [b for b in blocks if match.matches(b.type, searchable_text(b), b.page)]
    if rule.action == "rename":
        return [_renamed(rule, b) if match.selects(b.type, b.page) else b for b in blocks]
    # relabel
    return [
        _relabelled(rule, b) if match.matches(b.type, searchable_text(b), b.page) else b
        for b in blocks
    ]


def _renamed(rule: Rule, block: Block) -> Block:
    rows = block.rows
    if rows is not None:
        rows = tuple(tuple(rule.rename(cell) for cell in row) for row in rows)
    return dataclasses.replace(block, text=rule.rename(block.text), rows=rows)


def _relabelled(rule: Rule, block: Block) -> Block:
    assert rule.to is not None
    if rule.to == block.type and rule.to != "heading":
        return block
    text = block.text
    if not text and block.rows:
        text = searchable_text(block)  # a table turned into prose keeps its cells as text
    return dataclasses.replace(
        block,
        type=rule.to,
        text=text,
        level=rule.level if rule.to == "heading" else None,
        rows=None,
        image=None,
    )
