"""Shared guards and helpers of the DOCX, PPTX, XLSX, HTML and EPUB parsers.

Every zip-based document passes ``check_zip`` before a library opens it:

* the end-of-central-directory record is read first, so an archive claiming millions of members
  is refused before ``zipfile`` builds an object per member;
* member count, per-member and total uncompressed size, and compression ratio are capped. The
  declared sizes can be trusted because ``zipfile`` stops at a member's declared size and then
  fails its CRC check, and the libraries we call (python-docx, python-pptx, openpyxl) all read
  through ``zipfile``;
* every XML member is pre-scanned: a DTD with an internal subset or any ``<!ENTITY`` is refused
  (billion laughs, external entities). python-docx and python-pptx build lxml parsers with
  ``resolve_entities=False`` and openpyxl uses defusedxml when installed, but the scan does not
  depend on their settings or versions. OOXML parts never carry a DOCTYPE, so for them any
  DOCTYPE is refused; EPUB's XHTML legitimately starts with ``<!DOCTYPE html>``.

``parse_errors`` is the boundary of every parser: whatever a library raises becomes a
``ProcessingError`` (never retryable: the same bytes fail the same way). ``BlockSink`` numbers
blocks per page and collects pictures for the formats that write blocks directly.
"""

from __future__ import annotations

import base64
import codecs
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pagemill.domain.errors import InvalidInput, ProcessingError
from pagemill.domain.page_ranges import select_pages
from pagemill.processors.convert.zip_directory import (
    TooManyMembers,
    ZipDirectoryError,
    read_directory,
)
from pagemill.processors.document import BBox, Block, Document, TableRows, block_id_for

MIB = 1024 * 1024
NO_BOX: BBox = (0.0, 0.0, 0.0, 0.0)  # formats without geometry (a flowing text, not a page)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")  # the OLE stream of encrypted OOXML
OLE_SCAN_BYTES = 64 * MIB
XML_SCAN_CHUNK = 64 * 1024
MAX_PROLOG_CHARS = 1 * MIB  # declaration, comments and DOCTYPE before the root element
XML_DECLARED_ENCODING = re.compile(
    rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']"""
)
# A DOCTYPE up to its first unquoted "[" (an internal subset) or ">" (its end): quoted public
# and system ids may contain either character.
DOCTYPE = re.compile(r"""<!DOCTYPE(?:[^\[>"']|"[^"]*"|'[^']*')*([\[>])""", re.IGNORECASE)
MARKUP_PROBE = b"<!ENTITYDOCTYPEabcxyz[]>\"'?-+ =/\t\r\n"


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_members: int = 10_000
    max_total_bytes: int = 512 * MIB  # uncompressed, all members
    max_member_bytes: int = 256 * MIB  # uncompressed, one member
    max_ratio: float = 200.0  # uncompressed / compressed ...
    ratio_min_bytes: int = 1 * MIB  # ... checked on members at least this large
    max_directory_bytes: int = 8 * MIB  # the central directory itself


DEFAULT_LIMITS = ZipLimits()


def check_zip(
    path: Path, label: str, *, allow_doctype: bool = False, limits: ZipLimits | None = None
) -> None:
    """Refuse ``path`` (a ``label`` document, e.g. "DOCX") unless it is a zip safe to open."""
    limits = limits or DEFAULT_LIMITS
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE_MAGIC):
        raise ProcessingError(_ole_message(path, label))
    if not head.startswith(b"PK"):
        raise ProcessingError(
            f"The {label} file is not a zip package; it is corrupt or mislabelled."
        )
    _check_directory(path, label, limits)
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(archive, label, limits)
            for info in archive.infolist():
                if not info.is_dir():
                    _scan_xml_member(archive, info, label, allow_doctype=allow_doctype)
    except zipfile.BadZipFile as error:
        raise ProcessingError(f"The {label} file is a corrupt zip package ({error}).") from error


def _ole_message(path: Path, label: str) -> str:
    with path.open("rb") as handle:
        data = handle.read(OLE_SCAN_BYTES)
    if ENCRYPTED_PACKAGE in data:
        return (
            f"The {label} file is password-protected (encrypted); "
            "remove the password and upload it again."
        )
    return f"The file is a legacy Office document (.doc/.xls/.ppt), not {label}."


