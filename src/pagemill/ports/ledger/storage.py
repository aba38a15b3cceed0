"""The ledger's storage area: bytes each team stores, for the storage quota, counted atomically."""

from __future__ import annotations

from abc import ABC, abstractmethod


class StorageLedger(ABC):
    @abstractmethod
    async def reserve(self, team_id: str, size: int, quota: int | None) -> bool:
        """Add ``size`` bytes to the team's count unless that would pass ``quota`` (None: no
        quota: one statement, always counted), atomically. False when refused (nothing
        counted)."""

    @abstractmethod
    async def release(self, team_id: str, size: int) -> None:
        """Take ``size`` bytes off the team's count (never below zero)."""

    @abstractmethod
    async def used(self, team_id: str) -> int: ...
