"""The extraction-schema part of the ledger contract, on every SQL dialect (what it shares with
custom processors is in ``test_ledger_versioned``)."""

from __future__ import annotations

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.extraction_schemas import SchemaVersionSummary
from tests.contract.versioned_kit import SCHEMA, SECOND, T0, at, teams


async def test_create_stores_version_one_as_current(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")

    created = await ledger.extraction_schemas.create(
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
    version = await ledger.extraction_schemas.version("team_a", "sch_one", 1)
    assert version is not None
    assert (version.version, version.schema_json, version.description, version.created) == (
        1,
        SCHEMA,
        "first cut",
        T0,
    )
    assert version.schema_pk == created.pk
    assert await ledger.extraction_schemas.get("team_a", "sch_one") == created


async def test_a_new_version_becomes_current_with_the_other_changes(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.extraction_schemas.create("team_a", "sch_one", "A", SCHEMA, "one", T0)

    two = await ledger.extraction_schemas.update(
        "team_a", "sch_one", at(1), new_version=SECOND, description="two", name="Totals"
    )
    three = await ledger.extraction_schemas.update("team_a", "sch_one", at(2), new_version=SCHEMA)

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
    old = await ledger.extraction_schemas.version("team_a", "sch_one", 2)
    assert old is not None and old.schema_json == SECOND
    assert await ledger.extraction_schemas.version("team_a", "sch_one", 4) is None


async def test_edits_in_place_keep_the_version(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.extraction_schemas.create("team_a", "sch_one", "A", SCHEMA, "one", T0)

    changed = await ledger.extraction_schemas.update(
        "team_a", "sch_one", at(5), name="Renamed", description=None, archived=True
    )

    assert changed is not None
    assert (changed.name, changed.description, changed.archived) == ("Renamed", None, True)
    assert (changed.current_version, changed.updated, len(changed.history)) == (1, at(5), 1)
    # The version keeps the description it was stored with.
    assert changed.history[0].description == "one"


async def test_the_list_carries_each_schemas_current_json_and_history(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.extraction_schemas.create("team_a", "sch_0", "S0", SCHEMA, None, T0)
    await ledger.extraction_schemas.create("team_a", "sch_1", "S1", SCHEMA, None, at(1))
    await ledger.extraction_schemas.update("team_a", "sch_0", at(2), new_version=SECOND)

    listed, _ = await ledger.extraction_schemas.page(
        "team_a", include_archived=False, limit=10, offset=0
    )

    assert [s.schema_id for s in listed] == ["sch_0", "sch_1"]
    assert (listed[0].current_version, listed[0].schema_json) == (2, SECOND)
    assert [v.version for v in listed[0].history] == [2, 1]
    assert (listed[1].current_version, listed[1].schema_json) == (1, SCHEMA)
    assert [v.version for v in listed[1].history] == [1]
