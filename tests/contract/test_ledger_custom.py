"""The custom-processor part of the ledger contract, on every SQL dialect (what it shares with
extraction schemas is in ``test_ledger_versioned``)."""

from __future__ import annotations

from pagemill.adapters.sql import SqlLedger
from tests.contract.versioned_kit import DEFINITION, T0, at, teams


async def test_create_stores_version_one_as_active(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")

    created = await ledger.custom_processors.create(
        "team_a", "cp_one", "Footers", DEFINITION, "first cut", T0
    )

    assert (created.processor_id, created.team_id, created.name) == ("cp_one", "team_a", "Footers")
    assert (created.active_version, created.max_version, created.archived) == (1, 1, False)
    assert created.created == created.updated == T0
    assert isinstance(created.pk, int)
    version = await ledger.custom_processors.version("team_a", "cp_one", 1)
    assert version is not None
    assert version.definition == DEFINITION
    assert list(version.definition["classify_pages"]) == ["zeta", "alpha", "mid"]
    assert (version.version, version.description, version.created) == (1, "first cut", T0)
    assert version.processor_pk == created.pk
    assert await ledger.custom_processors.get("team_a", "cp_one") == created


async def test_new_versions_count_up_and_may_stay_inactive(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a", "team_b")
    await ledger.custom_processors.create("team_a", "cp_one", "A", DEFINITION, None, T0)
    second = {"rules": [{"action": "keep", "match": {"pages": "0-1"}}]}

    v2 = await ledger.custom_processors.add_version(
        "team_a", "cp_one", second, "two", at(1), activate=True
    )
    v3 = await ledger.custom_processors.add_version(
        "team_a", "cp_one", DEFINITION, None, at(2), activate=False
    )

    assert v2 is not None and v3 is not None
    assert (v2.version, v2.definition, v2.description, v2.created) == (2, second, "two", at(1))
    assert v3.version == 3
    processor = await ledger.custom_processors.get("team_a", "cp_one")
    assert processor is not None
    assert (processor.active_version, processor.max_version, processor.updated) == (2, 3, at(2))
    versions = await ledger.custom_processors.versions("team_a", "cp_one")
    assert [v.version for v in versions] == [3, 2, 1]  # newest first
    assert await ledger.custom_processors.versions("team_b", "cp_one") == []
    assert await ledger.custom_processors.version("team_a", "cp_one", 4) is None


async def test_update_sets_active_version_name_and_archived(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.custom_processors.create("team_a", "cp_one", "A", DEFINITION, None, T0)
    await ledger.custom_processors.add_version(
        "team_a", "cp_one", DEFINITION, None, at(1), activate=True
    )

    changed = await ledger.custom_processors.update(
        "team_a", "cp_one", at(5), active_version=1, name="Renamed", archived=True
    )

    assert changed is not None
    assert (changed.active_version, changed.name, changed.archived) == (1, "Renamed", True)
    assert (changed.max_version, changed.updated) == (2, at(5))
