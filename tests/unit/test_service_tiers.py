"""The suite's service tiers: local discovery and the end-of-run summary of what was skipped."""

from __future__ import annotations

from tests.support.services import TIERS, discover_local_services, skipped_tiers


def test_a_variable_already_set_even_empty_is_left_alone() -> None:
    environ = {"PAGEMILL_TEST_POSTGRES_URL": "", "PAGEMILL_TEST_REDIS_URL": "redis://elsewhere/1"}

    assert discover_local_services(environ) == []
    assert environ == {
        "PAGEMILL_TEST_POSTGRES_URL": "",
        "PAGEMILL_TEST_REDIS_URL": "redis://elsewhere/1",
    }


def test_skips_are_counted_per_tier_with_the_line_that_enables_it() -> None:
    reasons = [
        "Skipped: PostgreSQL: set PAGEMILL_TEST_POSTGRES_URL to run this test",
        "Skipped: PostgreSQL: set PAGEMILL_TEST_POSTGRES_URL to run this test",
        "Skipped: PostgreSQL restart: set PAGEMILL_TEST_ALLOW_SERVICE_RESTARTS=1 to stop/start it",
        "Skipped: SQLite serializes whole write transactions: there are no row locks",
        "Skipped: Redis: redis-server is not installed (apt-get install redis-server)",
    ]

    tiers = {tier.name: (count, reason) for tier, count, reason in skipped_tiers(reasons)}

    assert tiers == {
        "PostgreSQL": (2, "set PAGEMILL_TEST_POSTGRES_URL to run this test"),
        "Redis": (1, "redis-server is not installed (apt-get install redis-server)"),
        "PostgreSQL restart": (1, "set PAGEMILL_TEST_ALLOW_SERVICE_RESTARTS=1 to stop/start it"),
    }
    assert all("make test" in tier.enable or "apt-get" in tier.enable for tier in TIERS)
