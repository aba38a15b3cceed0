"""Time, injected so tests can control it. Every datetime pagemill handles is aware (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """Make a datetime read back from a store aware again (SQLite forgets the zone)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
