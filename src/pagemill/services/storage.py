"""The per-team storage quota: bytes of uploads, run inputs, results and checkpoints.

Every byte a team makes the server keep is counted in the ledger (``StorageLedger``), whether
or not a quota is set, so that setting one later starts from the truth. With a quota, an upload
streams under the room the team has left (it is cut off, and nothing kept, once it would not
fit) and is counted by one conditional update, so that concurrent uploads cannot both squeeze
in; a result is counted after the fact and never fails its step, so a team may end a little over
its quota, and then stores nothing new until it deletes files.

The count is of logical bytes: a run of an uploaded file counts its input again, although on a
local blob store the copy shares the file's disk blocks until the file is deleted.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from pagemill.domain.errors import PayloadTooLarge, StorageQuotaExceeded
from pagemill.ports.blobs import BlobInfo, BlobStore
from pagemill.ports.ledger.storage import StorageLedger

log = logging.getLogger("pagemill.storage")


class StorageQuota:
    def __init__(self, storage: StorageLedger, quota_bytes: int | None) -> None:
        """``quota_bytes`` None (or 0): no quota, the bytes are still counted."""
        self._storage = storage
        self.quota = quota_bytes or None

    async def room(self, team_id: str, cap: int) -> int:
        """How many bytes one more upload of the team may have: ``cap`` or less.
        ``StorageQuotaExceeded`` when the team has no room at all."""
        if self.quota is None:
            return cap
        used = await self._storage.used(team_id)
        if used >= self.quota:
            raise self._exceeded(used, None)
        return min(cap, self.quota - used)

    async def write(
        self,
        blobs: BlobStore,
        key: str,
        team_id: str,
        chunks: AsyncIterator[bytes],
        cap: int,
    ) -> BlobInfo:
        """Stream an upload of the team into ``key`` and count it. ``PayloadTooLarge`` past
        ``cap``, ``StorageQuotaExceeded`` past the team's room; nothing is kept either way."""
        room = await self.room(team_id, cap)
        try:
            info = await blobs.write_stream(key, chunks, room)
        except PayloadTooLarge:
            if room < cap:
                raise self._exceeded(None, None) from None
            raise
        try:
            await self.charge(team_id, info.size)
        except BaseException:
            await blobs.delete(key)
            raise
        return info

    async def charge(self, team_id: str, size: int) -> None:
        """Count ``size`` more bytes, or ``StorageQuotaExceeded`` (nothing counted)."""
        if not await self._storage.reserve(team_id, size, self.quota):
            raise self._exceeded(await self._storage.used(team_id), size)

    async def record(self, team_id: str, size: int) -> None:
        """Count bytes already written that must be kept (a step's result): never refused,
        and a failure to count them is logged, not raised."""
        try:
            await self._storage.reserve(team_id, size, None)
        except Exception:
            log.warning("could not count %d stored bytes of team %s", size, team_id, exc_info=True)

    async def release(self, team_id: str, size: int) -> None:
        if size > 0:
            await self._storage.release(team_id, size)

    async def usage(self, team_id: str) -> int:
        return await self._storage.used(team_id)

    def _exceeded(self, used: int | None, size: int | None) -> StorageQuotaExceeded:
        stored = f"stores {used:,} bytes of" if used is not None else "has filled"
        needs = f"; this needs {size:,} more" if size is not None else ""
        return StorageQuotaExceeded(
            f"Your team {stored} its storage quota of {self.quota:,} bytes{needs}. Delete "
            "files it no longer needs, or ask the operator to raise "
            "PAGEMILL_TEAM_STORAGE_QUOTA_BYTES."
        )
