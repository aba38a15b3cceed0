"""PostgreSQL for tests: the server comes from the environment, each test gets a fresh database.

Set ``PAGEMILL_TEST_POSTGRES_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/test``) to a
database of a user allowed to create databases. Without it, or when the server cannot be reached,
PostgreSQL tests skip with the reason, except in CI (``CI=true``) where they fail: there a missing
service is a broken pipeline, not an optional extra.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import NoReturn

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

ENV_VAR = "PAGEMILL_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    """The URL of the database tests connect to in order to create theirs, if configured."""
    return os.environ.get(ENV_VAR) or None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require_service(name: str, reason: str) -> NoReturn:
    """Skip locally, fail in CI: a service the test needs is missing."""
    message = f"{name}: {reason}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def _admin_conninfo() -> str:
    url = postgres_admin_url()
    if url is None:
        require_service("PostgreSQL", f"set {ENV_VAR} to run this test")
    # psycopg wants a libpq URL: no SQLAlchemy driver suffix.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _database_url(admin: str, name: str) -> str:
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def _new_name() -> str:
    return f"pagemill_t_{secrets.token_hex(6)}"


def _create(name: str) -> sql.Composed:
    return sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))


def _drop(name: str) -> sql.Composed:
    # FORCE: a test that failed half-way may have left connections open.
    return sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))


def _unreachable(error: Exception) -> NoReturn:
    require_service("PostgreSQL", f"cannot connect with {ENV_VAR}: {error}".strip())


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database ``pagemill_t_<random>``; yields its URL and drops it afterwards."""
    admin, name = _admin_conninfo(), _new_name()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(_create(name))
    except psycopg.OperationalError as error:
        _unreachable(error)
    try:
        yield _database_url(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(_drop(name))


@contextlib.asynccontextmanager
async def postgres_database_async() -> AsyncIterator[str]:
    """``postgres_database`` for async fixtures."""
    admin, name = _admin_conninfo(), _new_name()
    try:
        conn = await psycopg.AsyncConnection.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        _unreachable(error)
    async with conn:
        await conn.execute(_create(name))
    try:
        yield _database_url(admin, name)
    finally:
        conn = await psycopg.AsyncConnection.connect(admin, autocommit=True, connect_timeout=5)
        async with conn:
            await conn.execute(_drop(name))
