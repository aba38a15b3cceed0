"""The ledger contract that custom processors and extraction schemas share, for both kinds and
on every SQL dialect: team-owned resources with immutable, numbered versions."""

from __future__ import annotations

import asyncio

import pytest

from pagemill.adapters.sql import SqlLedger
from pagemill.domain.errors import Conflict
from tests.contract.versioned_kit import KINDS, T0, Kind, at, teams


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> Kind:
    return KINDS[request.param]


async def test_reads_and_writes_are_team_scoped(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a", "team_b")
    one = f"{kind.prefix}one"
    await kind.create(ledger, "team_a", one, T0)

    assert await kind.get(ledger, "team_b", one) is None
    assert await kind.version(ledger, "team_b", one, 1) is None
    listed = await kind.listing(ledger, "team_b", include_archived=True, limit=10, offset=0)
    assert listed == ([], 0)
    assert await kind.add_version(ledger, "team_b", one, at(1)) is None
    assert await kind.update(ledger, "team_b", one, at(1), archived=True) is None
    mine = await kind.get(ledger, "team_a", one)
    assert mine is not None
    assert (getattr(mine, kind.newest_field), mine.archived, mine.updated) == (1, False, T0)


async def test_public_ids_are_unique(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a", "team_b")
    await kind.create(ledger, "team_a", f"{kind.prefix}one", T0)

    with pytest.raises(Conflict):
        await kind.create(ledger, "team_b", f"{kind.prefix}one", T0)


async def test_concurrent_new_versions_get_distinct_numbers(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a")
    one = f"{kind.prefix}one"
    await kind.create(ledger, "team_a", one, T0)

    added = await asyncio.gather(
        *(kind.add_version(ledger, "team_a", one, at(i)) for i in range(1, 7))
    )

    assert sorted(n for n in added if n is not None) == [2, 3, 4, 5, 6, 7]
    final = await kind.get(ledger, "team_a", one)
    assert final is not None and getattr(final, kind.newest_field) == 7


async def test_update_refuses_columns_the_ledger_owns(ledger: SqlLedger, kind: Kind) -> None:
    await teams(ledger, "team_a")
    await kind.create(ledger, "team_a", f"{kind.prefix}one", T0)

    for column in ("created", kind.ledger_owned):
        with pytest.raises(ValueError, match=f"cannot set {column}"):
            await kind.update(ledger, "team_a", f"{kind.prefix}one", at(1), **{column: 1})


async def test_list_is_newest_first_paginated_and_hides_archived(
    ledger: SqlLedger, kind: Kind
) -> None:
    await teams(ledger, "team_a", "team_b")
    ids = [f"{kind.prefix}{i}" for i in range(4)]
    for i, public_id in enumerate(ids):
        await kind.create(ledger, "team_a", public_id, at(i))
    await kind.create(ledger, "team_b", f"{kind.prefix}other", at(9))
    await kind.update(ledger, "team_a", ids[1], at(10), archived=True)
    await kind.add_version(ledger, "team_a", ids[0], at(11))

    listed, total = await kind.listing(ledger, "team_a", include_archived=False, limit=10, offset=0)
    everything, all_total = await kind.listing(
        ledger, "team_a", include_archived=True, limit=2, offset=1
    )

    assert ([getattr(r, kind.id_field) for r in listed], total) == ([ids[0], ids[3], ids[2]], 3)
    assert [getattr(r, kind.newest_field) for r in listed] == [2, 1, 1]
    assert ([getattr(r, kind.id_field) for r in everything], all_total) == ([ids[1], ids[3]], 4)
    assert [r.archived for r in everything] == [True, False]
