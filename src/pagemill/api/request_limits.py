"""Limits on request bodies, enforced while they are read: size and pace.

**Size.** A JSON body (every route but the two that stream a document) may not exceed
``max_body_bytes``: a declared ``Content-Length`` over it is answered 413 before anything is
read, and a body that grows past it while arriving (chunked, or lying about its length) is cut
off at the limit with a 413. The streaming routes store their documents under the upload cap
themselves; a declared length that could not fit under it is refused up front here too.

**Pace.** A client must keep sending the body it started: the time the app spends waiting for
body bytes may not exceed ``read_timeout_seconds`` plus one second for every
``min_rate_bytes_per_second`` bytes received (the rule of Apache's mod_reqtimeout). A client
trickling a byte every few seconds is answered 408 and the connection closed, instead of
holding it (and a descriptor and a temporary file) forever. Only waiting for the client
counts: a slow handler does not use up the client's time.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pagemill.api.forms import MAX_FIELD_BYTES, MAX_FIELDS

MIB = 1024 * 1024
# Room for the text fields and part headers of a run's multipart body next to its file.
FORM_OVERHEAD_BYTES = MAX_FIELDS * MAX_FIELD_BYTES + MIB

# (method, path) of the routes whose body is a document, streamed to storage under the cap.
STREAMED_ROUTES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("POST", re.compile(r"/api/v1/pipelines/[^/]+/run")),
    ("POST", re.compile(r"/api/v1/pipelines/[^/]+/estimate")),  # a JSON body caps itself
    ("PUT", re.compile(r"/api/v1/files/[^/]+/content")),
    # The single-shot endpoints that take a document (create-document takes JSON).
    (
        "POST",
        re.compile(
            r"/api/v1/(convert|ocr|extract|segment|custom-processor|fill|track-changes|marker)"
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_body_bytes: int = MIB  # JSON and other non-streamed bodies
    max_upload_bytes: int = 200 * MIB  # the document of a streamed body
    read_timeout_seconds: float = 20.0
    min_rate_bytes_per_second: int = 500


def streamed(method: str, path: str) -> bool:
    return any(method == m and pattern.fullmatch(path) for m, pattern in STREAMED_ROUTES)


class RequestLimitsMiddleware:
    """Pure ASGI middleware applying ``RequestLimits`` (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        limits: RequestLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.limits = limits
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_streamed = streamed(scope["method"], scope["path"])
        limit = (
            self.limits.max_upload_bytes + FORM_OVERHEAD_BYTES
            if is_streamed
            else self.limits.max_body_bytes
        )
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, 413, _too_large(limit, is_streamed))
            return
        await self.app(scope, self._paced(receive, None if is_streamed else limit), send)

    def _paced(self, receive: Receive, max_bytes: int | None) -> Receive:
        limits = self.limits
        received = 0
        waited = 0.0

        async def paced_receive() -> Message:
            nonlocal received, waited
            allowed = (
                limits.read_timeout_seconds
                + received / max(1, limits.min_rate_bytes_per_second)
                - waited
            )
            started = self._clock()
            try:
                async with asyncio.timeout(max(0.0, allowed)):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    408,
                    "The request body arrived too slowly: at least "
                    f"{limits.min_rate_bytes_per_second} bytes a second are needed after the "
                    f"first {limits.read_timeout_seconds:g} s.",
                    headers={"Connection": "close"},
                ) from None
            finally:
                waited += self._clock() - started
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if max_bytes is not None and received > max_bytes:
                    raise HTTPException(
                        413, _too_large(max_bytes, streamed=False), headers={"Connection": "close"}
                    )
            return message

        return paced_receive


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _too_large(limit: int, streamed: bool) -> str:
    if streamed:
        return f"The request body is larger than the upload limit allows ({limit} bytes)."
    return f"The request body is larger than the limit of {limit} bytes."


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The body was not read: the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
