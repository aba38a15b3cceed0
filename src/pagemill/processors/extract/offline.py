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
from dataclasses import dataclass, field, replace
from typing import Any

from pagemill.processors.document import Block
from pagemill.processors.extract.concepts import AMOUNT_CONCEPTS, DATE_CONCEPTS, concept_of
from pagemill.processors.extract.facts import Facts, facts_of
from pagemill.processors.extract.fallbacks import guesses
from pagemill.processors.extract.labels import (
    LABEL_BOX_WORDS,
    Variant,
    LabelMatch,
    LabelPattern,
    common_patterns,
    field_variants,
    find_labels,
    patterns_for,
    region_end,
)
from pagemill.processors.extract.lexicon import labels
from pagemill.processors.extract.resolve import RESOLVED, customer_zone, resolve
from pagemill.processors.extract.schema import FieldSpec
from pagemill.processors.extract.tables import extract_table, generic_headers
from pagemill.processors.extract.typed import read_value, shape_of
from pagemill.processors.extract.values import Found

RIGHT_POINTS, BELOW_POINTS = 250.0, 30.0
OTHER_SECTION, OUTSIDE_SECTION, WEAK = 0.3, 0.1, 0.4
MAX_SECTION_BLOCKS = 40
LAST_WINS = {"total", "balance", "grand"}
LEXICON_QUALITY = 0.88  # a label of the field's concept, from the lexicon
LABELLED = ("invoice_number", "order_number", "document_date", "due_date", "delivery_date")
LABELLED += AMOUNT_CONCEPTS
MIN_RESOLVED = 0.3
WEAK_DATE = 0.2  # "Rechnung 507 vom 21.01.2019": a lower-case word before a date still names it
MIN_LABELLED = 0.5  # a labelled value of a concept scored below this is left out
WHOLE_NUMBER = 0.45  # an amount without decimals or currency is rarely money
CONCEPTS = (*LABELLED, "vendor", "customer", "vat_id", "iban", "other")
HEADER_COVERAGE = 0.7  # a block this much covered by labels is a header row
COLUMN_SLACK = 15.0
CONSISTENT = 0.5  # bonus for a total, subtotal and tax that add up
INCONSISTENT = 0.6


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
    concept: str | None = None


@dataclass(frozen=True, slots=True)
class _Reading:
    facts: Facts
    not_total: tuple[LabelPattern, ...]


def extract_offline(blocks: Sequence[Block], fields: Sequence[FieldSpec]) -> Extraction:
    usable = [_readable(b) for b in blocks if b.type != "picture" and (b.text.strip() or b.rows)]
    leaves, tables, objects = _walk(fields)
    facts = facts_of(usable)
    for leaf in leaves.values():
        leaf.concept = concept_of(leaf.spec)
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

    not_total = patterns_for(None, (Variant(p, 0.0) for p in labels("not_total")))
    # Every concept's labels end the value before them and shadow shorter labels inside them
    # ("Date of delivery" is no "Date", "BTW Nummer" no "BTW").
    others = patterns_for(None, (Variant(p, 0.0) for c in CONCEPTS for p in labels(c)))
    patterns: list[LabelPattern] = [*common_patterns(), *not_total, *others]
    for leaf in leaves.values():
        parent_words = leaf.parent.words if leaf.parent is not None else None
        variants = field_variants(
            leaf.spec.words, leaf.spec.title, parent_words, leaf.spec.description
        )
        if leaf.concept in LABELLED:
            variants += [Variant(p, LEXICON_QUALITY) for p in labels(str(leaf.concept))]
        patterns.extend(patterns_for(leaf.spec.dotted, variants))
    matches = [[] if i in excluded else find_labels(b.text, patterns) for i, b in enumerate(usable)]
    sections = {spec.dotted: _section(usable, spec) for spec in objects}
    reading = _Reading(facts, tuple(not_total))

    for index in range(len(usable)):
        for match in matches[index]:
            if match.owner is None or leaves[match.owner].concept in RESOLVED:
                continue
            found = _labelled(usable, matches, index, match, leaves[match.owner], sections, reading)
            if found is not None:
                candidates.append(found)
    zone = customer_zone(usable)
    reasons: dict[str, str] = {}
    for leaf in leaves.values():
        if leaf.concept in RESOLVED:
            candidates.extend(_resolved(leaf, usable, facts, zone, reasons))
            continue
        for guess in guesses(leaf.spec, usable, excluded, facts.day_first):
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
    _consistency(candidates, leaves)
    chosen = _assign(
        candidates, {**{k: v.spec for k, v in leaves.items()}, **{t.dotted: t for t in tables}}
    )
    extraction = _assemble(fields, chosen, usable)
    for path, leaf in leaves.items():
        if path not in chosen:
            reasons.setdefault(path, _why_empty(leaf))
    if reasons:
        extraction.notes["null_reasons"] = reasons
    extraction.notes["document_language"] = facts.language.code
    return extraction


