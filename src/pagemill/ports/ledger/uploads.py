"""The ledger's uploads area: a file's content, replaced only while the file is not confirmed.

A file's bytes arrive through its signed upload URL while the client may confirm it at any
moment. Both sides are conditional updates of the file's row: an upload writes its bytes under
a new blob key and points the row at them only if the file is not confirmed, and confirming
freezes whatever content the row points at. So bytes can never replace confirmed content, and
the row always names content that was completely written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from pagemill.domain.files import StoredFile


@dataclass(frozen=True, slots=True)
class ReplacedContent:
    file: StoredFile  # the file as it is now
    previous_blob_key: str  # what it pointed at before: the caller deletes that blob ...
    previous_size: int | None  # ... and uncounts these bytes (None: it had no content)


class UploadLedger(ABC):
    @abstractmethod
    async def replace_pending(
        self, file_id: int, blob_key: str, file_size: int, sha256: str
    ) -> ReplacedContent | None:
        """Point a file that is not confirmed (pending, or failed) at the content stored under
        ``blob_key``, and make it pending; atomically. None when the file does not exist or is
        confirmed already (the caller deletes ``blob_key``)."""

    @abstractmethod
    async def fail_pending(self, file_id: int) -> ReplacedContent | None:
        """Mark a file that is not confirmed as failed (its content refused), with no content;
        None when it does not exist or is confirmed already, which then stays as it is."""

    @abstractmethod
    async def confirm(self, file_id: int, team_id: str) -> StoredFile | None:
        """Make a pending file that has content ``completed``, atomically; from then on its
        content never changes. A file confirmed already is returned as it is; None when the
        file is not the team's. A file without content (or failed) is returned unchanged:
        the caller tells it by its status."""
