"""A streaming reader for the body of ``POST …/run``.

The file part of a multipart body is handed on chunk by chunk as it arrives (into the blob
store, under the size cap), so an upload of any size costs a bounded amount of memory; text
fields are kept, each capped, and are complete once the file stream has been consumed. A
``file_url`` run may also come URL-encoded (what HTTP clients send for a form without a file).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from pagemill.domain.errors import InvalidInput

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 64
MAX_MEDIA_TYPE = 255


class RunFormReader:
    def __init__(self, content_type: str, body: AsyncIterator[bytes]) -> None:
        try:
            kind, params = parse_options_header(content_type)
        except UnicodeError:  # not latin-1: no HTTP header decodes to that
            kind, params = b"", {}
        self._urlencoded = kind == b"application/x-www-form-urlencoded"
        if not self._urlencoded and (kind != b"multipart/form-data" or not params.get(b"boundary")):
            raise InvalidInput(
                "The request body must be multipart/form-data (or URL-encoded with a file_url)."
            )
        boundary = params.get(b"boundary", b"-")
        self._body = body
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_content_type: str | None = None
        self._pending: list[bytes] = []
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._in_file = False
        self._field = bytearray()
        self._complete = False
        try:
            self._parser = MultipartParser(
                boundary,
                {
                    "on_part_begin": self._part_begin,
                    "on_part_data": self._part_data,
                    "on_part_end": self._part_end,
                    "on_header_field": self._header_field,
                    "on_header_value": self._header_value_cb,
                    "on_header_end": self._header_end,
                    "on_headers_finished": self._headers_finished,
                    "on_end": self._end,
                },
            )
        except FormParserError as exc:  # e.g. a boundary over 256 bytes
            raise InvalidInput(f"The multipart boundary is not usable: {exc}") from exc

    @property
    def has_file(self) -> bool:
        return self.filename is not None

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """Drive the whole body; yield the bytes of the (single) file part as they come."""
        if self._urlencoded:
            await self._read_urlencoded()
            return
        try:
            async for chunk in self._body:
                self._parser.write(chunk)
                for piece in self._pending:
                    yield piece
                self._pending.clear()
            self._parser.finalize()
        except FormParserError as exc:
            raise InvalidInput(f"The multipart body is malformed: {exc}") from exc
        if not self._complete:
            # python-multipart's finalize() does not check this: without it a cut-off body
            # would pass for a whole one, its file part silently truncated.
            raise InvalidInput("The multipart body ends before its closing boundary.")

    async def _read_urlencoded(self) -> None:
        limit = MAX_FIELD_BYTES * MAX_FIELDS
        body = bytearray()
        async for chunk in self._body:
            body += chunk
            if len(body) > limit:
                raise InvalidInput(f"A URL-encoded body is limited to {limit} bytes.")
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        if len(pairs) > MAX_FIELDS:
            raise InvalidInput("Too many form fields.")
        self.fields = dict(pairs)

    # -- parser callbacks --------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers = {}
        self._field = bytearray()
        self._in_file = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = b""
        self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise InvalidInput('A multipart part has no Content-Disposition "name".')
        self._name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            if self._name != "file":
                raise InvalidInput(f"Unexpected file part {self._name!r}; send the file as 'file'.")
            if self.filename is not None:
                raise InvalidInput("Send exactly one file per run.")
            self._in_file = True
            self.filename = options[b"filename"].decode("utf-8", "replace")
            self.file_content_type = _media_type(self._headers.get(b"content-type"))
        elif len(self.fields) >= MAX_FIELDS:
            raise InvalidInput("Too many form fields.")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending.append(data[start:end])
            return
        self._field += data[start:end]
        if len(self._field) > MAX_FIELD_BYTES:
            raise InvalidInput(f"Form field {self._name!r} is larger than {MAX_FIELD_BYTES} bytes.")

    def _end(self) -> None:
        self._complete = True

    def _part_end(self) -> None:
        if not self._in_file:
            self.fields[self._name] = self._field.decode("utf-8", "replace")


def _media_type(header: bytes | None) -> str:
    """The part's Content-Type as stored in ``input_config``: printable, bounded (a NUL, say,
    would not fit in a PostgreSQL ledger)."""
    text = "".join(ch for ch in (header or b"").decode("latin-1") if ch.isprintable()).strip()
    return text[:MAX_MEDIA_TYPE] or "application/octet-stream"
