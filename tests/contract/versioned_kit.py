"""Builders of the ledger contract suites of the versioned, team-owned resources.

Custom processors and extraction schemas are both a team's resource with immutable numbered
versions; ``KINDS`` drives each through the same few ledger calls, so that the behaviour they
share is tested once for both (``test_ledger_versioned``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pagemill.adapters.sql import SqlLedger

T0 = datetime(2025, 4, 1, 9, 30, 0, 250000, tzinfo=UTC)
DEFINITION: dict[str, Any] = {
    "rules": [{"action": "drop", "match": {"type": "page_footer", "pattern": "Seite \\d+ von ü"}}],
    # Label order decides ties: it must survive the round trip.
    "classify_pages": {"zeta": ["z"], "alpha": ["a"], "mid": ["m", "n"]},
}
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
        await ledger.tenancy.create_team(name, f"name of {name}", T0)


async def _create_processor(ledger: SqlLedger, team_id: str, public_id: str, now: datetime) -> Any:
    return await ledger.custom_processors.create(team_id, public_id, "P", DEFINITION, None, now)


async def _iterate_processor(
    ledger: SqlLedger, team_id: str, public_id: str, now: datetime
) -> int | None:
    added = await ledger.custom_processors.add_version(
        team_id, public_id, DEFINITION, None, now, activate=True
    )
    return None if added is None else added.version


async def _create_schema(ledger: SqlLedger, team_id: str, public_id: str, now: datetime) -> Any:
    return await ledger.extraction_schemas.create(team_id, public_id, "S", SCHEMA, None, now)


async def _new_schema_version(
    ledger: SqlLedger, team_id: str, public_id: str, now: datetime
) -> int | None:
    changed = await ledger.extraction_schemas.update(team_id, public_id, now, new_version=SECOND)
    return None if changed is None else changed.current_version


def _area(area: str, method: str) -> Callable[..., Awaitable[Any]]:
    """``method`` of the ledger's ``area``, called with the ledger first."""

    def call(ledger: SqlLedger, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return getattr(getattr(ledger, area), method)(*args, **kwargs)  # type: ignore[no-any-return]

    return call


@dataclass(frozen=True)
class Kind:
    """One kind of versioned resource: its ledger methods, and the fields that differ."""

    prefix: str  # of its public ids
    id_field: str  # the public id
    newest_field: str  # the number of the newest version
    ledger_owned: str  # a column of its table that ``update`` must refuse to set
    create: Callable[[SqlLedger, str, str, datetime], Awaitable[Any]]  # with version 1
    add_version: Callable[[SqlLedger, str, str, datetime], Awaitable[int | None]]  # its number
    get: Callable[..., Awaitable[Any]]
    listing: Callable[..., Awaitable[tuple[list[Any], int]]]
    version: Callable[..., Awaitable[Any]]
    update: Callable[..., Awaitable[Any]]


KINDS = {
    "custom_processors": Kind(
        prefix="cp_",
        id_field="processor_id",
        newest_field="max_version",
        ledger_owned="created",
        create=_create_processor,
        add_version=_iterate_processor,
        get=_area("custom_processors", "get"),
        listing=_area("custom_processors", "page"),
        version=_area("custom_processors", "version"),
        update=_area("custom_processors", "update"),
    ),
    "extraction_schemas": Kind(
        prefix="sch_",
        id_field="schema_id",
        newest_field="current_version",
        ledger_owned="current_version",
        create=_create_schema,
        add_version=_new_schema_version,
        get=_area("extraction_schemas", "get"),
        listing=_area("extraction_schemas", "page"),
        version=_area("extraction_schemas", "version"),
        update=_area("extraction_schemas", "update"),
    ),
}
