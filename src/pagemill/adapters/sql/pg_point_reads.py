"""Single-statement reads straight on psycopg, for the hottest read of PostgreSQL mode.

Every GET of an execution reads its ``(status, seq)`` head first (the decision rule). Through
SQLAlchemy's async pool one such read costs about 250 µs of the API's CPU, most of it in the
pool checkout and the result machinery; on an idle psycopg connection in autocommit it costs
about 50 µs. This reader keeps its own few connections for such reads: autocommit (one round
trip, no BEGIN/ROLLBACK), server-side prepared statements, rows as plain tuples.

Only for statements whose columns need no SQLAlchemy type conversion (text, integers): values
come back as psycopg returns them.

A connection the server dropped (a restart) fails its statement; the reader then closes every
idle connection (they were opened before the restart too) and repeats the read once on a new
one, which is safe for a single read. Errors become the same domain errors as elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pagemill.domain.errors import InvalidInput, ServiceUnavailable

if TYPE_CHECKING:  # psycopg is an optional dependency (the ``postgres`` extra)
    import psycopg


class _Dropped(Exception):
    """The server closed the connection a statement ran on."""


class PostgresPointReader:
    """At most ``max_connections`` autocommit connections to ``conninfo``, opened on demand."""

    def __init__(self, conninfo: str, max_connections: int, recycle_seconds: float) -> None:
        self._conninfo = conninfo
        self._recycle_seconds = recycle_seconds
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float]] = []  # (conn, opened at)
        self._closed = False

    async def fetch(self, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` (``%(name)s`` placeholders) with ``params``."""
        import psycopg

        async with self._slots:
            try:
                try:
                    return await self._fetch_once(sql, params, fresh=False)
                except _Dropped:
                    pass
                try:
                    return await self._fetch_once(sql, params, fresh=True)
                except _Dropped as dropped:
                    raise dropped.__cause__ or dropped from None
            except psycopg.DataError as error:
                # A value the server refuses (a NUL character in text): the request's fault.
                raise InvalidInput(f"A value cannot be read: {_reason(error)}") from error
            except (psycopg.Error, OSError) as error:
                raise ServiceUnavailable(
                    f"The database is unavailable: {_reason(error)}"
                ) from error

    async def _fetch_once(
        self, sql: str, params: Mapping[str, Any], *, fresh: bool
    ) -> list[tuple[Any, ...]]:
        import psycopg

        conn, opened = await self._checkout(fresh)
        try:
            cursor = await conn.execute(sql, params, prepare=True)
            rows = await cursor.fetchall()
        except psycopg.Error as error:
            if not (conn.broken or conn.closed):
                # The statement failed, the connection is fine (autocommit: nothing open).
                await self._checkin(conn, opened)
                raise
            await self._discard_idle()  # opened before the same outage: as dead
            await _close(conn)
            raise _Dropped() from error
        except BaseException:
            # Cancelled mid-statement: the connection's state is unknown; never reuse it.
            await _close(conn)
            raise
        await self._checkin(conn, opened)
        return rows

    async def _checkout(self, fresh: bool) -> tuple[psycopg.AsyncConnection[Any], float]:
        import psycopg

        if self._closed:
            raise ServiceUnavailable("The database is unavailable: the ledger is closed.")
        now = time.monotonic()
        while self._idle and not fresh:
            conn, opened = self._idle.pop()  # newest first: the few busy ones stay warm
            if now - opened < self._recycle_seconds and not conn.closed:
                return conn, opened
            await _close(conn)
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        return conn, now

    async def _checkin(self, conn: psycopg.AsyncConnection[Any], opened: float) -> None:
        if self._closed:
            await _close(conn)
        else:
            self._idle.append((conn, opened))

    async def _discard_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            await _close(conn)

    async def close(self) -> None:
        self._closed = True
        await self._discard_idle()


async def _close(conn: psycopg.AsyncConnection[Any]) -> None:
    with contextlib.suppress(Exception):
        await conn.close()


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
