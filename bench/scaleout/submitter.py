"""A lean HTTP/1.1 client for submitting runs: the load generator must not eat the cores.

httpx costs about 3-4 ms of CPU per multipart POST; on a 2-core machine shared with the server
that is CPU the server under test does not get. This client keeps one keep-alive connection per
concurrent caller, writes the multipart body by hand and reads only the status line, the
``Content-Length`` and the JSON body: well under 1 ms per request. A pooled connection idle for
longer than ``IDLE_SECONDS`` is closed rather than reused: uvicorn closes keep-alive connections
after 5 s of silence, and a request sent on one of those would fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

IDLE_SECONDS = 3.0

_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class SubmitError(RuntimeError):
    """A non-2xx answer or a broken connection."""


class RawSubmitter:
    def __init__(self, base_url: str, api_key: str) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._key = api_key
        self._idle: list[tuple[float, _Connection]] = []  # (when returned, connection)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, (_, writer) in idle:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def run(self, pipeline_id: str, document: bytes, filename: str = "bench.pdf") -> str:
        """``POST /api/v1/pipelines/{id}/run`` with ``document``; the new execution's id."""
        boundary = secrets.token_hex(16)
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + document
            + f"\r\n--{boundary}--\r\n".encode()
        )
        head = (
            f"POST /api/v1/pipelines/{pipeline_id}/run HTTP/1.1\r\n"
            f"Host: {self._host}:{self._port}\r\nX-API-Key: {self._key}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        answer = await self._exchange(head + body)
        return str(answer["execution_id"])

    async def _connection(self) -> _Connection:
        while self._idle:
            returned, (reader, writer) = self._idle.pop()
            if time.monotonic() - returned < IDLE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()  # the server may have closed it already: never send on it
        return await asyncio.open_connection(self._host, self._port)

    async def _exchange(self, request: bytes) -> dict[str, Any]:
        reader, writer = await self._connection()
        try:
            writer.write(request)
            header = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in header.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            payload = await reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            writer.close()
            raise SubmitError(f"connection failed: {exc!r}") from exc
        self._idle.append((time.monotonic(), (reader, writer)))
        if not header.startswith(b"HTTP/1.1 2"):
            raise SubmitError(header.split(b"\r\n", 1)[0].decode() + " " + payload[:200].decode())
        return dict(json.loads(payload))
