"""Files: upload once through a signed URL, confirm, then run by ``datalab://file-{id}``.

The hosted API hands out cloud presigned URLs; pagemill signs URLs to its own
``/api/v1/files/{file_id}/content`` with an expiring HMAC (``domain.signing``), so the bytes go
straight to the blob store, streamed under the upload cap, with the signature as the only
credential of that request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pagemill.domain import signing
from pagemill.domain.clock import Clock
from pagemill.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from pagemill.domain.files import (
    FileStatus,
    StoredFile,
    display_name,
    media_type,
    parse_reference,
)
from pagemill.domain.ids import random_base62
from pagemill.ports.blobs import BlobStore
from pagemill.ports.ledger.files import FileLedger
from pagemill.ports.ledger.uploads import ReplacedContent, UploadLedger
from pagemill.services.executions import StoredDocument
from pagemill.services.storage import StorageQuota

log = logging.getLogger("pagemill.files")

UPLOAD_EXPIRES_IN = 3600
DOWNLOAD_EXPIRES_RANGE = (60, 86400)
BAD_SIGNATURE = "The signature of this URL is invalid or has expired; request a new URL."


def new_file_key() -> str:
    """A fresh blob key for a file's content (random: the filename is a display name only)."""
    return f"files/{random_base62(24)}"


def _confirmed_already(file_id: int) -> Conflict:
    return Conflict(f"File {file_id} is already confirmed; upload a new file instead.")


@dataclass(frozen=True, slots=True)
class SignedUrl:
    """The query of a signed ``/api/v1/files/{file_id}/content`` URL."""

    file_id: int
    expires: int  # Unix seconds
    signature: str
    expires_in: int


