"""PostgreSQL pool settings: parsed from the environment and applied to the engine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pagemill.adapters.sql import PoolSizing
from pagemill.adapters.sql.database import create_engine
from pagemill.bootstrap import ledger_pool
from pagemill.settings import Settings

pytest.importorskip("psycopg")  # the PostgreSQL driver is the ``postgres`` extra


def test_pool_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGEMILL_DATABASE_POOL_SIZE", "7")
    monkeypatch.setenv("PAGEMILL_DATABASE_MAX_OVERFLOW", "3")
    monkeypatch.setenv("PAGEMILL_DATABASE_POOL_RECYCLE_SECONDS", "60")

    assert ledger_pool(Settings()) == PoolSizing(size=7, max_overflow=3, recycle_seconds=60)


def test_the_default_pool_is_above_an_api_process_concurrency() -> None:
    assert ledger_pool(Settings()) == PoolSizing(size=20, max_overflow=20, recycle_seconds=1800)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAGEMILL_DATABASE_POOL_SIZE", "0"),
        ("PAGEMILL_DATABASE_MAX_OVERFLOW", "-1"),
        ("PAGEMILL_DATABASE_POOL_RECYCLE_SECONDS", "0"),
        ("PAGEMILL_DATABASE_POOL_SIZE", "many"),
    ],
)
def test_bad_pool_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("PAGEMILL_").lower()):
        Settings()


def test_the_engine_gets_the_sizing_and_no_ping_per_checkout() -> None:
    engine = create_engine(
        "postgresql://nobody@127.0.0.1:1/none",
        PoolSizing(size=7, max_overflow=3, recycle_seconds=60),
    )
    pool = engine.sync_engine.pool

    assert pool.size() == 7  # type: ignore[attr-defined]
    assert pool._max_overflow == 3  # type: ignore[attr-defined]
    assert pool._recycle == 60
    assert pool._pre_ping is False  # a round trip per checkout: replaced by reconnect-on-error


def test_a_sizing_that_cannot_work_is_refused() -> None:
    with pytest.raises(ValueError, match="pool size"):
        PoolSizing(size=0)