def _readable(block: Block) -> Block:
    """A table block whose cells are its only text, with the rows as its text."""
    if block.text.strip() or not block.rows:
        return block
    return replace(block, text=_render(block.rows))


def _render(rows: Sequence[Sequence[str]]) -> str:
    return "\n".join(" | ".join(row) for row in rows)


def _cell_below(block: Block, match: LabelMatch) -> tuple[str, int] | None:
    """For a label alone in a table cell, the cell under it and where it starts in the text."""
    if not block.rows or block.text != _render(block.rows):
        return None
    position = 0
    starts: list[list[int]] = []
    for row in block.rows:
        starts.append([])
        for cell in row:
            starts[-1].append(position)
            position += len(cell) + 3
        position += 1 - 3 if row else 1
    for r, row in enumerate(block.rows[:-1]):
        for c, cell in enumerate(row):
            start = starts[r][c]
            if start <= match.start < start + len(cell):
                if cell[match.value_start - start :].strip() or c >= len(block.rows[r + 1]):
                    return None
                return block.rows[r + 1][c], starts[r + 1][c]
    return None


def _why_empty(leaf: _Leaf) -> str:
    if leaf.concept is None:
        return "no label of this field was found with a value of its type"
    return f"no value read as {leaf.concept.replace('_', ' ')} was found"


def _resolved(
    leaf: _Leaf,
    blocks: Sequence[Block],
    facts: Facts,
    zone: dict[int, int],
    reasons: dict[str, str],
) -> list[Candidate]:
    found = resolve(str(leaf.concept), blocks, facts, zone)
    kept = [r for r in found if r.score >= MIN_RESOLVED]
    if found and not kept:
        reasons[leaf.spec.dotted] = f"only doubtful candidates ({found[0].reason})"
    return [
        Candidate(
            leaf.spec.dotted,
            r.value,
            r.score,
            r.block * 100_000,
            (blocks[r.block].block_id,),
            None,
        )
        for r in kept
    ]


def _consistency(candidates: list[Candidate], leaves: dict[str, _Leaf]) -> None:
    """Raise the total, subtotal and tax that add up (total = subtotal + tax)."""
    by_concept: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        leaf = leaves.get(candidate.path)
        if leaf is not None and leaf.concept in AMOUNT_CONCEPTS and leaf.parent is None:
            by_concept.setdefault(str(leaf.concept), []).append(candidate)
    totals = by_concept.get("total", [])
    subtotals = by_concept.get("subtotal", [])
    taxes = by_concept.get("tax", [])
    for total in totals:
        for subtotal in subtotals:
            for tax in taxes:
                values = (total.value, subtotal.value, tax.value)
                if not all(isinstance(v, int | float) for v in values):
                    continue
                if abs(subtotal.value + tax.value - total.value) <= 0.011 and total.value:
                    for candidate in (total, subtotal, tax):
                        candidate.score = max(candidate.score, 1.0) + CONSISTENT
    if totals and subtotals:
        best_total = max(totals, key=lambda c: c.score)
        best_subtotal = max(subtotals, key=lambda c: c.score)
        if isinstance(best_total.value, int | float) and isinstance(best_subtotal.value, int | float):
            for tax in taxes:
                if abs(best_subtotal.value + tax.value - best_total.value) > 0.011:
                    tax.score -= INCONSISTENT  # a tax that does not fit the totals is a rate


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
    reading: _Reading,
) -> Candidate | None:
    if match.weak and _free_text(leaf.spec):
        return None  # prose words are no label for free text
    own_section = sections.get(leaf.parent.dotted) if leaf.parent is not None else None
    if match.scoped and (own_section is None or index not in own_section):
        return None
    text = blocks[index].text
    region = text[match.value_start : region_end(text, match, matches[index])]
    if blocks[index].rows:  # a table row ends the value
        region = "" if "\n" in text[match.end : match.value_start] else region.split("\n")[0]
    value_index, offset = index, match.value_start
    if leaf.spec.kind == "array":
        return _list(blocks, index, match, leaf.spec, region)
    if leaf.concept in AMOUNT_CONCEPTS and re.match(r"-?%", text[match.end : match.end + 2]):
        return None  # "BTW%", "MwSt-%": the column of rates, not of amounts
    day_first = reading.facts.day_first
    found: Found | None = read_value(leaf.spec, region, day_first) if region.strip() else None
    below = _cell_below(blocks[index], match) if found is None else None
    if below is not None:  # a table's header cell: the value is in the cell under it
        found = read_value(leaf.spec, below[0], day_first)
        if found is not None:
            return _candidate(leaf, found, match, (index, index, below[1]), blocks, sections)
    if found is None:
        # A label box ("Invoice No." / "Tax (10%)") has its value in the box beside or below.
        column = _column_value(blocks, matches, index, match, leaf, reading)
        if column is not None:
            found, value_index, offset = column
        elif not _label_box(text, match, region):
            return None
        for neighbour in [] if column is not None else _neighbours(blocks, matches, index):
            later = [m.start for m in matches[neighbour] if m.start > 0 and not m.weak]
            region = blocks[neighbour].text[: min(later, default=len(blocks[neighbour].text))]
            found = read_value(leaf.spec, region, day_first)
            if found is not None:
                value_index, offset = neighbour, 0
                break
        if found is None:
            return None
    return _candidate(leaf, found, match, (index, value_index, offset), blocks, sections)


