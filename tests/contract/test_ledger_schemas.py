"""The extraction-schema part of the ledger contract, on every SQL dialect."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict
from pagemill.domain.extraction_schemas import SchemaVersionSummary

T0 = datetime(2025, 4, 1, 9, 30, 0, 250000, tzinfo=UTC)
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
SECOND: dict[str, Any] = {"type": "object", "properties": {"total": {"type": "number"}}}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def teams(ledger: SqlLedger, *names: str) -> None:
    for name in names:
        await ledger.create_team(name, f"name of {name}", T0)


async def test_create_stores_version_one_as_current(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")

    created = await ledger.create_extraction_schema(
        "team_a", "sch_one", "Invoices", SCHEMA, "first cut", T0
    )

    assert (created.schema_id, created.team_id, created.name) == ("sch_one", "team_a", "Invoices")
    assert (created.description, created.current_version, created.archived) == (
        "first cut",
        1,
        False,
    )
    assert created.schema_json == SCHEMA
    assert list(created.schema_json["properties"]) == ["zeta", "alpha", "items"]
    assert created.created == created.updated == T0
    assert created.history == (SchemaVersionSummary(1, "first cut", T0),)
    assert isinstance(created.pk, int)
    version = await ledger.extraction_schema_version("team_a", "sch_one", 1)
    assert version is not None
    assert (version.version, version.schema_json, version.description, version.created) == (
        1,
        SCHEMA,
        "first cut",
        T0,
    )
    assert version.schema_pk == created.pk
    assert await ledger.extraction_schema("team_a", "sch_one") == created


async def test_reads_and_writes_are_team_scoped(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a", "team_b")
    await ledger.create_extraction_schema("team_a", "sch_one", "Mine", SCHEMA, None, T0)

    assert await ledger.extraction_schema("team_b", "sch_one") is None
    assert await ledger.extraction_schema_version("team_b", "sch_one", 1) is None
    assert await ledger.list_extraction_schemas(
        "team_b", include_archived=True, limit=10, offset=0
    ) == ([], 0)
    assert await ledger.update_extraction_schema("team_b", "sch_one", at(1), archived=True) is None
    assert (
        await ledger.update_extraction_schema("team_b", "sch_one", at(1), new_version=SECOND)
        is None
    )
    mine = await ledger.extraction_schema("team_a", "sch_one")
    assert mine is not None
    assert (mine.current_version, mine.archived, mine.schema_json) == (1, False, SCHEMA)


async def test_schema_ids_are_unique(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a", "team_b")
    await ledger.create_extraction_schema("team_a", "sch_one", "A", SCHEMA, None, T0)

    with pytest.raises(Conflict):
        await ledger.create_extraction_schema("team_b", "sch_one", "B", SCHEMA, None, T0)


async def test_a_new_version_becomes_current_with_the_other_changes(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.create_extraction_schema("team_a", "sch_one", "A", SCHEMA, "one", T0)

    two = await ledger.update_extraction_schema(
        "team_a", "sch_one", at(1), new_version=SECOND, description="two", name="Totals"
    )
    three = await ledger.update_extraction_schema("team_a", "sch_one", at(2), new_version=SCHEMA)

    assert two is not None and three is not None
    assert (two.current_version, two.schema_json, two.name, two.description) == (
        2,
        SECOND,
        "Totals",
        "two",
    )
    # Without a description of its own, a version takes the schema's.
    assert three.history == (
        SchemaVersionSummary(3, "two", at(2)),
        SchemaVersionSummary(2, "two", at(1)),
        SchemaVersionSummary(1, "one", T0),
    )
    assert (three.current_version, three.schema_json, three.updated) == (3, SCHEMA, at(2))
    assert three.created == T0
    old = await ledger.extraction_schema_version("team_a", "sch_one", 2)
    assert old is not None and old.schema_json == SECOND
    assert await ledger.extraction_schema_version("team_a", "sch_one", 4) is None


async def test_edits_in_place_keep_the_version(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.create_extraction_schema("team_a", "sch_one", "A", SCHEMA, "one", T0)

    changed = await ledger.update_extraction_schema(
        "team_a", "sch_one", at(5), name="Renamed", description=None, archived=True
    )

    assert changed is not None
    assert (changed.name, changed.description, changed.archived) == ("Renamed", None, True)
    assert (changed.current_version, changed.updated, len(changed.history)) == (1, at(5), 1)
    # The version keeps the description it was stored with.
    assert changed.history[0].description == "one"
    with pytest.raises(ValueError, match="cannot set current_version"):
        await ledger.update_extraction_schema("team_a", "sch_one", at(6), current_version=1)


async def test_concurrent_new_versions_get_distinct_numbers(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.create_extraction_schema("team_a", "sch_one", "A", SCHEMA, None, T0)

    changed = await asyncio.gather(
        *(
            ledger.update_extraction_schema(
                "team_a", "sch_one", at(i), new_version=SECOND, description=str(i)
            )
            for i in range(1, 7)
        )
    )

    assert sorted(s.current_version for s in changed if s is not None) == [2, 3, 4, 5, 6, 7]
    final = await ledger.extraction_schema("team_a", "sch_one")
    assert final is not None
    assert [v.version for v in final.history] == [7, 6, 5, 4, 3, 2, 1]


async def test_list_is_newest_first_paginated_and_hides_archived(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a", "team_b")
    for i in range(4):
        await ledger.create_extraction_schema("team_a", f"sch_{i}", f"S{i}", SCHEMA, None, at(i))
    await ledger.create_extraction_schema("team_b", "sch_other", "B", SCHEMA, None, at(9))
    await ledger.update_extraction_schema("team_a", "sch_1", at(10), archived=True)
    await ledger.update_extraction_schema("team_a", "sch_0", at(11), new_version=SECOND)

    listed, total = await ledger.list_extraction_schemas(
        "team_a", include_archived=False, limit=10, offset=0
    )
    everything, all_total = await ledger.list_extraction_schemas(
        "team_a", include_archived=True, limit=2, offset=1
    )

    assert ([s.schema_id for s in listed], total) == (["sch_0", "sch_3", "sch_2"], 3)
    assert (listed[0].current_version, listed[0].schema_json) == (2, SECOND)
    assert [v.version for v in listed[0].history] == [2, 1]
    assert (listed[1].current_version, listed[1].schema_json) == (1, SCHEMA)
    assert ([s.schema_id for s in everything], all_total) == (["sch_1", "sch_3"], 4)
    assert everything[0].archived is True
