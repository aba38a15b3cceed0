"""The database the ledger's areas share: the connector of their few primitives.

``Database`` owns one engine and the write discipline of its dialect, and offers the areas
(``adapters.sql.ledger``) what they build their SQL on: a write transaction, a read
transaction, a point read (inline on SQLite, prepared and autocommit on PostgreSQL), one
autocommit statement, and the dispatch hook. It also turns URLs into engines and translates
driver errors into domain errors, so nothing of SQLAlchemy leaks out.

SQLite (embedded mode, one process): WAL so that readers never block the writer, and every write
transaction starts with ``BEGIN IMMEDIATE`` so that it takes the write lock up front instead of
failing on a lock upgrade half-way. Writers are also queued on an ``asyncio.Lock``: they would
serialize on the file lock anyway, and waiting on the lock costs nothing while ``busy_timeout``
polls. PostgreSQL (scale-out): a sized pool without a per-checkout ping; row locks do the
serializing.

Why no ``pool_pre_ping``: it costs a round trip on every checkout, that is on every request.
Instead, a connection the server dropped fails its statement, SQLAlchemy recognizes the
disconnect and invalidates that connection and every other one opened before it (the whole pool
after a server restart), and the request gets a 503 with the reason; the next checkout connects
afresh. Single-statement autocommit reads (``point_read``) are idempotent, so they retry once on
a fresh connection instead of failing. ``pool_recycle`` replaces connections before idle-timeouts
of the server or of a proxy in between can close them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from pagemill.adapters.sql.pg_point_reads import PostgresPointReader
from pagemill.domain.clock import utc
from pagemill.domain.errors import Conflict, InvalidInput, ServiceUnavailable
from pagemill.domain.models import ExecutionSnapshot, StepRun
from pagemill.domain.statuses import StepStatus

_SQLITE_DRIVER = "sqlite+aiosqlite"
_POSTGRES_DRIVER = "postgresql+psycopg"
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}

# Execution option read by the ``begin`` hook: how a SQLite transaction starts.
_BEGIN_OPTION = "pagemill_sqlite_begin"


def normalize_url(url: str) -> str:
    """The async SQLAlchemy URL for a pagemill database URL.

    ``sqlite:///path`` and ``sqlite+aiosqlite:///path`` use aiosqlite; ``postgresql://``,
    ``postgres://`` and ``postgresql+psycopg://`` use psycopg 3. Anything else is refused.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in _POSTGRES_SCHEMES:
        # ``postgres://`` is what Heroku-style providers hand out; SQLAlchemy rejects the name.
        rest = url.split("://", 1)[1]
        parsed = make_url(f"{_POSTGRES_DRIVER}://{rest}")
        return parsed.render_as_string(hide_password=False)
    if scheme in _SQLITE_SCHEMES:
        parsed = make_url(url).set(drivername=_SQLITE_DRIVER)
        if parsed.database in (None, "", ":memory:"):
            raise ValueError(
                f"Unsupported database URL {_redacted(url)!r}: an in-memory SQLite database "
                "cannot be shared between connections; give a file path (sqlite:///path/to.db)"
            )
        return parsed.render_as_string(hide_password=False)
    raise ValueError(
        f"Unsupported database URL {_redacted(url)!r}: use sqlite:///path/to.db or "
        "postgresql://user:password@host:port/dbname"
    )


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return url.split("://", 1)[0] + "://…" if "://" in url else url


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@dataclass(frozen=True, slots=True)
class PoolSizing:
    """The connection pool of a PostgreSQL ledger (SQLite ignores it).

    ``size`` connections stay open once opened; up to ``max_overflow`` more are opened under
    load and closed when returned. Keep ``size`` at or above the requests a process serves at
    once: every overflow connection is a new server session (a backend process) per checkout.
    """

    size: int = 20
    max_overflow: int = 20
    recycle_seconds: float = 1800.0

    def __post_init__(self) -> None:
        if self.size < 1 or self.max_overflow < 0 or self.recycle_seconds <= 0:
            raise ValueError(
                "pool size must be at least 1, max_overflow at least 0 and recycle_seconds "
                f"positive; got {self.size}, {self.max_overflow}, {self.recycle_seconds}"
            )


