"""The ledger contract, run against every SQL dialect (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pagemill.adapters.sql import SqlLedger, create_ledger, normalize_url
from pagemill.domain.errors import Conflict, InvalidInput, ServiceUnavailable
from pagemill.domain.models import (
    ApiKey,
)
from tests.contract.ledger_kit import T0, at, team

# -- teams and keys ----------------------------------------------------------------------------


async def test_teams_and_keys(ledger: SqlLedger) -> None:
    await ledger.ping()
    assert await ledger.tenancy.count_teams() == 0
    created = await ledger.tenancy.create_team("team_a", "Acme", T0)

    assert created.id == "team_a"
    assert created.created == T0
    assert await ledger.tenancy.team_by_name("Acme") == created
    assert await ledger.tenancy.team_by_name("Nobody") is None
    assert await ledger.tenancy.count_teams() == 1
    with pytest.raises(Conflict):
        await ledger.tenancy.create_team("team_b", "Acme", T0)

    later = datetime(2025, 3, 1, 15, 0, tzinfo=timezone(timedelta(hours=2)))
    key = ApiKey("key_1", "team_a", "ci", "hash", created=T0, expires_at=later)
    await ledger.tenancy.create_api_key(key)
    assert await ledger.tenancy.api_key("key_1") == key
    assert await ledger.tenancy.api_key("key_missing") is None

    await ledger.tenancy.touch_api_key("key_1", at(60))
    touched = await ledger.tenancy.api_key("key_1")
    assert touched is not None
    assert touched.last_used_at == at(60)
    # Aware datetimes come back as the same instant, in UTC.
    assert touched.expires_at == later
    assert touched.expires_at is not None
    assert touched.expires_at.utcoffset() == timedelta(0)


# -- pipelines ---------------------------------------------------------------------------------


async def test_pipeline_crud_and_team_isolation(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    steps = [{"type": "convert", "settings": {"paginate": True}}]

    created = await ledger.pipelines.create("team_a", "pl_1", steps, T0)

    assert (created.pipeline_id, created.team_id, created.steps) == ("pl_1", "team_a", steps)
    assert (created.name, created.is_saved, created.archived) == (None, False, False)
    assert created.active_version == 0
    assert created.created == created.updated == T0
    assert await ledger.pipelines.get("team_a", "pl_1") == created
    assert await ledger.pipelines.get("team_b", "pl_1") is None

    new_steps = [*steps, {"type": "extract", "settings": {}}]
    updated = await ledger.pipelines.update(
        "team_a", "pl_1", at(5), name="Invoices", is_saved=True, steps=new_steps
    )
    assert updated is not None
    assert (updated.name, updated.is_saved, updated.steps) == ("Invoices", True, new_steps)
    assert updated.updated == at(5)
    assert updated.created == T0
    assert updated.pk == created.pk
    assert await ledger.pipelines.update("team_b", "pl_1", at(6), name="Stolen") is None
    assert await ledger.pipelines.update("team_a", "pl_missing", at(6), name="x") is None
    with pytest.raises(ValueError, match="active_version"):
        await ledger.pipelines.update("team_a", "pl_1", at(6), active_version=7)
    with pytest.raises(Conflict):
        await ledger.pipelines.create("team_b", "pl_1", steps, T0)


async def test_publish_snapshots_the_draft_as_the_next_version(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    v1_steps = [{"type": "convert"}]
    draft = await ledger.pipelines.create("team_a", "pl_1", v1_steps, T0)
    assert await ledger.pipelines.versions(draft.pk) == []

    first = await ledger.pipelines.publish_version("team_a", "pl_1", "first", at(1))
    v2_steps = [{"type": "convert"}, {"type": "extract"}]
    await ledger.pipelines.update("team_a", "pl_1", at(2), steps=v2_steps)
    second = await ledger.pipelines.publish_version("team_a", "pl_1", None, at(3))

    assert first is not None
    assert second is not None
    assert (first.version, first.steps, first.description) == (1, v1_steps, "first")
    assert (second.version, second.steps, second.description) == (2, v2_steps, None)
    assert second.pipeline_pk == draft.pk
    assert second.created == at(3)
    assert await ledger.pipelines.versions(draft.pk) == [second, first]
    current = await ledger.pipelines.get("team_a", "pl_1")
    assert current is not None
    assert (current.active_version, current.updated) == (2, at(3))
    assert await ledger.pipelines.publish_version("team_b", "pl_1", None, at(4)) is None


async def test_concurrent_publishes_get_distinct_versions(ledger: SqlLedger) -> None:
    await team(ledger)
    draft = await ledger.pipelines.create("team_a", "pl_1", [{"type": "convert"}], T0)

    published = await asyncio.gather(
        *(ledger.pipelines.publish_version("team_a", "pl_1", f"v{i}", at(i)) for i in range(6))
    )

    assert sorted(v.version for v in published if v is not None) == [1, 2, 3, 4, 5, 6]
    assert [v.version for v in await ledger.pipelines.versions(draft.pk)] == [6, 5, 4, 3, 2, 1]


async def test_list_pipelines_filters_orders_and_counts(ledger: SqlLedger) -> None:
    await team(ledger, "team_a")
    await team(ledger, "team_b")
    for i in range(6):
        await ledger.pipelines.create("team_a", f"pl_{i}", [{"type": "convert"}], at(i))
    await ledger.pipelines.create("team_b", "pl_other", [{"type": "convert"}], T0)
    # pl_i updated at i s; pl_1 and pl_3 later; pl_4 archived; pl_1, pl_2, pl_4 saved. (Row
    # ids are random: the order comes from the update times alone.)
    await ledger.pipelines.update("team_a", "pl_1", at(10), is_saved=True)
    await ledger.pipelines.update("team_a", "pl_3", at(20), name="renamed")
    await ledger.pipelines.update("team_a", "pl_2", at(2), is_saved=True)
    await ledger.pipelines.update("team_a", "pl_4", at(4), is_saved=True, archived=True)

    def ids(found: tuple[list[Any], int]) -> tuple[list[str], int]:
        return [p.pipeline_id for p in found[0]], found[1]

    everything = await ledger.pipelines.page(
        "team_a", saved_only=False, include_archived=True, limit=50, offset=0
    )
    # Newest update first.
    assert ids(everything) == (["pl_3", "pl_1", "pl_5", "pl_4", "pl_2", "pl_0"], 6)
    active = await ledger.pipelines.page(
        "team_a", saved_only=False, include_archived=False, limit=50, offset=0
    )
    assert ids(active) == (["pl_3", "pl_1", "pl_5", "pl_2", "pl_0"], 5)
    saved = await ledger.pipelines.page(
        "team_a", saved_only=True, include_archived=False, limit=50, offset=0
    )
    assert ids(saved) == (["pl_1", "pl_2"], 2)
    page = await ledger.pipelines.page(
        "team_a", saved_only=False, include_archived=True, limit=2, offset=2
    )
    assert ids(page) == (["pl_5", "pl_4"], 6)
    other = await ledger.pipelines.page(
        "team_b", saved_only=False, include_archived=True, limit=50, offset=0
    )
    assert ids(other) == (["pl_other"], 1)


# -- URLs and outages (no database needed) -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/pm.db", "sqlite+aiosqlite:///data/pm.db"),
        ("sqlite+aiosqlite:////abs/pm.db", "sqlite+aiosqlite:////abs/pm.db"),
        ("postgresql://u:p%40ss@h:5432/db", "postgresql+psycopg://u:p%40ss@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        (
            "postgresql+psycopg://u@h/db?sslmode=require",
            "postgresql+psycopg://u@h/db?sslmode=require",
        ),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "postgresql+asyncpg://h/db", "sqlite://", "sqlite:///:memory:", "x"]
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Unsupported database URL"):
        normalize_url(url)


async def test_an_unreachable_database_is_service_unavailable() -> None:
    ledger = create_ledger("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        with pytest.raises(ServiceUnavailable, match="The database is unavailable"):
            await ledger.ping()
        with pytest.raises(ServiceUnavailable):
            await ledger.tenancy.count_teams()
    finally:
        await ledger.close()


async def test_an_unmigrated_database_is_service_unavailable(tmp_path: Path) -> None:
    ledger = create_ledger(f"sqlite:///{tmp_path / 'new' / 'empty.db'}")
    try:
        await ledger.ping()  # the file (and its directory) can be created
        with pytest.raises(ServiceUnavailable):
            await ledger.tenancy.team_by_name("x")
    finally:
        await ledger.close()
    assert (tmp_path / "new" / "empty.db").exists()


async def test_text_the_database_cannot_store_is_invalid_input_not_an_outage(
    ledger: SqlLedger,
) -> None:
    # PostgreSQL refuses NUL characters in text; SQLite stores them. Either is fine; an
    # "unavailable" error (a 503 for the client) is not.
    if ledger.dialect == "postgresql":
        with pytest.raises(InvalidInput, match="cannot be stored"):
            await ledger.tenancy.create_team("team_nul", "bad\x00name", T0)
    else:
        created = await ledger.tenancy.create_team("team_nul", "bad\x00name", T0)
        assert created.name == "bad\x00name"
