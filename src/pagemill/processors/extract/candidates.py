"""What the offline extractor collects before choosing: candidates, and the rules that score
them against each other (totals that add up) or come from the resolvers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pagemill.processors.document import Block
from pagemill.processors.extract.concepts import AMOUNT_CONCEPTS
from pagemill.processors.extract.facts import Facts
from pagemill.processors.extract.resolve import resolve
from pagemill.processors.extract.schema import FieldSpec

MIN_RESOLVED = 0.3
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
class Leaf:
    spec: FieldSpec
    parent: FieldSpec | None  # the innermost object holding it, if any
    concept: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """What the whole document says about how to read a value (day/month order, language)."""

    facts: Facts


def why_empty(leaf: Leaf) -> str:
    if leaf.concept is None:
        return "no label of this field was found with a value of its type"
    return f"no value read as {leaf.concept.replace('_', ' ')} was found"


def resolved(
    leaf: Leaf,
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


def consistency(candidates: list[Candidate], leaves: dict[str, Leaf]) -> None:
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
        if isinstance(best_total.value, int | float) and isinstance(
            best_subtotal.value, int | float
        ):
            for tax in taxes:
                if abs(best_subtotal.value + tax.value - best_total.value) > 0.011:
                    tax.score -= INCONSISTENT  # a tax that does not fit the totals is a rate
