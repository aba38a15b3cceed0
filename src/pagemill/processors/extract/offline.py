"""The built-in extractor: fills a JSON schema from a document's blocks, offline.

1. Arrays of objects come from tables (``tables``); their blocks leave the key-value search.
2. Every block is searched for the labels of every scalar field (``labels``). The value is the
   text after the label up to the next label — or, for a block that holds only a label, the
   block to its right or below it (forms with boxes) — read by the field's type (``typed``).
3. Objects have a *section*: the blocks under a heading that names them ("Emergency Contact").
   Their properties' bare labels ("Name:") count only there, and other fields' values found
   there score lower.
4. Unlabelled values get low-scored guesses (``fallbacks``).
5. Candidates are assigned best score first; each value in the text is used once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pagemill.processors.document import Block
from pagemill.processors.extract.fallbacks import guesses
from pagemill.processors.extract.labels import (
    LABEL_BOX_WORDS,
    LabelMatch,
    LabelPattern,
    common_patterns,
    field_variants,
    find_labels,
    patterns_for,
    region_end,
)
from pagemill.processors.extract.schema import FieldSpec
from pagemill.processors.extract.tables import extract_table, generic_headers
from pagemill.processors.extract.typed import read_value, shape_of
from pagemill.processors.extract.values import Found

RIGHT_POINTS, BELOW_POINTS = 250.0, 30.0
OTHER_SECTION, OUTSIDE_SECTION, WEAK = 0.3, 0.1, 0.4
MAX_SECTION_BLOCKS = 40
LAST_WINS = {"total", "balance", "grand"}


@dataclass(slots=True)
class Candidate:
    path: str
    value: Any
    score: float
    order: int
    block_ids: tuple[str, ...]
    claim: tuple[int, int] | None  # (block index, character offset) of the value


@dataclass(slots=True)
class Extraction:
    data: dict[str, Any]
    citations: dict[str, list[str]]  # top-level field → block ids, in reading order
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Leaf:
    spec: FieldSpec
    parent: FieldSpec | None  # the innermost object holding it, if any


def extract_offline(blocks: Sequence[Block], fields: Sequence[FieldSpec]) -> Extraction:
    # Table blocks carry their words in ``rows`` (their text is empty): keep them for arrays.
    usable = [b for b in blocks if b.type != "picture" and (b.text.strip() or b.rows)]
    leaves, tables, objects = _walk(fields)
    excluded: set[int] = set()
    candidates: list[Candidate] = []
    for spec in tables:
        result = extract_table(usable, spec, excluded)
        if result is not None:
            excluded |= result.used
            candidates.append(
                Candidate(
                    spec.dotted, result.items, 2.0, min(result.used), tuple(result.block_ids), None
                )
            )
    excluded |= generic_headers(usable)

    patterns: list[LabelPattern] = common_patterns()
    for leaf in leaves.values():
        parent_words = leaf.parent.words if leaf.parent is not None else None
        patterns.extend(
            patterns_for(
                leaf.spec.dotted,
                field_variants(
                    leaf.spec.words, leaf.spec.title, parent_words, leaf.spec.description
                ),
            )
        )
    matches = [[] if i in excluded else find_labels(b.text, patterns) for i, b in enumerate(usable)]
    sections = {spec.dotted: _section(usable, spec) for spec in objects}

    for index in range(len(usable)):
        for match in matches[index]:
            if match.owner is None:
                continue
            found = _labelled(usable, matches, index, match, leaves[match.owner], sections)
            if found is not None:
                candidates.append(found)
    for leaf in leaves.values():
        for guess in guesses(leaf.spec, usable, excluded):
            offset = guess.offset + guess.found.start
            candidates.append(
                Candidate(
                    leaf.spec.dotted,
                    guess.found.value,
                    guess.score,
                    guess.block * 100_000 + offset,
                    (usable[guess.block].block_id,),
                    (guess.block, offset),
                )
            )
    chosen = _assign(
        candidates, {**{k: v.spec for k, v in leaves.items()}, **{t.dotted: t for t in tables}}
    )
    return _assemble(fields, chosen, usable)


def _walk(
    fields: Sequence[FieldSpec],
) -> tuple[dict[str, _Leaf], list[FieldSpec], list[FieldSpec]]:
    """Scalar leaves (and arrays of scalars), arrays of objects, and objects, at any depth."""
    leaves: dict[str, _Leaf] = {}
    tables: list[FieldSpec] = []
    objects: list[FieldSpec] = []

    def visit(spec: FieldSpec, parent: FieldSpec | None) -> None:
        if spec.kind == "object":
            objects.append(spec)
            for child in spec.children:
                visit(child, spec)
        elif spec.kind == "array":
            if spec.items is not None and spec.items.kind == "object":
                tables.append(spec)
            elif spec.items is not None and spec.items.kind != "array":
                leaves[spec.dotted] = _Leaf(spec, parent)  # a list of scalars
        else:
            leaves[spec.dotted] = _Leaf(spec, parent)

    for spec in fields:
        visit(spec, None)
    return leaves, tables, objects


def _labelled(
    blocks: Sequence[Block],
    matches: list[list[LabelMatch]],
    index: int,
    match: LabelMatch,
    leaf: _Leaf,
    sections: dict[str, set[int]],
) -> Candidate | None:
    if match.weak and _free_text(leaf.spec):
        return None  # prose words are no label for free text
    own_section = sections.get(leaf.parent.dotted) if leaf.parent is not None else None
    if match.scoped and (own_section is None or index not in own_section):
        return None
    text = blocks[index].text
    region = text[match.value_start : region_end(text, match, matches[index])]
    value_index, offset = index, match.value_start
    if leaf.spec.kind == "array":
        return _list(blocks, index, match, leaf.spec, region)
    found: Found | None = read_value(leaf.spec, region) if region.strip() else None
    if found is None:
        # A label box ("Invoice No." / "Tax (10%)") has its value in the box beside or below.
        if not _label_box(text, match, region):
            return None
        for neighbour in _neighbours(blocks, matches, index):
            later = [m.start for m in matches[neighbour] if m.start > 0 and not m.weak]
            region = blocks[neighbour].text[: min(later, default=len(blocks[neighbour].text))]
            found = read_value(leaf.spec, region)
            if found is not None:
                value_index, offset = neighbour, 0
                break
        if found is None:
            return None
    score = match.quality + (0.03 if match.separator else 0.0) - (WEAK if match.weak else 0.0)
    score -= 0.02 if value_index != index else 0.0
    for path, section in sections.items():
        if value_index in section and (leaf.parent is None or leaf.parent.dotted != path):
            score -= OTHER_SECTION
            break
    if own_section and value_index not in own_section:
        score -= OUTSIDE_SECTION
    ids = [blocks[value_index].block_id]  # the block the value was read from
    position = offset + found.start
    return Candidate(
        leaf.spec.dotted,
        found.value,
        score,
        value_index * 100_000 + position,
        tuple(ids),
        (value_index, position),
    )


def _free_text(spec: FieldSpec) -> bool:
    return spec.kind == "string" and spec.enum is None and shape_of(spec) in ("text", "name", "id")


def _list(
    blocks: Sequence[Block], index: int, match: LabelMatch, spec: FieldSpec, region: str
) -> Candidate | None:
    """A list of scalars: the list items under a label, or the values listed after it."""
    assert spec.items is not None
    values: list[Any] = []
    ids: list[str] = []
    if region.strip():
        for part in re.split(r"\s*[;,•]\s*|\s+and\s+", region.strip()):
            found = read_value(spec.items, part)
            if found is not None:
                values.append(found.value)
        ids.append(blocks[index].block_id)
    elif _label_only(blocks[index].text, match):
        for later in range(index + 1, len(blocks)):
            if blocks[later].type != "list_item":
                break
            found = read_value(spec.items, blocks[later].text)
            if found is not None:
                values.append(found.value)
                ids.append(blocks[later].block_id)
    if not values:
        return None
    return Candidate(
        spec.dotted,
        values,
        match.quality,
        index * 100_000 + match.value_start,
        tuple(ids),
        (index, match.value_start),
    )


def _label_box(text: str, match: LabelMatch, region: str) -> bool:
    """A block that is a label, perhaps with a remark ("Tax (10%)"), and no value of its own."""
    if not region.strip():
        return _label_only(text, match)
    return match.start <= 1 and len(region.split()) <= 2 and not text.rstrip().endswith(".")


def _label_only(text: str, match: LabelMatch) -> bool:
    """A short block that ends with the label: "Invoice No.", "RECEIVE NEWSLETTER"."""
    return not text[match.value_start :].strip() and len(text.split()) <= LABEL_BOX_WORDS


def _neighbours(blocks: Sequence[Block], matches: list[list[LabelMatch]], index: int) -> list[int]:
    """Where a label box's value may be: the nearest block to its right on the same line, then
    the nearest block below it."""
    label = blocks[index]
    x0, y0, x1, y1 = label.bbox
    right: tuple[float, int] | None = None
    below: tuple[float, int] | None = None
    for other in _same_page(blocks, index):
        block = blocks[other]
        if other == index:
            continue
        strong = [m for m in matches[other] if not m.weak]
        if strong and (strong[0].start == 0 or _label_only(block.text, strong[-1])):
            continue  # another label box, or a label with its own value
        bx0, by0, bx1, by1 = block.bbox
        centre = (by0 + by1) / 2
        beside = y0 - 3 <= centre <= y1 + 3 and 0 <= bx0 - x1 + 2 <= RIGHT_POINTS
        under = by0 >= y1 - 2 and by0 - y1 <= BELOW_POINTS and min(x1, bx1) - max(x0, bx0) > 0
        if beside and (right is None or bx0 - x1 < right[0]):
            right = (bx0 - x1, other)
        elif not beside and under and (below is None or by0 - y1 < below[0]):
            below = (by0 - y1, other)
    return [found[1] for found in (right, below) if found is not None]


def _same_page(blocks: Sequence[Block], index: int) -> range:
    """Indices of the blocks on the page of ``blocks[index]`` (blocks are in page order)."""
    page = blocks[index].page
    start = index
    while start > 0 and blocks[start - 1].page == page:
        start -= 1
    end = index + 1
    while end < len(blocks) and blocks[end].page == page:
        end += 1
    return range(start, end)


def _section(blocks: Sequence[Block], spec: FieldSpec) -> set[int]:
    """The blocks under the heading (or label line) that names the object ``spec``."""
    patterns = patterns_for(
        spec.dotted, [v for v in field_variants(spec.words, spec.title, None) if v.quality >= 0.85]
    )
    anchor: int | None = None
    for index, block in enumerate(blocks):
        found = find_labels(block.text, patterns)
        if found and found[0].start == 0:
            if block.type == "heading":
                anchor = index
                break
            if anchor is None:
                anchor = index
    if anchor is None:
        return set()
    head = blocks[anchor]
    section = {anchor}
    for index in range(anchor + 1, min(len(blocks), anchor + MAX_SECTION_BLOCKS)):
        block = blocks[index]
        if block.type == "heading" and (
            head.type != "heading" or (block.level or 9) <= (head.level or 9)
        ):
            break
        section.add(index)
    return section


def _assign(candidates: list[Candidate], specs: dict[str, FieldSpec]) -> dict[str, Candidate]:
    def key(candidate: Candidate) -> tuple[float, int]:
        last = bool(set(specs[candidate.path].words) & LAST_WINS)
        return (-round(candidate.score, 6), -candidate.order if last else candidate.order)

    chosen: dict[str, Candidate] = {}
    claimed: set[tuple[int, int]] = set()
    for candidate in sorted(candidates, key=key):
        if candidate.path in chosen or (candidate.claim is not None and candidate.claim in claimed):
            continue
        chosen[candidate.path] = candidate
        if candidate.claim is not None:
            claimed.add(candidate.claim)
    return chosen


def _assemble(
    fields: Sequence[FieldSpec], chosen: dict[str, Candidate], blocks: Sequence[Block]
) -> Extraction:
    order = {block.block_id: index for index, block in enumerate(blocks)}
    data: dict[str, Any] = {}
    citations: dict[str, list[str]] = {}
    for spec in fields:
        ids: set[str] = set()
        value = _fill(spec, chosen, ids)
        if value is not None:
            data[spec.key] = value
            citations[spec.key] = sorted(ids, key=lambda block_id: order.get(block_id, 0))
    return Extraction(data, citations)


def _fill(spec: FieldSpec, chosen: dict[str, Candidate], ids: set[str]) -> Any:
    if spec.kind == "object":
        filled = {}
        for child in spec.children:
            value = _fill(child, chosen, ids)
            if value is not None:
                filled[child.key] = value
        return filled or None
    candidate = chosen.get(spec.dotted)
    if candidate is None:
        return None
    ids.update(candidate.block_ids)
    return candidate.value
