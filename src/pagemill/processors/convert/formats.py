"""Which parser reads a document: the file's bytes decide, never its name alone.

Each parser is a function ``parse(request) -> Document`` in its own module, imported only when
a document of that kind arrives (so a worker converting PDFs never loads the office stack).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from pagemill.domain.errors import ProcessingError
from pagemill.processors.convert.zip_directory import (
    MAX_MEMBERS,
    TooManyMembers,
    ZipDirectoryError,
    members,
    read_directory,
    read_small_member,
)
from pagemill.processors.document import Document

PDF_MAGIC = b"%PDF-"
MAGIC_WINDOW = 1024  # readers accept a PDF header anywhere in the first kilobyte


@dataclass(frozen=True, slots=True)
class ParseRequest:
    path: Path
    filename: str
    page_range: str | None = None  # 0-indexed pages (sheets for spreadsheets, slides for decks)
    max_pages: int | None = None
    mode: str = "fast"  # fast | balanced | accurate
    include_headers_footers: bool = False
    include_images: bool = False
    keep_spreadsheet_formatting: bool = False  # spreadsheets: values as their number formats show
    # report(pages_done=…, pages_total=…, stage=…): called as pages are done (any process).
    report: Callable[..., None] | None = None
    # PDF only: the pages already read in parallel slices (``pdf.parse.PageReads``).
    prepared: Any = None


Parser = Callable[[ParseRequest], Document]

# format → "module:function". A format whose module is not installed is reported unsupported.
PARSERS: dict[str, str] = {
    "pdf": "pagemill.processors.convert.pdf.parse:parse",
    "image": "pagemill.processors.convert.ocr.images:parse",
    "docx": "pagemill.processors.convert.office.docx:parse",
    "pptx": "pagemill.processors.convert.office.pptx:parse",
    "xlsx": "pagemill.processors.convert.office.xlsx:parse",
    "html": "pagemill.processors.convert.web.html:parse",
    "epub": "pagemill.processors.convert.web.epub:parse",
    # plain text, CSV, Markdown, XML, AsciiDoc, subtitles, JSON, notebooks
    "text": "pagemill.processors.convert.web.text:parse",
    # Legacy Office and OpenDocument: converted to their OOXML twin by LibreOffice.
    **dict.fromkeys(
        ("doc", "xls", "ppt", "odt", "ods", "odp"),
        "pagemill.processors.convert.office.libreoffice:parse",
    ),
}

# The file types converted (by their bytes): text is converted under one of these names, or
# under a name with no extension; see ``foreign_text``.
DOCUMENT_EXTENSIONS = frozenset(
    {".txt", ".text", ".log", ".csv", ".tsv", ".tab", ".md", ".markdown", ".mdown", ".mkd"}
    | {".xml", ".nxml", ".rss", ".atom", ".adoc", ".asciidoc", ".vtt", ".srt"}
    | {".json", ".jsonl", ".ndjson", ".ipynb"}
    # The rest of the text/* types of the standard MIME table: source code, and text formats
    # read as plain text.
    | {".py", ".c", ".h", ".css", ".pl", ".bat", ".ksh"}
    | {".vcf", ".etx", ".rtx", ".sgm", ".sgml", ".n3"}
    | {".html", ".htm", ".xhtml", ".epub", ".pdf"}
    | {".png", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".webp"}
    | {".docx", ".doc", ".xlsx", ".xlsm", ".xltx", ".xls", ".pptx", ".ppt"}
    | {".odt", ".ods", ".odp"}
)

_IMAGE_SIGNATURES: tuple[bytes, ...] = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
)
_ZIP_MARKERS: tuple[tuple[str, str], ...] = (
    ("word/document.xml", "docx"),
    ("ppt/presentation.xml", "pptx"),
    ("xl/workbook.xml", "xlsx"),
)
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
# OLE2 compound files: the stream that names the application, as its directory spells it.
_OLE_STREAMS: tuple[tuple[bytes, str], ...] = (
    ("EncryptedPackage".encode("utf-16-le"), "legacy-office"),  # a password-protected OOXML
    ("WordDocument".encode("utf-16-le"), "doc"),
    ("PowerPoint Document".encode("utf-16-le"), "ppt"),
    ("Workbook".encode("utf-16-le"), "xls"),
    ("Book".encode("utf-16-le"), "xls"),  # Excel 5/95
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_SCAN_BYTES = 64 * 1024 * 1024
OLE_CHUNK = 1024 * 1024
_NAMES = {
    "legacy-office": "legacy Office document (.doc/.xls/.ppt) that is encrypted or unknown",
    "zip": "ZIP archive that is not DOCX, PPTX, XLSX or EPUB",
    "oversized-zip": f"ZIP archive too large to be a document (over {MAX_MEMBERS:,} members "
    "or a directory over 8 MB), refused unopened",
    "rtf": "RTF document",
    "binary": "unrecognised binary data",
}


def detect_format(path: Path) -> str:
    """The format of the file at ``path``: a key of ``PARSERS`` or a name for the error."""
    try:
        with path.open("rb") as handle:
            head = handle.read(MAGIC_WINDOW)
    except OSError as error:
        # The upload is on local disk by now; failing to read it is the machine's problem.
        raise ProcessingError(f"Could not read the document: {error}", retryable=True) from error
    if not head:
        return "empty"
    if PDF_MAGIC in head:
        return "pdf"
    if head.startswith(_IMAGE_SIGNATURES) or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if head.startswith(OLE_MAGIC):
        return _ole_format(path)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    sample = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sample.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")):
        return "html"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in head[2:64]:
        return "text"  # UTF-16 with its byte-order mark
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The window may end inside a multi-byte character: only an error before that counts.
        if error.start < len(head) - 3 or len(head) < MAGIC_WINDOW:
            return "binary"
    return "text"


def _zip_format(path: Path) -> str:
    """DOCX, PPTX, XLSX, EPUB or OpenDocument by their marker members; the end record is read
    first, so an archive declaring more members than any document has is refused unopened."""
    try:
        directory = read_directory(path)
        listed = {member.name: member for member in members(path, directory)}
        mimetype_member = listed.get("mimetype")
        if mimetype_member is not None:
            mimetype = read_small_member(path, mimetype_member, 64).strip()
            if mimetype == b"application/epub+zip":
                return "epub"
            if mimetype in _ODF_MIMETYPES:
                return _ODF_MIMETYPES[mimetype]
    except TooManyMembers:
        return "oversized-zip"
    except (ZipDirectoryError, OSError):
        return "zip"
    for marker, kind in _ZIP_MARKERS:
        if marker in listed:
            return kind
    return "zip"


def _ole_format(path: Path) -> str:
    """``doc``, ``xls`` or ``ppt`` by the compound file's streams; else ``legacy-office``.

    The stream names are in the file's directory sectors, which may be anywhere: the first
    ``OLE_SCAN_BYTES`` are searched a chunk at a time (chunks overlap by the longest name). An
    embedded object brings its own streams (a workbook inside a document), so the name met
    first wins: the directory lists the document's own streams before those of its objects.
    """
    overlap = max(len(name) for name, _ in _OLE_STREAMS)
    tail = b""
    with path.open("rb") as handle:
        for _ in range(OLE_SCAN_BYTES // OLE_CHUNK):
            chunk = handle.read(OLE_CHUNK)
            if not chunk:
                break
            window = tail + chunk
            hits = [(window.find(name), kind) for name, kind in _OLE_STREAMS if name in window]
            if hits:
                return min(hits)[1]
            tail = window[-overlap:]
    return "legacy-office"


def foreign_text(kind: str, filename: str) -> str | None:
    """Why a document is refused although its bytes read as text, or None.

    Any run of printable bytes is "text", so for text the name decides: a file named as a type
    this server does not convert (``data.xyz``, ``config.toml``) is refused rather than
    converted as prose, as the hosted API refuses a file type it does not list. A listed type
    whose bytes are text (a ``.pdf`` that is not one) is converted as text, as before; a name
    without an extension (``document``, a URL's last segment) is accepted, and so is a suffix
    with no letter in it (``report.2021``), which names no type."""
    if kind != "text":
        return None
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if not suffix or suffix in DOCUMENT_EXTENSIONS or not any(c.isalpha() for c in suffix):
        return None
    return (
        f"Unsupported file type {suffix!r} ({filename!r}); this server converts "
        f"{', '.join(sorted(DOCUMENT_EXTENSIONS))}."
    )


def parser_for(kind: str, filename: str) -> Parser:
    """The parser of a detected format; ``ProcessingError`` naming the type otherwise."""
    if kind == "empty":
        raise ProcessingError(f"The document {filename!r} is empty (0 bytes).")
    foreign = foreign_text(kind, filename)
    if foreign is not None:
        raise ProcessingError(foreign)
    target = PARSERS.get(kind)
    if target is not None:
        module_name, _, function = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            module = None
        if module is not None:
            parser: Parser = getattr(module, function)
            return parser
    supported = ", ".join(k for k in PARSERS if _installed(k))
    raise ProcessingError(
        f"Unsupported document type ({_NAMES.get(kind, kind)}) for {filename!r}; "
        f"this server converts: {supported}."
    )


def _installed(kind: str) -> bool:
    module_name = PARSERS[kind].partition(":")[0]
    return importlib.util.find_spec(module_name) is not None
