"""Builders of the contract of the versioned-resource store, run for each kind of resource.

Custom processors, extraction schemas and eval rubrics are stores of the same port
(``VersionedStore``): ``KINDS`` gives each kind's store and payloads, so that every test runs
for all of them, on every SQL dialect (``test_ledger_versioned``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pagemill.ports.ledger import Ledger, VersionedStore

T0 = datetime(2025, 4, 1, 9, 30, 0, 250000, tzinfo=UTC)
DEFINITION: dict[str, Any] = {
    "rules": [{"action": "drop", "match": {"type": "page_footer", "pattern": "Seite \\d+ von ü"}}],
    # Label order decides ties: it must survive the round trip.
    "classify_pages": {"zeta": ["z"], "alpha": ["a"], "mid": ["m", "n"]},
}
SECOND_DEFINITION: dict[str, Any] = {"rules": [{"action": "keep", "match": {"pages": "0-1"}}]}
SCHEMA: dict[str, Any] = {
    "type": "object",
    # Property order is what an extraction reports in: it must survive the round trip.
    "properties": {
        "zeta": {"type": "string", "description": "Größe in €"},
        "alpha": {"type": "number"},
        "items": {"type": "array", "items": {"type": "object", "properties": {"a": {}}}},
    },
    "required": ["zeta"],
}
SECOND_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"total": {"type": "number"}}}
RUBRIC: dict[str, Any] = {
    "name": "Prüfungen",
    # Rule order is the order of the evaluation: it must survive the round trip.
    "rules": [
        {"type": "regex", "field": "zeta", "pattern": "^\\d+ €$"},
        {"type": "field_present", "field": "alpha"},
    ],
}
SECOND_RUBRIC: dict[str, Any] = {"rules": [{"type": "numeric_range", "field": "total", "min": 0}]}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def teams(ledger: Ledger, *names: str) -> None:
    for name in names:
        await ledger.tenancy.create_team(name, f"name of {name}", T0)


@dataclass(frozen=True)
class Kind:
    """One kind of versioned resource: where the ledger keeps it, and two payloads."""

    area: str  # the ledger's attribute
    prefix: str  # of its public ids
    first: dict[str, Any]
    second: dict[str, Any]
    described: bool  # whether its resources keep a description of their own

    def store(self, ledger: Ledger) -> VersionedStore:
        store: VersionedStore = getattr(ledger, self.area)
        return store

    def id(self, name: str) -> str:
        return self.prefix + name


KINDS = {
    "custom_processors": Kind(
        "custom_processors", "cp_", DEFINITION, SECOND_DEFINITION, described=False
    ),
    "extraction_schemas": Kind("extraction_schemas", "sch_", SCHEMA, SECOND_SCHEMA, described=True),
    # Eval rubric ids are integers on the wire, kept as their decimal text.
    "eval_rubrics": Kind("eval_rubrics", "4294967", RUBRIC, SECOND_RUBRIC, described=True),
}