def _check_directory(path: Path, label: str, limits: ZipLimits) -> None:
    """Read member count and directory size from the end record, before ``zipfile`` does."""
    try:
        read_directory(path, max_members=limits.max_members, max_bytes=limits.max_directory_bytes)
    except TooManyMembers as error:
        raise ProcessingError(
            f"The {label} file is refused: its zip archive has {error}."
        ) from error
    except ZipDirectoryError as error:
        raise ProcessingError(f"The {label} file is a truncated or corrupt zip package.") from error


def _check_members(archive: zipfile.ZipFile, label: str, limits: ZipLimits) -> None:
    infos = archive.infolist()
    if len(infos) > limits.max_members:
        raise ProcessingError(
            f"The {label} file has {len(infos)} zip members; "
            f"at most {limits.max_members} are allowed."
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ProcessingError(f"The {label} file contains encrypted zip members.")
        if info.file_size > limits.max_member_bytes:
            raise ProcessingError(
                f"The {label} file's part {info.filename!r} unpacks to {info.file_size} bytes; "
                f"the limit is {limits.max_member_bytes}."
            )
        if info.file_size >= limits.ratio_min_bytes and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise ProcessingError(
                f"The {label} file's part {info.filename!r} is compressed more than "
                f"{limits.max_ratio:.0f}:1, which only a zip bomb does; refusing it."
            )
        total += info.file_size
    if total > limits.max_total_bytes:
        raise ProcessingError(
            f"The {label} file unpacks to {total} bytes; the limit is {limits.max_total_bytes}."
        )


def _scan_xml_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, *, allow_doctype: bool
) -> None:
    """Refuse entity declarations in the prolog of an XML member (binary members are skipped).

    Only the prolog can hold a DTD, so reading stops at the root element's start tag.
    """
    with archive.open(info) as stream:
        first = stream.read(XML_SCAN_CHUNK)
        encoding = _xml_encoding(first)
        if encoding is None:
            return
        declared = XML_DECLARED_ENCODING.match(first) if encoding == "utf-8" else None
        if declared is not None and not _ascii_compatible(declared.group(1).decode("ascii")):
            # UTF-7 or EBCDIC would hide "<!ENTITY" from a scan of ASCII bytes.
            raise ProcessingError(
                f"The {label} file's part {info.filename!r} declares an unsupported encoding."
            )
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        text = decoder.decode(first)
        scanned = 0
        while True:
            verdict, used = _prolog_verdict(text, allow_doctype=allow_doctype)
            if verdict == "safe":
                return
            if verdict == "more":
                # Keep only the unfinished construct, so each character is scanned about once.
                scanned += used
                text = text[used:]
                if scanned + len(text) > MAX_PROLOG_CHARS:
                    verdict = "an oversized prolog"
            if verdict != "more":
                raise ProcessingError(
                    f"The {label} file's part {info.filename!r} has {verdict} before its root "
                    "element, which is refused (entity expansion and external entities are "
                    "attack vectors)."
                )
            chunk = stream.read(XML_SCAN_CHUNK)
            if not chunk:
                return  # a prolog with no root element: the XML parser will reject it
            text += decoder.decode(chunk)