def create_engine(url: str, pool: PoolSizing | None = None) -> AsyncEngine:
    """An async engine for ``url`` (any form ``normalize_url`` accepts), set up for its dialect."""
    normalized = make_url(normalize_url(url))
    if normalized.get_backend_name() == "sqlite":
        return _sqlite_engine(normalized)
    sizing = pool or PoolSizing()
    return create_async_engine(
        normalized,
        pool_size=sizing.size,
        max_overflow=sizing.max_overflow,
        pool_recycle=sizing.recycle_seconds,
    )


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    if not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (it would not BEGIN before
        # SELECTs, and never BEGIN IMMEDIATE); the ``begin`` hook below emits it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            # NORMAL is durable in WAL mode except for the last commits on power loss.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver and SQLAlchemy errors into domain errors; nothing of SQLAlchemy leaks out."""
    try:
        yield
    except exc.IntegrityError as error:
        raise Conflict(f"The change conflicts with stored data: {_reason(error)}") from error
    except OverflowError as error:
        # aiosqlite raises it for integers SQLite cannot store: again the request's fault.
        raise InvalidInput(f"A number is too large to store: {error}") from error
    except exc.DataError as error:
        # A value the database refuses to store (a NUL character in text, an out-of-range
        # number): the request's fault, not an outage.
        raise InvalidInput(f"A value cannot be stored: {_reason(error)}") from error
    except (exc.SQLAlchemyError, OSError) as error:
        # Connection loss, a locked SQLite file, a missing schema: the ledger cannot serve.
        raise ServiceUnavailable(f"The database is unavailable: {_reason(error)}") from error


def _reason(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _sqlite_point_reader(url: URL) -> sa.Engine:
    """A synchronous engine for small indexed reads on the event loop itself.

    Through aiosqlite one SELECT costs about eight thread hand-offs (~1 ms here); the same read
    on a plain sqlite3 connection takes microseconds. In WAL mode a reader never waits for the
    writer, so running it inline does not stall the loop; a short busy timeout bounds the rare
    wait on a checkpoint, after which the caller takes the regular path.
    """
    engine = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        poolclass=sa.pool.StaticPool,
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # autocommit: each SELECT is its own snapshot
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout=50")
            cursor.execute("PRAGMA query_only=ON")
        finally:
            cursor.close()

    return engine


# Called inside the transaction that dispatched steps, with that transaction's connection: a
# queue living in the same database (Procrastinate) defers its jobs atomically with the ledger.
DispatchHook = Callable[[AsyncConnection, Sequence[StepRun]], Awaitable[None]]


class Database:
    """One engine plus the write discipline of its dialect: the primitives of the ledger."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_dispatch: DispatchHook | None = None,
        pool: PoolSizing | None = None,
    ) -> None:
        self.engine = engine
        self._on_dispatch = on_dispatch
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._point_reader = _sqlite_point_reader(engine.url) if self.is_sqlite else None
        self._point_conn: sa.Connection | None = None
        self._autocommit: AsyncEngine | None = None
        self._plain_reader: PostgresPointReader | None = None
        self._plain_sql: dict[sa.Select[Any], str] = {}
        if self.is_sqlite:
            self._writer = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            self._reader = engine
        else:
            self._writer = engine
            # One snapshot for all statements of a read (an execution and its steps agree);
            # read-only REPEATABLE READ transactions never fail with serialization errors.
            self._reader = engine.execution_options(isolation_level="REPEATABLE READ")
            # One statement needs no transaction: autocommit saves the BEGIN and ROLLBACK
            # round trips on the poll path.
            self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
            sizing = pool or PoolSizing()
            self._plain_reader = PostgresPointReader(
                engine.url.set(drivername="postgresql").render_as_string(hide_password=False),
                max_connections=max(1, sizing.size // 2),
                recycle_seconds=sizing.recycle_seconds,
            )
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed when the block exits without an exception."""
        lock = self._write_lock if self._write_lock is not None else contextlib.nullcontext()
        async with lock:
            with translate_errors():
                async with self._writer.begin() as conn:
                    yield conn

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction; never waits for the write lock."""
        with translate_errors():
            async with self._reader.connect() as conn:
                yield conn

    async def fetch(
        self, statement: sa.Executable, params: dict[str, Any] | None = None
    ) -> list[sa.Row[Any]]:
        """The rows of one statement, in a read transaction of its own."""
        async with self.read() as conn:
            return list(await conn.execute(statement, params))

    async def fetch_one(
        self, statement: sa.Executable, params: dict[str, Any] | None = None
    ) -> sa.Row[Any] | None:
        """The first row of one statement, in a read transaction of its own; None: none."""
        rows = await self.fetch(statement, params)
        return rows[0] if rows else None

    async def dispatched(self, conn: AsyncConnection, snapshot: ExecutionSnapshot) -> None:
        """Hand the steps a write transaction left dispatched to the hook, in that transaction.

        A linear pipeline has at most one dispatched step, and only the transaction that
        dispatched it (create, completion of its upstream step, a retry) leaves it so.
        """
        if self._on_dispatch is None:
            return
        steps = [s for s in snapshot.steps if s.status is StepStatus.DISPATCHED]
        if steps:
            await self._on_dispatch(conn, steps)

    async def point_read(
        self, statement: sa.Select[Any], params: dict[str, Any] | None = None
    ) -> list[sa.Row[Any]]:
        """The rows of one small, indexed query (a primary-key read, the steps of one
        execution): inline on SQLite (see ``_sqlite_point_reader``), one autocommit statement
        on PostgreSQL (no BEGIN/ROLLBACK round trips). Pass a prebuilt statement with bind
        parameters: building one costs more than the read itself."""
        if self._point_reader is not None:
            try:
                if self._point_conn is None:
                    self._point_conn = self._point_reader.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                return list(self._point_conn.execute(statement, params))
            except exc.DBAPIError:
                # Busy past the short timeout, or a broken connection: drop it and take the
                # regular path this time.
                self._close_point_conn()
        if self._autocommit is None:
            async with self.read() as conn:
                return list(await conn.execute(statement, params))
        with translate_errors():
            try:
                return await self._autocommit_read(self._autocommit, statement, params)
            except exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            # The server dropped the pooled connection (a restart): SQLAlchemy has invalidated
            # the pool, and one autocommit statement is safe to repeat on a fresh connection.
            return await self._autocommit_read(self._autocommit, statement, params)

    async def point_read_plain(
        self, statement: sa.Select[Any], params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """``point_read`` for columns SQLAlchemy does not convert (text, integers), rows as
        tuples: on PostgreSQL straight on the driver, without SQLAlchemy (``pg_point_reads``)."""
        if self._plain_reader is None:
            return [tuple(row) for row in await self.point_read(statement, params)]
        sql = self._plain_sql.get(statement)
        if sql is None:
            sql = self._plain_sql[statement] = str(statement.compile(dialect=self.engine.dialect))
        return await self._plain_reader.fetch(sql, params)

    async def autocommit(
        self, statement: sa.Executable, params: dict[str, Any]
    ) -> list[sa.Row[Any]]:
        """One statement in autocommit on PostgreSQL (one round trip, no BEGIN/COMMIT), rows
        returned; never repeated, since it may write. SQLite has no use for it."""
        if self._autocommit is None:
            raise RuntimeError("autocommit statements are for PostgreSQL")
        with translate_errors():
            async with self._autocommit.connect() as conn:
                return list(await conn.execute(statement, params))

    async def ping(self) -> None:
        """Raise ``ServiceUnavailable`` when the database cannot be reached."""
        async with self.read() as conn:
            await conn.execute(sa.select(1))

    async def write_one(
        self, statement: sa.Executable, params: dict[str, Any] | None = None
    ) -> None:
        """One self-contained write statement (bookkeeping such as a last-used time): a single
        autocommit round trip on PostgreSQL, the write transaction (and its lock) on SQLite."""
        if self._autocommit is None:
            async with self.write() as conn:
                await conn.execute(statement, params)
            return
        with translate_errors():
            async with self._autocommit.connect() as conn:
                await conn.execute(statement, params)

    @staticmethod
    async def _autocommit_read(
        engine: AsyncEngine, statement: sa.Select[Any], params: dict[str, Any] | None
    ) -> list[sa.Row[Any]]:
        async with engine.connect() as conn:
            return list(await conn.execute(statement, params))

    def _close_point_conn(self) -> None:
        conn, self._point_conn = self._point_conn, None
        if conn is not None:
            with contextlib.suppress(exc.SQLAlchemyError):
                conn.close()

    async def dispose(self) -> None:
        with translate_errors():
            self._close_point_conn()
            if self._point_reader is not None:
                self._point_reader.dispose()
            if self._plain_reader is not None:
                await self._plain_reader.close()
            await self.engine.dispose()


def to_db(value: datetime) -> datetime:
    """A datetime as the ledger stores it: in UTC (SQLite keeps the digits, not the zone)."""
    return utc(value).astimezone(UTC)


def from_db(value: datetime) -> datetime:
    """A stored datetime back as an aware UTC datetime."""
    return utc(value).astimezone(UTC)


def from_db_opt(value: datetime | None) -> datetime | None:
    return None if value is None else from_db(value)
