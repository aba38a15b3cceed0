"""The custom-processor part of the ledger contract, on every SQL dialect."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict

T0 = datetime(2025, 4, 1, 9, 30, 0, 250000, tzinfo=UTC)
DEFINITION: dict[str, Any] = {
    "rules": [{"action": "drop", "match": {"type": "page_footer", "pattern": "Seite \\d+ von ü"}}],
    # Label order decides ties: it must survive the round trip.
    "classify_pages": {"zeta": ["z"], "alpha": ["a"], "mid": ["m", "n"]},
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def teams(ledger: SqlLedger, *names: str) -> None:
    for name in names:
        await ledger.create_team(name, f"name of {name}", T0)


async def test_create_stores_version_one_as_active(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")

    created = await ledger.create_custom_processor(
        "team_a", "cp_one", "Footers", DEFINITION, "first cut", T0
    )

    assert (created.processor_id, created.team_id, created.name) == ("cp_one", "team_a", "Footers")
    assert (created.active_version, created.max_version, created.archived) == (1, 1, False)
    assert created.created == created.updated == T0
    assert isinstance(created.pk, int)
    version = await ledger.custom_processor_version("team_a", "cp_one", 1)
    assert version is not None
    assert version.definition == DEFINITION
    assert list(version.definition["classify_pages"]) == ["zeta", "alpha", "mid"]
    assert (version.version, version.description, version.created) == (1, "first cut", T0)
    assert version.processor_pk == created.pk
    assert await ledger.custom_processor("team_a", "cp_one") == created


async def test_reads_and_writes_are_team_scoped(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a", "team_b")
    await ledger.create_custom_processor("team_a", "cp_one", "Mine", DEFINITION, None, T0)

    assert await ledger.custom_processor("team_b", "cp_one") is None
    assert await ledger.custom_processor_version("team_b", "cp_one", 1) is None
    assert await ledger.custom_processor_versions("team_b", "cp_one") == []
    assert await ledger.list_custom_processors(
        "team_b", include_archived=True, limit=10, offset=0
    ) == ([], 0)
    added = await ledger.add_custom_processor_version(
        "team_b", "cp_one", DEFINITION, None, at(1), activate=True
    )
    assert added is None
    assert await ledger.update_custom_processor("team_b", "cp_one", at(1), archived=True) is None
    mine = await ledger.custom_processor("team_a", "cp_one")
    assert mine is not None
    assert (mine.max_version, mine.archived) == (1, False)


async def test_processor_ids_are_unique(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a", "team_b")
    await ledger.create_custom_processor("team_a", "cp_one", "A", DEFINITION, None, T0)

    with pytest.raises(Conflict):
        await ledger.create_custom_processor("team_b", "cp_one", "B", DEFINITION, None, T0)


async def test_new_versions_count_up_and_may_stay_inactive(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.create_custom_processor("team_a", "cp_one", "A", DEFINITION, None, T0)
    second = {"rules": [{"action": "keep", "match": {"pages": "0-1"}}]}

    v2 = await ledger.add_custom_processor_version(
        "team_a", "cp_one", second, "two", at(1), activate=True
    )
    v3 = await ledger.add_custom_processor_version(
        "team_a", "cp_one", DEFINITION, None, at(2), activate=False
    )

    assert v2 is not None and v3 is not None
    assert (v2.version, v2.definition, v2.description, v2.created) == (2, second, "two", at(1))
    assert v3.version == 3
    processor = await ledger.custom_processor("team_a", "cp_one")
    assert processor is not None
    assert (processor.active_version, processor.max_version, processor.updated) == (2, 3, at(2))
    versions = await ledger.custom_processor_versions("team_a", "cp_one")
    assert [v.version for v in versions] == [3, 2, 1]  # newest first
    assert await ledger.custom_processor_version("team_a", "cp_one", 4) is None


async def test_concurrent_iterations_get_distinct_numbers(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.create_custom_processor("team_a", "cp_one", "A", DEFINITION, None, T0)

    added = await asyncio.gather(
        *(
            ledger.add_custom_processor_version(
                "team_a", "cp_one", DEFINITION, str(i), at(i), activate=True
            )
            for i in range(1, 7)
        )
    )

    assert sorted(v.version for v in added if v is not None) == [2, 3, 4, 5, 6, 7]
    processor = await ledger.custom_processor("team_a", "cp_one")
    assert processor is not None and processor.max_version == 7


async def test_update_sets_active_version_name_and_archived(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a")
    await ledger.create_custom_processor("team_a", "cp_one", "A", DEFINITION, None, T0)
    await ledger.add_custom_processor_version(
        "team_a", "cp_one", DEFINITION, None, at(1), activate=True
    )

    changed = await ledger.update_custom_processor(
        "team_a", "cp_one", at(5), active_version=1, name="Renamed", archived=True
    )

    assert changed is not None
    assert (changed.active_version, changed.name, changed.archived) == (1, "Renamed", True)
    assert (changed.max_version, changed.updated) == (2, at(5))
    with pytest.raises(ValueError, match="cannot set created"):
        await ledger.update_custom_processor("team_a", "cp_one", at(6), created=at(6))


async def test_list_is_newest_first_paginated_and_hides_archived(ledger: SqlLedger) -> None:
    await teams(ledger, "team_a", "team_b")
    for i in range(4):
        await ledger.create_custom_processor("team_a", f"cp_{i}", f"P{i}", DEFINITION, None, at(i))
    await ledger.create_custom_processor("team_b", "cp_other", "B", DEFINITION, None, at(9))
    await ledger.update_custom_processor("team_a", "cp_1", at(10), archived=True)
    await ledger.add_custom_processor_version(
        "team_a", "cp_0", DEFINITION, None, at(11), activate=True
    )

    listed, total = await ledger.list_custom_processors(
        "team_a", include_archived=False, limit=10, offset=0
    )
    everything, all_total = await ledger.list_custom_processors(
        "team_a", include_archived=True, limit=2, offset=1
    )

    assert ([p.processor_id for p in listed], total) == (["cp_0", "cp_3", "cp_2"], 3)
    assert listed[0].max_version == 2 and listed[1].max_version == 1
    assert ([p.processor_id for p in everything], all_total) == (["cp_1", "cp_3"], 4)
