"""Stream a ``file_url`` with httpx behind the SSRF guard: pinned, redirects re-checked,
timeouts, a size cap, errors translated to domain errors.

Two bounds hold however the server behaves:

* **Time.** Besides httpx's per-operation timeouts (connect, each read), the whole download —
  resolving, redirects, and every chunk until the caller has stored the last one — must end
  within ``deadline_seconds``: a server trickling a byte every few seconds never trips a read
  timeout, but it trips this.
* **Bytes.** pagemill asks for ``Accept-Encoding: identity`` and refuses a response that is
  compressed anyway: httpx would otherwise inflate it before the size cap sees it (a 200 KB
  gzip stream inflates to gigabytes, one chunk at a time being already too large). What is
  capped and stored are the bytes as they arrive.
"""

from __future__ import annotations

import asyncio
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
        deadline_seconds: float = 120.0,
        allow_networks: Iterable[str] = (),
        guard: UrlGuard | None = None,
    ) -> None:
        self._timeout = httpx.Timeout(timeout_seconds)
        self._deadline = deadline_seconds
        self._max_redirects = max_redirects
        self._guard = guard if guard is not None else UrlGuard(allow_networks)

    @contextlib.asynccontextmanager
    async def open(self, url: str, max_bytes: int) -> AsyncIterator[Download]:
        deadline = asyncio.timeout(self._deadline)
        try:
            # The deadline also covers the caller's consumption of the chunks (inside the
            # ``async with`` of this context manager): the trickle is read there.
            async with (
                deadline,
                self._guard.stream(
                    "GET",
                    url,
                    timeout=self._timeout,
                    max_redirects=self._max_redirects,
                    label="file_url",
                    headers={"Accept-Encoding": "identity"},
                ) as response,
            ):
                if not response.is_success:
                    raise UpstreamUnavailable(
                        f"Fetching file_url failed: the server answered {response.status_code}."
                    )
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    raise UpstreamUnavailable(
                        f"Fetching file_url failed: the server sent the file compressed "
                        f"(Content-Encoding: {encoding[:40]}) although pagemill asked for "
                        "identity; serve it uncompressed."
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
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            raise UpstreamUnavailable(
                f"Fetching file_url took longer than {self._deadline:g} s; gave up."
            ) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamUnavailable("Fetching file_url timed out.") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"Fetching file_url failed: {exc}") from exc


def _too_large(max_bytes: int) -> str:
    return f"The file at file_url is larger than the limit of {max_bytes} bytes."


async def _chunks(response: httpx.Response, max_bytes: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in response.aiter_raw(_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLarge(_too_large(max_bytes))
        yield chunk