def _xml_encoding(first: bytes) -> str | None:
    """The encoding to scan a member in, when it starts like XML; ``None`` for binary members."""
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if first.startswith(bom):
            return name
    sample = first[:512]
    if b"\x00" in sample[:8]:
        # No BOM but NULs: UTF-32 or UTF-16, which libxml2 also detects from "<" or "<?".
        for name in ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be"):
            try:
                decoded = sample[: len(sample) // 4 * 4].decode(name)
            except UnicodeDecodeError:
                continue
            if decoded.lstrip(" \t\r\n").startswith("<"):
                return name
        return None
    return "utf-8" if sample.lstrip(b" \t\r\n").startswith(b"<") else None


def _ascii_compatible(encoding: str) -> bool:
    try:
        return MARKUP_PROBE.decode(encoding) == MARKUP_PROBE.decode("ascii")
    except (LookupError, UnicodeDecodeError):
        return False


def _prolog_verdict(text: str, *, allow_doctype: bool) -> tuple[str, int]:
    """(``"safe"``, ``"more"`` or a refused construct, where the unfinished part starts)."""
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n\ufeff":
            position += 1
        rest = text[position : position + 10]
        if len(rest) < 10:
            return "more", position
        if rest.startswith("<?"):
            end = text.find("?>", position + 2)
            end = end + 2 if end >= 0 else -1
        elif rest.startswith("<!--"):
            end = text.find("-->", position + 4)
            end = end + 3 if end >= 0 else -1
        elif rest[:9].upper() == "<!DOCTYPE":
            if not allow_doctype:
                return "a DOCTYPE", position
            match = DOCTYPE.match(text, position)
            if match is not None and match.group(1) == "[":
                return "an internal DTD subset", position
            end = match.end() if match is not None else -1
        elif rest.startswith("<!"):
            return "an <!ENTITY> or other DTD declaration", position
        elif rest[0] == "<" and (rest[1].isalpha() or rest[1] in "_:"):
            return "safe", position  # the root element's start tag
        else:
            return "text", position  # nothing else may precede the root
        if end < 0:
            return "more", position
        position = end


@contextmanager
def parse_errors(label: str) -> Iterator[None]:
    """Turn whatever a parser or its library raises into a ``ProcessingError``."""
    try:
        yield
    except ProcessingError:
        raise
    except InvalidInput as error:
        # A page range this document is too short for: the same answer on every attempt.
        raise ProcessingError(error.detail) from error
    except MemoryError as error:
        raise ProcessingError(f"The {label} document is too large to convert.") from error
    except Exception as error:  # the libraries raise many types on damaged input
        raise ProcessingError(
            f"The {label} document could not be read; it is corrupt or incomplete "
            f"({type(error).__name__}: {error})."
        ) from error


class BlockSink:
    """Blocks in reading order, numbered per page, plus the pictures they reference."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.images: dict[str, str] = {}
        self._counts: Counter[int] = Counter()
        self._pictures: Counter[int] = Counter()

    def add(
        self,
        page: int,
        block_type: str,
        text: str,
        *,
        level: int | None = None,
        rows: TableRows | None = None,
        image: str | None = None,
        bbox: BBox = NO_BOX,
        language: str | None = None,
    ) -> None:
        index = self._counts[page]
        self._counts[page] += 1
        self.blocks.append(
            Block(
                block_id=block_id_for(page, block_type, index),
                page=page,
                bbox=bbox,
                type=block_type,
                text=text,
                level=level,
                rows=rows,
                image=image,
                language=language,
            )
        )

    def add_table(self, page: int, rows: list[list[str]], *, bbox: BBox = NO_BOX) -> None:
        """A table block from ragged rows: padded to one width, empty tables dropped."""
        rows = [row for row in rows if any(cell for cell in row)]
        if not rows:
            return
        width = max(len(row) for row in rows)
        cells = tuple(tuple(row) + ("",) * (width - len(row)) for row in rows)
        text = "\n".join(" | ".join(row) for row in cells)
        self.add(page, "table", text, rows=cells, bbox=bbox)

    def add_picture(
        self, page: int, data: bytes, extension: str, alt: str, *, bbox: BBox = NO_BOX
    ) -> None:
        name = f"page_{page}_picture_{self._pictures[page]}.{extension.lower().lstrip('.')}"
        self._pictures[page] += 1
        self.images[name] = base64.b64encode(data).decode("ascii")
        self.add(page, "picture", " ".join(alt.split()), image=name, bbox=bbox)

    def document(self, page_count: int, pages: list[int], metadata: dict[str, object]) -> Document:
        """The document of the selected ``pages`` (blocks and pictures of others dropped).

        A file without pages (a deck with no slides) is one empty page, as ``selected_pages``
        treats it.
        """
        chosen = set(pages)
        blocks = [block for block in self.blocks if block.page in chosen]
        kept = {block.image for block in blocks if block.image}
        images = {name: data for name, data in self.images.items() if name in kept}
        return Document(
            page_count=max(page_count, 1),
            pages=pages,
            blocks=blocks,
            metadata=dict(metadata),
            images=images,
        )


def selected_pages(page_count: int, page_range: str | None, max_pages: int | None) -> list[int]:
    """``select_pages`` for a document that may have no content at all (then page 0 alone)."""
    return select_pages(max(page_count, 1), page_range, max_pages)


def collapse(text: str) -> str:
    """Whitespace runs (line breaks, tabs, non-breaking spaces) → one space, trimmed."""
    return " ".join(text.split())
