"""Tell when executions end by reading the ledger directly, so waiting costs the API nothing."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from bench_handoff import TERMINAL

EXECUTION_TIMEOUT_SECONDS = 30.0


class LedgerWatcher(abc.ABC):
    """Resolves waiters when their executions reach a terminal status; one ledger query per
    ``interval`` for all of them, whatever the number of executions in flight."""

    # Often enough for the slots to resubmit promptly, rarely enough that the load generator's
    # reads (and the PostgreSQL backend answering them) stay out of the way of the system under
    # test: every 10 ms cost 0.1-0.15 cores.
    interval = 0.05

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self.failures = 0
        self.queries = 0  # statements sent (autocommit: each is a transaction to PostgreSQL)

    @abc.abstractmethod
    async def statuses(self, execution_ids: list[str]) -> dict[str, str]:
        """The current status of each execution found."""

    async def open(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait(self, execution_id: str, timeout: float = EXECUTION_TIMEOUT_SECONDS) -> str:
        """The terminal status of ``execution_id``, or ``"timeout"``."""
        future = self._waiting.setdefault(execution_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return "timeout"
        finally:
            if future.done():
                self._waiting.pop(execution_id, None)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            ids = [i for i, f in self._waiting.items() if not f.done()]
            if not ids:
                continue
            try:
                found = await self.statuses(ids)
            except Exception:  # a blip reading the ledger: try again next tick
                self.failures += 1
                continue
            for execution_id, status in found.items():
                future = self._waiting.get(execution_id)
                if status in TERMINAL and future is not None and not future.done():
                    future.set_result(status)


class PostgresWatcher(LedgerWatcher):
    def __init__(self, database_url: str) -> None:
        super().__init__()
        self._url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._conn: psycopg.AsyncConnection[Any] | None = None

    @property
    def backend_pid(self) -> int | None:
        return self._conn.info.backend_pid if self._conn is not None else None

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                await self._conn.close()
            self._conn = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=5
            )
        return self._conn

    async def open(self) -> None:
        await self._connect()
        await super().open()

    async def close(self) -> None:
        await super().close()
        if self._conn is not None:
            await self._conn.close()

    async def _query(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One read; after a lost connection (a PostgreSQL restart) reconnect and retry once."""
        for attempt in (1, 2):
            try:
                conn = await self._connect()
                cursor = await conn.execute(query, params)  # type: ignore[arg-type]
                return await cursor.fetchall()
            except psycopg.OperationalError:
                if attempt == 2:
                    raise
                await asyncio.sleep(1.0)
        raise AssertionError("unreachable")

    async def completed(self) -> list[str]:
        """Every completed execution in the ledger."""
        rows = await self._query("SELECT execution_id FROM executions WHERE status = 'completed'")
        return [str(r[0]) for r in rows]

    async def statuses(self, execution_ids: list[str]) -> dict[str, str]:
        self.queries += 1
        rows = await self._query(
            "SELECT execution_id, status FROM executions WHERE execution_id = ANY(%s)",
            (execution_ids,),
        )
        return {str(r[0]): str(r[1]) for r in rows}


class SqliteWatcher(LedgerWatcher):
    """Reads the embedded server's SQLite ledger (WAL mode: a reader does not block it)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._conn = sqlite3.connect(
            f"file:{self._path}?mode=ro", uri=True, check_same_thread=False, timeout=1.0
        )
        await super().open()

    async def close(self) -> None:
        await super().close()
        if self._conn is not None:
            self._conn.close()

    async def statuses(self, execution_ids: list[str]) -> dict[str, str]:
        return await asyncio.to_thread(self._read, execution_ids)

    def _read(self, execution_ids: list[str]) -> dict[str, str]:
        assert self._conn is not None
        found: dict[str, str] = {}
        for start in range(0, len(execution_ids), 500):
            chunk = execution_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT execution_id, status FROM executions WHERE execution_id IN ({marks})",
                chunk,
            ).fetchall()
            found.update({str(r[0]): str(r[1]) for r in rows})
        return found
