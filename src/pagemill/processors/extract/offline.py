"""The built-in extractor: fills a JSON schema from a document's blocks, offline.

0. Each property gets its *concept* from its name, description, type and format
   (``concepts``); the document its language, day/month order and currency (``facts``).
1. Arrays of objects come from tables (``tables``); their blocks leave the key-value search.
2. Every block is searched for the labels of every scalar field (``labels``): its own words and,
   for a concept, the lexicon's labels in every language (``lexicon``). The value is the text
   after the label up to the next label — or, for a label alone, the box to its right or below
   it, the cell under a table header, the column under a header row of labels (``layout``) —
   read by the field's type (``typed``); amounts must look like money.
3. Objects have a *section*: the blocks under a heading that names them ("Emergency Contact").
   Their properties' bare labels ("Name:") count only there, and other fields' values found
   there score lower.
4. Concepts that labels get wrong — currency, IBAN, VAT id, vendor, customer, addresses — are
   resolved from the whole document (``resolve``); other unlabelled values get low-scored
   guesses (``fallbacks``).
5. Totals, subtotals and taxes that add up are preferred (``candidates``); candidates are
   assigned best score first, each value in the text used once. A field left empty gets its
   reason in ``notes["null_reasons"]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pagemill.processors.document import Block
from pagemill.processors.extract.candidates import (
    Candidate,
    Extraction,
    Leaf,
    Reading,
    consistency,
    resolved,
    why_empty,
)
from pagemill.processors.extract.concepts import AMOUNT_CONCEPTS, DATE_CONCEPTS, concept_of
from pagemill.processors.extract.facts import facts_of
from pagemill.processors.extract.fallbacks import guesses
from pagemill.processors.extract.labels import (
    LabelMatch,
    LabelPattern,
    Variant,
    common_patterns,
    field_variants,
    find_labels,
    patterns_for,
    region_end,
)
from pagemill.processors.extract.layout import (
    cell_below,
    column_value,
    label_only,
    neighbours,
    readable,
)
from pagemill.processors.extract.lexicon import labels
from pagemill.processors.extract.resolve import RESOLVED, customer_zone
from pagemill.processors.extract.schema import FieldSpec
from pagemill.processors.extract.tables import extract_table, generic_headers
from pagemill.processors.extract.typed import read_value, shape_of
from pagemill.processors.extract.values import Found, find_amount

OTHER_SECTION, OUTSIDE_SECTION, WEAK = 0.3, 0.1, 0.4
MAX_SECTION_BLOCKS = 40
LAST_WINS = {"total", "balance", "grand"}
LEXICON_QUALITY = 0.9  # a label of the field's concept, from the lexicon
LABELLED: tuple[str, ...] = ("invoice_number", "order_number", "document_date", "due_date")
LABELLED += ("delivery_date",)
LABELLED += AMOUNT_CONCEPTS
WEAK_DATE = 0.2  # "Rechnung 507 vom 21.01.2019": a lower-case word before a date still names it
MIN_LABELLED = 0.5  # a labelled value of a concept scored below this is left out
WHOLE_NUMBER = 0.45  # an amount without decimals or currency is rarely money
COLUMN = 0.1  # a value read by its column under a row of labels is less sure than one beside
CONCEPTS = (*LABELLED, "vendor", "customer", "vat_id", "iban", "other")


def extract_offline(blocks: Sequence[Block], fields: Sequence[FieldSpec]) -> Extraction:
    usable = [readable(b) for b in blocks if b.type != "picture" and (b.text.strip() or b.rows)]
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
    reading = Reading(facts)

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
            candidates.extend(resolved(leaf, usable, facts, zone, reasons))
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
    consistency(candidates, leaves)
    chosen = _assign(
        candidates, {**{k: v.spec for k, v in leaves.items()}, **{t.dotted: t for t in tables}}
    )
    extraction = _assemble(fields, chosen, usable)
    for path, leaf in leaves.items():
        if path not in chosen:
            reasons.setdefault(path, why_empty(leaf))
    if reasons:
        extraction.notes["null_reasons"] = reasons
    extraction.notes["document_language"] = facts.language.code
    return extraction


def _walk(
    fields: Sequence[FieldSpec],
) -> tuple[dict[str, Leaf], list[FieldSpec], list[FieldSpec]]:
    """Scalar leaves (and arrays of scalars), arrays of objects, and objects, at any depth."""
    leaves: dict[str, Leaf] = {}
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
                leaves[spec.dotted] = Leaf(spec, parent)  # a list of scalars
        else:
            leaves[spec.dotted] = Leaf(spec, parent)

    for spec in fields:
        visit(spec, None)
    return leaves, tables, objects


def _labelled(
    blocks: Sequence[Block],
    matches: list[list[LabelMatch]],
    index: int,
    match: LabelMatch,
    leaf: Leaf,
    sections: dict[str, set[int]],
    reading: Reading,
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
    penalty = 0.0
    found: Found | None = None
    if region.strip():
        money = leaf.concept in AMOUNT_CONCEPTS and leaf.spec.kind == "number"
        found = find_amount(region) if money else read_value(leaf.spec, region, day_first)
    below = cell_below(blocks[index], match) if found is None else None
    if below is not None:  # a table's header cell: the value is in the cell under it
        found = read_value(leaf.spec, below[0], day_first)
        if found is not None:
            return _candidate(leaf, found, match, (index, index, below[1]), blocks, sections)
    if found is None:
        # A label box ("Invoice No." / "Tax (10%)") has its value in the box beside or below.
        column = column_value(blocks, matches, index, match, leaf, reading)
        if column is not None:
            found, value_index, offset = column
            penalty = COLUMN
        elif not _label_box(text, match, region):
            return None
        for neighbour in [] if column is not None else neighbours(blocks, matches, index):
            under = blocks[neighbour].bbox[1] >= blocks[index].bbox[3] - 2
            if under and leaf.concept in AMOUNT_CONCEPTS and text[: match.start].strip():
                continue  # an amount label ending a header row: its column is elsewhere
            later = [m.start for m in matches[neighbour] if m.start > 0 and not m.weak]
            region = blocks[neighbour].text[: min(later, default=len(blocks[neighbour].text))]
            found = read_value(leaf.spec, region, day_first)
            if found is not None:
                value_index, offset = neighbour, 0
                break
        if found is None:
            return None
    candidate = _candidate(leaf, found, match, (index, value_index, offset), blocks, sections)
    if candidate is not None:
        candidate.score -= penalty
    return candidate


def _candidate(
    leaf: Leaf,
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
    elif label_only(blocks[index].text, match):
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
        return label_only(text, match)
    return match.start <= 1 and len(region.split()) <= 2 and not text.rstrip().endswith(".")


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
