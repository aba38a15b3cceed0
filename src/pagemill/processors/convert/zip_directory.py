"""Reading a ZIP's central directory without ``zipfile``: bounded before anything is parsed.

``zipfile.ZipFile`` builds an object for every record of the central directory, however many
the archive holds: an XLSX of 47 MB can hold a million of them and cost 350 MB and 17 s just to
open. Here the end-of-central-directory record (the last bytes of the file) is read first; an
archive declaring more members, or a larger directory, than allowed is refused without reading
further. Names are then read record by record, never more records than the archive declared.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_MEMBERS = 10_000
MAX_DIRECTORY_BYTES = 8 * 1024 * 1024

_END = b"PK\x05\x06"
_END_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_END = b"PK\x06\x06"
_RECORD = b"PK\x01\x02"
_RECORD_SIZE = 46
_LOCAL = b"PK\x03\x04"
_LOCAL_SIZE = 30
_TAIL = _END_SIZE + 65535 + 20  # the end record, its longest comment and the zip64 locator


class ZipDirectoryError(ValueError):
    """Not a readable ZIP: no end record, or a directory that is cut off."""


class TooManyMembers(ZipDirectoryError):
    """The archive declares more members (or a larger directory) than allowed."""


@dataclass(frozen=True, slots=True)
class ZipDirectory:
    entries: int
    size: int
    offset: int


@dataclass(frozen=True, slots=True)
class ZipMember:
    name: str
    method: int  # 0 stored, 8 deflated
    compressed_size: int
    local_offset: int


def read_directory(
    path: Path, *, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_DIRECTORY_BYTES
) -> ZipDirectory:
    """The central directory as the end record declares it; ``TooManyMembers`` over the limits
    (nothing else of the archive is read), ``ZipDirectoryError`` when there is no end record."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        start = max(0, size - _TAIL)
        handle.seek(start)
        tail = handle.read()
        end = tail.rfind(_END)
        if end < 0 or len(tail) - end < _END_SIZE:
            raise ZipDirectoryError("no end-of-central-directory record")
        entries, directory_size, offset = struct.unpack("<10xHLL2x", tail[end : end + _END_SIZE])
        locator = end - 20
        zip64 = entries == 0xFFFF or directory_size == 0xFFFFFFFF or offset == 0xFFFFFFFF
        if zip64 and locator >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR:
            (record_offset,) = struct.unpack("<8xQ4x", tail[locator : locator + 20])
            handle.seek(record_offset)
            record = handle.read(56)
            if len(record) == 56 and record.startswith(_ZIP64_END):
                entries, directory_size, offset = struct.unpack("<32xQQQ", record)
    if entries > max_members:
        raise TooManyMembers(f"{entries:,} zip members; at most {max_members:,} are allowed")
    if directory_size > max_bytes:
        raise TooManyMembers(
            f"a zip directory of {directory_size:,} bytes; at most {max_bytes:,} are allowed"
        )
    if offset + directory_size > size:
        raise ZipDirectoryError("the central directory lies beyond the end of the file")
    return ZipDirectory(entries, directory_size, offset)


def members(path: Path, directory: ZipDirectory) -> Iterator[ZipMember]:
    """The members the directory lists, at most ``directory.entries`` of them, read one record
    at a time (nothing past the directory's declared size)."""
    with path.open("rb") as handle:
        handle.seek(directory.offset)
        remaining = directory.size
        for _ in range(directory.entries):
            header = handle.read(min(_RECORD_SIZE, remaining))
            if len(header) < _RECORD_SIZE or not header.startswith(_RECORD):
                raise ZipDirectoryError("the central directory is cut off or corrupt")
            flags, method, compressed, name_length, extra_length, comment_length, local = (
                struct.unpack("<8xHH8xL4xHHH8xL", header)
            )
            rest = name_length + extra_length + comment_length
            remaining -= _RECORD_SIZE + rest
            if remaining < 0:
                raise ZipDirectoryError("the central directory is cut off or corrupt")
            raw_name = handle.read(name_length)
            handle.seek(extra_length + comment_length, 1)
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
            yield ZipMember(name, method, compressed, local)


def read_small_member(path: Path, member: ZipMember, limit: int) -> bytes:
    """The first ``limit`` bytes of a stored or deflated member (EPUB's ``mimetype``)."""
    with path.open("rb") as handle:
        handle.seek(member.local_offset)
        header = handle.read(_LOCAL_SIZE)
        if len(header) < _LOCAL_SIZE or not header.startswith(_LOCAL):
            raise ZipDirectoryError("a member's local header is missing")
        name_length, extra_length = struct.unpack("<26xHH", header)
        handle.seek(member.local_offset + _LOCAL_SIZE + name_length + extra_length)
        raw = handle.read(min(member.compressed_size, max(limit, 1024)))
    if member.method == 0:
        return raw[:limit]
    if member.method == 8:
        try:
            return zlib.decompressobj(-15).decompress(raw, limit)
        except zlib.error as error:
            raise ZipDirectoryError(f"a member is not valid deflate data: {error}") from error
    raise ZipDirectoryError(f"a member uses compression method {member.method}")
