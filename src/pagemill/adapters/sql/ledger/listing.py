"""One page of a team's rows, newest first, and how many there are: how every list reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


async def newest_first(
    conn: AsyncConnection,
    where: Sequence[sa.ColumnElement[bool]],
    newest: sa.Column[Any],
    *,
    limit: int,
    offset: int,
    query: sa.Select[Any] | None = None,
) -> tuple[list[sa.Row[Any]], int]:
    """One page of the rows of ``newest``'s table that match ``where``, by ``newest`` then by
    id, descending (read through ``query`` when given, a select of that table); and the count
    of all that match."""
    table = newest.table
    count = sa.select(sa.func.count()).select_from(table).where(*where)
    total = (await conn.execute(count)).scalar_one()
    page = (sa.select(table) if query is None else query).where(*where)
    rows = await conn.execute(
        page.order_by(newest.desc(), table.c.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), int(total)
