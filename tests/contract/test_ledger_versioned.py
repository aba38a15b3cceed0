"""The contract of the versioned-resource store (``VersionedStore``), for both kinds of resource
(custom processors, extraction schemas) on every SQL dialect: team-owned resources with
immutable, numbered versions, one of them current."""

from __future__ import annotations

import asyncio

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict
from pagemill.domain.versioned import VersionSummary
from tests.contract.versioned_kit import KINDS, T0, Kind, at, teams


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


async def test_create_stores_version_one_as_current(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a")
    store = kind.store(ledger)

    created = await store.create("team_a", kind.id("one"), "First", kind.first, "first cut", T0)

    assert (created.public_id, created.team_id, created.name) == (kind.id("one"), "team_a", "First")
    assert (created.current_version, created.newest_version, created.archived) == (1, 1, False)
    assert created.description == ("first cut" if kind.described else None)
    assert created.payload == kind.first
    assert list(created.payload) == list(kind.first)  # key order survives the round trip
    assert created.created == created.updated == T0
    assert created.history == (VersionSummary(1, "first cut", T0),)
    version = await store.version("team_a", kind.id("one"), 1)
    assert version is not None
    assert (version.version, version.payload, version.description, version.created) == (
        1,
        kind.first,
        "first cut",
        T0,
    )
    assert version.resource_pk == created.pk
    assert await store.get("team_a", kind.id("one")) == created


async def test_new_versions_count_up_and_may_stay_behind_the_current(
    ledger: SqlLedger, kind: Kind
) -> None:
    await teams(ledger, "team_a", "team_b")
    store = kind.store(ledger)
    await store.create("team_a", kind.id("one"), "A", kind.first, None, T0)

    two = await store.add_version(
        "team_a", kind.id("one"), kind.second, at(1), version_description="two", name="Renamed"
    )
    three = await store.add_version("team_a", kind.id("one"), kind.first, at(2), make_current=False)

    assert two is not None and three is not None
    assert (two.current_version, two.payload, two.name) == (2, kind.second, "Renamed")
    assert (three.current_version, three.newest_version, three.payload) == (2, 3, kind.second)
    assert (three.updated, three.created) == (at(2), T0)
    assert [v.version for v in three.history] == [3, 2, 1]  # newest first
    versions = await store.versions("team_a", kind.id("one"))
    assert [(v.version, v.payload, v.description) for v in versions] == [
        (3, kind.first, None),
        (2, kind.second, "two"),
        (1, kind.first, None),
    ]
    assert await store.versions("team_b", kind.id("one")) == []
    assert await store.version("team_a", kind.id("one"), 4) is None


async def test_a_version_without_a_description_takes_the_resources(
    ledger: SqlLedger, kind: Kind
) -> None:
    await teams(ledger, "team_a")
    store = kind.store(ledger)
    await store.create("team_a", kind.id("one"), "A", kind.first, "one", T0)
    if not kind.described:
        with pytest.raises(ValueError, match="cannot set description"):
            await store.add_version("team_a", kind.id("one"), kind.second, at(1), description="x")
        return

    two = await store.add_version("team_a", kind.id("one"), kind.second, at(1), description="two")
    three = await store.add_version("team_a", kind.id("one"), kind.first, at(2))

    assert two is not None and three is not None
    assert two.description == "two"  # the change, and the new version's description
    assert three.history == (
        VersionSummary(3, "two", at(2)),
        VersionSummary(2, "two", at(1)),
        VersionSummary(1, "one", T0),
    )


async def test_update_edits_in_place_and_keeps_the_versions(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a")
    store = kind.store(ledger)
    await store.create("team_a", kind.id("one"), "A", kind.first, "one", T0)
    await store.add_version("team_a", kind.id("one"), kind.second, at(1))
    own = {"description": None} if kind.described else {}

    changed = await store.update(
        "team_a", kind.id("one"), at(5), current_version=1, name="Renamed", archived=True, **own
    )

    assert changed is not None
    assert (changed.current_version, changed.payload) == (1, kind.first)
    assert (changed.name, changed.description, changed.archived) == ("Renamed", None, True)
    assert (changed.newest_version, changed.updated) == (2, at(5))
    # A version keeps the description it was stored with.
    assert changed.history[-1].description == "one"


async def test_update_refuses_columns_the_ledger_owns(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a")
    store = kind.store(ledger)
    await store.create("team_a", kind.id("one"), "A", kind.first, None, T0)

    owned = ["created", "archived_at", "id"] + ([] if kind.described else ["description"])
    for column in owned:
        with pytest.raises(ValueError, match=f"cannot set {column}"):
            await store.update("team_a", kind.id("one"), at(1), **{column: 1})


async def test_reads_and_writes_are_team_scoped(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a", "team_b")
    store = kind.store(ledger)
    one = kind.id("one")
    await store.create("team_a", one, "A", kind.first, None, T0)

    assert await store.get("team_b", one) is None
    assert await store.version("team_b", one, 1) is None
    listed = await store.page("team_b", include_archived=True, limit=10, offset=0)
    assert listed == ([], 0)
    assert await store.add_version("team_b", one, kind.second, at(1)) is None
    assert await store.update("team_b", one, at(1), archived=True) is None
    mine = await store.get("team_a", one)
    assert mine is not None
    assert (mine.newest_version, mine.archived, mine.updated) == (1, False, T0)


async def test_public_ids_are_unique(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a", "team_b")
    store = kind.store(ledger)
    await store.create("team_a", kind.id("one"), "A", kind.first, None, T0)

    with pytest.raises(Conflict):
        await store.create("team_b", kind.id("one"), "B", kind.first, None, T0)


async def test_concurrent_new_versions_get_distinct_numbers(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a")
    store = kind.store(ledger)
    one = kind.id("one")
    await store.create("team_a", one, "A", kind.first, None, T0)

    added = await asyncio.gather(
        *(store.add_version("team_a", one, kind.second, at(i)) for i in range(1, 7))
    )

    assert sorted(r.current_version for r in added if r is not None) == [2, 3, 4, 5, 6, 7]
    final = await store.get("team_a", one)
    assert final is not None and final.newest_version == 7


async def test_list_is_newest_first_paginated_and_hides_archived(
    ledger: SqlLedger, kind: Kind
) -> None:
    await teams(ledger, "team_a", "team_b")
    store = kind.store(ledger)
    ids = [kind.id(str(i)) for i in range(4)]
    for i, public_id in enumerate(ids):
        await store.create("team_a", public_id, f"R{i}", kind.first, None, at(i))
    await store.create("team_b", kind.id("other"), "B", kind.first, None, at(9))
    await store.update("team_a", ids[1], at(10), archived=True)
    await store.add_version("team_a", ids[0], kind.second, at(11))

    listed, total = await store.page("team_a", include_archived=False, limit=10, offset=0)
    everything, all_total = await store.page("team_a", include_archived=True, limit=2, offset=1)

    assert ([r.public_id for r in listed], total) == ([ids[0], ids[3], ids[2]], 3)
    # Each carries its current payload and its history.
    assert [(r.current_version, r.payload) for r in listed] == [
        (2, kind.second),
        (1, kind.first),
        (1, kind.first),
    ]
    assert [[v.version for v in r.history] for r in listed] == [[2, 1], [1], [1]]
    assert ([r.public_id for r in everything], all_total) == ([ids[1], ids[3]], 4)
    assert [r.archived for r in everything] == [True, False]
