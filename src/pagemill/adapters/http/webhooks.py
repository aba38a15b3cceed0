"""POST webhooks with httpx behind the SSRF guard: public addresses only, pinned, no
redirects followed, the whole request bounded in time and the answer's body read capped."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping

import httpx

from pagemill.adapters.http.guard import UrlGuard
from pagemill.domain.errors import InvalidInput, UpstreamUnavailable
from pagemill.domain.webhooks import SendResult
from pagemill.ports.webhooks import WebhookSender

USER_AGENT = "pagemill-webhooks"
MAX_RESPONSE_BYTES = 16 * 1024  # read at most this much of an answer, then hang up


class HttpWebhookSender(WebhookSender):
    def __init__(
        self,
        *,
        connect_timeout_seconds: float = 5.0,
        timeout_seconds: float = 10.0,
        allow_networks: Iterable[str] = (),
        guard: UrlGuard | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self._connect = min(connect_timeout_seconds, timeout_seconds)
        self._total = timeout_seconds
        self._guard = guard if guard is not None else UrlGuard(allow_networks)
        self._max_response_bytes = max_response_bytes

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        started = time.perf_counter()

        def elapsed() -> float:
            return time.perf_counter() - started

        request_headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **headers,
        }
        try:
            async with asyncio.timeout(self._total):
                async with self._guard.stream(
                    "POST",
                    url,
                    timeout=httpx.Timeout(self._total, connect=self._connect),
                    max_redirects=0,
                    follow_redirects=False,
                    label="webhook url",
                    headers=request_headers,
                    content=body,
                ) as response:
                    excerpt = await self._read_capped(response)
                    return SendResult(
                        status_code=response.status_code,
                        duration_seconds=elapsed(),
                        retry_after_seconds=_retry_after(response.headers.get("retry-after")),
                        body_excerpt=excerpt,
                    )
        except InvalidInput as exc:  # the guard refused the URL: retrying cannot help
            return SendResult(error=exc.detail, refused=True, duration_seconds=elapsed())
        except UpstreamUnavailable as exc:  # the host could not be resolved (yet)
            return SendResult(error=exc.detail, duration_seconds=elapsed())
        except (TimeoutError, httpx.TimeoutException):
            return SendResult(
                error=f"No answer within {self._total:g} s (timed out).",
                duration_seconds=elapsed(),
            )
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            return SendResult(error=f"Connection failed: {reason}", duration_seconds=elapsed())

    async def _read_capped(self, response: httpx.Response) -> str:
        received = bytearray()
        async for chunk in response.aiter_raw():
            received += chunk
            if len(received) >= self._max_response_bytes:
                break
        return bytes(received[:512]).decode("utf-8", errors="replace")


def _retry_after(value: str | None) -> float | None:
    """The seconds form of Retry-After; an HTTP date is ignored."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())
