"""Uploaded files: a team's documents, stored once and run by reference (``datalab://file-N``).

A file is created ``pending`` with a random blob key (its name is a display name only, never a
path), receives its bytes through a signed upload URL, and becomes ``completed`` when the
client confirms the upload. Only a completed file can be run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pagemill.domain.errors import InvalidInput

REFERENCE_PREFIX = "datalab://file-"
MAX_FILENAME = 255
MAX_CONTENT_TYPE = 255

_REFERENCE = re.compile(r"datalab://file-(\d{1,16})")  # up to 2**53: ``ids.new_public_number``
# type "/" subtype, optionally followed by parameters (RFC 9110 tokens).
_MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;[ -~]*)?")


class FileStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: int
    team_id: str
    original_filename: str
    content_type: str
    blob_key: str
    upload_status: FileStatus
    created: datetime
    file_size: int | None = None
    sha256: str | None = None

    @property
    def reference(self) -> str:
        return reference(self.file_id)


def reference(file_id: int) -> str:
    return f"{REFERENCE_PREFIX}{file_id}"


def is_reference(url: str) -> bool:
    """True for anything in the ``datalab://`` scheme (a malformed one is refused by
    ``parse_reference``, never fetched over HTTP)."""
    return url.strip().lower().startswith("datalab://")


def parse_reference(url: str) -> int:
    """The file id of ``datalab://file-{id}``; ``InvalidInput`` for any other form."""
    match = _REFERENCE.fullmatch(url.strip())
    if match is None:
        raise InvalidInput(
            f"file_url {url[:100]!r} is not a file reference; expected datalab://file-<id> "
            "as returned by POST /api/v1/files/upload."
        )
    return int(match.group(1))


def display_name(name: str) -> str:
    """A filename to show, never a path: no directories, no control characters, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    if cleaned in (".", ".."):
        cleaned = ""
    return cleaned[:MAX_FILENAME] or "document"


def media_type(value: str) -> str:
    """A ``type/subtype`` content type as declared by the client; ``InvalidInput`` otherwise."""
    text = value.strip()
    if len(text) > MAX_CONTENT_TYPE or _MEDIA_TYPE.fullmatch(text) is None:
        raise InvalidInput(
            f"content_type {value[:100]!r} is not a media type such as 'application/pdf'."
        )
    return text