def _candidate(
    leaf: _Leaf,
    found: Found,
    match: LabelMatch,
    where: tuple[int, int, int],  # the label's block, the value's block, the region's offset
    blocks: Sequence[Block],
    sections: dict[str, set[int]],
) -> Candidate | None:
    """The candidate for a value read after ``match``, scored by the label and the layout."""
    index, value_index, offset = where
    text = blocks[index].text
    own_section = sections.get(leaf.parent.dotted) if leaf.parent is not None else None
    if leaf.concept in AMOUNT_CONCEPTS and value_index == index:
        between = text[match.start : match.value_start + found.start]
        if leaf.concept != "tax" and "%" in between:
            return None  # "Total includes 6% GST 0.48": a tax line, not a total
    weak = WEAK_DATE if leaf.concept in DATE_CONCEPTS else WEAK
    score = match.quality + (0.03 if match.separator else 0.0) - (weak if match.weak else 0.0)
    # A longer label names its value more surely: "Fecha factura" before "Fecha".
    score += min(0.04, 0.01 * (len(text[match.start : match.end].split()) - 1))
    if leaf.concept in AMOUNT_CONCEPTS:
        shown = blocks[value_index].text[offset + found.start : offset + found.end]
        if not re.search(r"[.,]\d{1,2}\b|[€$£]|[A-Z]{3}", shown):
            score -= WHOLE_NUMBER
    if leaf.concept in LABELLED and score < MIN_LABELLED:
        return None
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


def _column_value(
    blocks: Sequence[Block],
    matches: list[list[LabelMatch]],
    index: int,
    match: LabelMatch,
    leaf: _Leaf,
    reading: _Reading,
) -> tuple[Found, int, int] | None:
    """A header row of labels ("TOTAL HT  TOTAL TVA  TOTAL TTC") over a row of values: the
    value in the same column, counted from the left."""
    if leaf.spec.kind == "string" and shape_of(leaf.spec) not in ("id", "date", "date_text"):
        return None  # one word per column: only for numbers, dates and identifiers
    text = blocks[index].text
    labels_here: list[LabelMatch] = []
    for m in matches[index]:
        if not m.weak and all(m.start >= o.end or m.end <= o.start for o in labels_here):
            labels_here.append(m)
    covered = sum(len(text[m.start : m.end].replace(" ", "")) for m in labels_here)
    if len(labels_here) < 2 or covered < HEADER_COVERAGE * len(text.replace(" ", "")):
        return None
    ordinal = next((i for i, m in enumerate(labels_here) if m.start == match.start), None)
    below = _neighbours(blocks, matches, index)
    if ordinal is None or not below:
        return None
    row = below[-1]
    cells = list(re.finditer(r"\S+", blocks[row].text))
    if len(cells) >= len(labels_here):
        cell = cells[ordinal]
        found = read_value(leaf.spec, cell.group(0), reading.facts.day_first)
        if found is not None:
            return Found(found.value, found.start, found.end), row, cell.start()
    # Values in blocks of their own: the one under the label's place in the row.
    x0, _, x1, y1 = blocks[index].bbox
    share = (match.start + match.end) / 2 / max(1, len(text))
    centre = x0 + share * (x1 - x0)
    for other, block in enumerate(blocks):
        bx0, by0, bx1, _ = block.bbox
        if block.page == blocks[index].page and 0 <= by0 - y1 <= BELOW_POINTS:
            if bx0 - COLUMN_SLACK <= centre <= bx1 + COLUMN_SLACK:
                found = read_value(leaf.spec, block.text, reading.facts.day_first)
                if found is not None:
                    return found, other, 0
    return None


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