class FileService:
    def __init__(
        self,
        files: FileLedger,
        uploads: UploadLedger,
        blobs: BlobStore,
        clock: Clock,
        *,
        signing_secret: bytes,
        max_upload_bytes: int,
        quota: StorageQuota,
        public_url: str | None = None,
    ) -> None:
        """``quota`` counts (and limits) the bytes a team stores; ``public_url``: the server's
        external base URL, which signed URLs are built on."""
        if len(signing_secret) < 16:
            raise ValueError("the URL signing secret must be at least 16 bytes")
        self._files = files
        self._uploads = uploads
        self._blobs = blobs
        self._clock = clock
        self._secret = signing_secret
        self.max_upload_bytes = max_upload_bytes
        self.public_url = public_url
        self._quota = quota

    # -- the upload flow ---------------------------------------------------------------------
    async def create(
        self, team_id: str, filename: str, content_type: str
    ) -> tuple[StoredFile, SignedUrl]:
        """A pending file and the signed URL to PUT its bytes to."""
        stored = await self._files.create(
            team_id,
            display_name(filename),
            media_type(content_type),
            new_file_key(),
            self._clock.now(),
        )
        return stored, self._sign("PUT", stored, UPLOAD_EXPIRES_IN)

    async def receive_content(
        self, file_id: int, expires: int, signature: str, chunks: AsyncIterator[bytes]
    ) -> StoredFile:
        """Stream the body of a signed PUT into the file's blob, under the upload cap.

        The bytes go to a new blob key; the file is pointed at them only if it is still not
        confirmed when they are complete (``UploadLedger.replace_pending``), so an upload in flight
        when the file is confirmed can never replace the confirmed content.
        """
        stored = await self._verified("PUT", file_id, expires, signature)
        if stored.upload_status is FileStatus.COMPLETED:
            raise _confirmed_already(file_id)
        team_id = stored.team_id
        key = new_file_key()
        try:
            info = await self._quota.write(self._blobs, key, team_id, chunks, self.max_upload_bytes)
        except PayloadTooLarge:
            await self._forget_content(team_id, await self._uploads.fail_pending(file_id))
            raise
        try:
            replaced = await self._uploads.replace_pending(file_id, key, info.size, info.sha256)
        except BaseException:
            await self._blobs.delete(key)
            await self._quota.release(team_id, info.size)
            raise
        if replaced is None:  # confirmed (or deleted) while the bytes were arriving
            await self._blobs.delete(key)
            await self._quota.release(team_id, info.size)
            current = await self._files.get(file_id, None)
            if current is None:
                raise NotFound(f"File {file_id} not found")
            raise _confirmed_already(file_id)
        await self._forget_content(team_id, replaced)
        return replaced.file

    async def _forget_content(self, team_id: str, replaced: ReplacedContent | None) -> None:
        """Delete the content a file no longer points at, and uncount its bytes."""
        if replaced is None or replaced.previous_blob_key == replaced.file.blob_key:
            return
        await self._blobs.delete(replaced.previous_blob_key)
        await self._quota.release(team_id, replaced.previous_size or 0)

    async def confirm(self, team_id: str, file_id: int) -> StoredFile:
        """Freeze the file's content: from now on an upload to it is refused."""
        confirmed = await self._uploads.confirm(file_id, team_id)
        if confirmed is None:
            raise NotFound(f"File {file_id} not found")
        if confirmed.upload_status is not FileStatus.COMPLETED:
            raise Conflict(
                f"File {file_id} has no content yet: PUT the bytes to its upload_url, then "
                "confirm it."
            )
        return confirmed

    # -- reading and deleting ----------------------------------------------------------------
    async def get(self, team_id: str, file_id: int) -> StoredFile:
        stored = await self._files.get(file_id, team_id)
        if stored is None:
            raise NotFound(f"File {file_id} not found")
        return stored

    async def list_files(
        self, team_id: str, *, limit: int, offset: int
    ) -> tuple[list[StoredFile], int]:
        return await self._files.page(team_id, limit=limit, offset=offset)

    async def delete(self, team_id: str, file_id: int) -> StoredFile:
        """Remove the file and its bytes; executions that ran it keep their own copy."""
        stored = await self._files.delete(file_id, team_id)
        if stored is None:
            raise NotFound(f"File {file_id} not found")
        await self._blobs.delete(stored.blob_key)
        await self._quota.release(team_id, stored.file_size or 0)
        return stored

    async def download_url(
        self, team_id: str, file_id: int, expires_in: int
    ) -> tuple[StoredFile, SignedUrl]:
        low, high = DOWNLOAD_EXPIRES_RANGE
        if not low <= expires_in <= high:
            raise InvalidInput(f"expires_in must be between {low} and {high} seconds.")
        stored = await self.get(team_id, file_id)
        if stored.upload_status is not FileStatus.COMPLETED:
            raise Conflict(
                f"File {file_id} is not uploaded yet (upload_status {stored.upload_status})."
            )
        return stored, self._sign("GET", stored, expires_in)

    async def open_content(
        self, file_id: int, expires: int, signature: str
    ) -> tuple[StoredFile, AsyncIterator[bytes]]:
        """The file and its bytes for a signed GET."""
        stored = await self._verified("GET", file_id, expires, signature)
        if not await self._blobs.exists(stored.blob_key):
            raise NotFound(f"The content of file {file_id} was not found")
        return stored, self._blobs.read_stream(stored.blob_key)

    # -- runs --------------------------------------------------------------------------------
    async def resolve(self, team_id: str, url: str) -> StoredDocument:
        """A run's document from ``datalab://file-{id}``: a copy (a hard link on the file
        system) owned by the execution, so deleting the file later does not break the run."""
        file_id = parse_reference(url)
        stored = await self._files.get(file_id, team_id)
        if stored is None:
            raise NotFound(f"File {url.strip()} not found")
        if stored.upload_status is not FileStatus.COMPLETED or stored.file_size is None:
            raise InvalidInput(
                f"File {url.strip()} is not ready to run (upload_status "
                f"{stored.upload_status}): PUT its content to the upload_url, then confirm it."
            )
        key = f"inputs/{random_base62(24)}"
        # The run's own copy counts against the quota like any run input (see ``storage``).
        await self._quota.charge(team_id, stored.file_size)
        try:
            await self._blobs.copy(stored.blob_key, key)
        except BaseException as exc:
            await self._quota.release(team_id, stored.file_size)
            if isinstance(exc, NotFound):
                raise NotFound(f"The content of file {url.strip()} was not found") from exc
            raise
        return StoredDocument(
            key,
            stored.original_filename,
            stored.content_type,
            stored.file_size,
            stored.sha256 or "",
            file_url=stored.reference,
            charged_to=team_id,
        )

    # -- signatures --------------------------------------------------------------------------
    def _sign(self, method: str, stored: StoredFile, expires_in: int) -> SignedUrl:
        expires = int(self._clock.now().timestamp()) + expires_in
        signature = signing.sign(self._secret, method, stored.file_id, stored.team_id, expires)
        return SignedUrl(stored.file_id, expires, signature, expires_in)

    async def _verified(
        self, method: str, file_id: int, expires: int, signature: str
    ) -> StoredFile:
        """The file a signed URL names; ``Forbidden`` (403) when the signature is forged, for
        another method or file, expired, or names no file (no oracle for file ids)."""
        now = self._clock.now().timestamp()
        if expires < now:  # refused before any read
            raise Forbidden(BAD_SIGNATURE)
        stored = await self._files.get(file_id, None)
        if stored is None or not signing.verify(
            self._secret, method, file_id, stored.team_id, expires, signature, now
        ):
            raise Forbidden(BAD_SIGNATURE)
        return stored
