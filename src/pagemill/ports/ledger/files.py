"""The ledger's file area: uploaded files (``datalab://file-{id}``). Their content and state
change only through the uploads area (conditional updates)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pagemill.domain.files import StoredFile


class FileLedger(ABC):
    @abstractmethod
    async def create(
        self, team_id: str, original_filename: str, content_type: str, blob_key: str, now: datetime
    ) -> StoredFile:
        """Insert a ``pending`` file; its ``file_id`` is assigned by the ledger."""

    @abstractmethod
    async def get(self, file_id: int, team_id: str | None) -> StoredFile | None:
        """``team_id=None`` only for a request authenticated by a signed URL."""

    @abstractmethod
    async def page(self, team_id: str, *, limit: int, offset: int) -> tuple[list[StoredFile], int]:
        """Newest first."""

    @abstractmethod
    async def delete(self, file_id: int, team_id: str) -> StoredFile | None:
        """Remove the row and return it (the caller deletes the blob); None when not found."""
