"""Stream a ``file_url`` with httpx: timeouts, a size cap, errors translated to domain errors."""

from __future__ import annotations

import contextlib
import mimetypes
import posixpath
from collections.abc import AsyncIterator
from urllib.parse import unquote, urlsplit

import httpx

from pagemill.domain.errors import InvalidInput, PayloadTooLarge, UpstreamUnavailable
from pagemill.ports.fetch import Download, Fetcher

_CHUNK = 256 * 1024


class HttpxFetcher(Fetcher):
    def __init__(self, timeout_seconds: float, max_redirects: int = 5) -> None:
        self._timeout = httpx.Timeout(timeout_seconds)
        self._max_redirects = max_redirects

    @contextlib.asynccontextmanager
    async def open(self, url: str, max_bytes: int) -> AsyncIterator[Download]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"file_url must be an http or https URL; got {url[:200]!r}.")
        try:
            async with (
                httpx.AsyncClient(
                    timeout=self._timeout,
                    follow_redirects=True,
                    max_redirects=self._max_redirects,
                ) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code >= 400:
                    raise UpstreamUnavailable(
                        f"Fetching file_url failed: the server answered {response.status_code}."
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise PayloadTooLarge(
                        f"The file at file_url is larger than the limit of {max_bytes} bytes."
                    )
                filename = posixpath.basename(unquote(parts.path)) or "document"
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                yield Download(
                    filename=filename,
                    content_type=content_type
                    or mimetypes.guess_type(filename)[0]
                    or "application/octet-stream",
                    chunks=_chunks(response),
                )
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailable("Fetching file_url timed out.") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"Fetching file_url failed: {exc}") from exc


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in response.aiter_bytes(_CHUNK):
        yield chunk
