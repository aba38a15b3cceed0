"""Stream a ``file_url`` with httpx behind the SSRF guard: pinned, redirects re-checked,
timeouts, a size cap, errors translated to domain errors."""

from __future__ import annotations

import contextlib
import mimetypes
import posixpath
from collections.abc import AsyncIterator, Iterable
from urllib.parse import unquote, urlsplit

import httpx

from pagemill.adapters.http.guard import UrlGuard
from pagemill.domain.errors import PayloadTooLarge, UpstreamUnavailable
from pagemill.ports.fetch import Download, Fetcher

_CHUNK = 256 * 1024


class HttpxFetcher(Fetcher):
    """Fetches only public http(s) URLs (plus ``allow_networks``); see :mod:`.guard`."""

    def __init__(
        self,
        timeout_seconds: float,
        max_redirects: int = 5,
        *,
        allow_networks: Iterable[str] = (),
        guard: UrlGuard | None = None,
    ) -> None:
        self._timeout = httpx.Timeout(timeout_seconds)
        self._max_redirects = max_redirects
        self._guard = guard if guard is not None else UrlGuard(allow_networks)

    @contextlib.asynccontextmanager
    async def open(self, url: str, max_bytes: int) -> AsyncIterator[Download]:
        try:
            async with self._guard.stream(
                "GET",
                url,
                timeout=self._timeout,
                max_redirects=self._max_redirects,
                label="file_url",
            ) as response:
                if not response.is_success:
                    raise UpstreamUnavailable(
                        f"Fetching file_url failed: the server answered {response.status_code}."
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise PayloadTooLarge(_too_large(max_bytes))
                filename = posixpath.basename(unquote(urlsplit(url).path)) or "document"
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                yield Download(
                    filename=filename,
                    content_type=content_type
                    or mimetypes.guess_type(filename)[0]
                    or "application/octet-stream",
                    chunks=_chunks(response, max_bytes),
                )
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailable("Fetching file_url timed out.") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"Fetching file_url failed: {exc}") from exc


def _too_large(max_bytes: int) -> str:
    return f"The file at file_url is larger than the limit of {max_bytes} bytes."


async def _chunks(response: httpx.Response, max_bytes: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in response.aiter_bytes(_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLarge(_too_large(max_bytes))
        yield chunk
