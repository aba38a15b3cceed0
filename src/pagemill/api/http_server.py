"""Serving the app with uvicorn, plus the header limits uvicorn does not have.

uvicorn's httptools protocol arms no timer until a first response is sent (its keep-alive
timeout), and puts no bound on the size of a request's headers, so a client that connects and
sends nothing, or sends headers a byte at a time, holds a connection and a descriptor forever.
``GuardedHttpToolsProtocol`` gives every request ``header_timeout_seconds`` from its first byte
(or from the connection, for the first request) to complete its headers, and at most
``max_header_bytes`` of request line and headers; past either it answers 408 or 431 and closes
the connection. Slow bodies are the ASGI middleware's part (``request_limits``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True, slots=True)
class ServerLimits:
    header_timeout_seconds: float = 10.0
    max_header_bytes: int = 64 * 1024
    keep_alive_timeout_seconds: float = 5.0


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a header deadline and a header size cap (class attributes:
    ``guarded_protocol`` makes a subclass with the configured values)."""

    header_timeout_seconds: float = 10.0
    max_header_bytes: int = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._awaiting_headers = True
        self._refusal: tuple[int, bytes] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a client that connects and says nothing

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._refusal is not None and not self.transport.is_closing():
            self._refuse(*self._refusal)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_headers = True
        self._header_bytes = 0
        if self._header_timer is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._disarm()
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes and self._refusal is None:
            # Answered once the parser returns (not from inside its callback).
            self._refusal = (431, b"Request Header Fields Too Large")

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _timed_out(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and not self.transport.is_closing():
            self._refuse(408, b"Request Timeout")

    def _refuse(self, status: int, reason: bytes) -> None:
        self._disarm()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n" % (status, reason)
        )
        self.transport.close()


def guarded_protocol(limits: ServerLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class with ``limits`` (uvicorn instantiates the class itself)."""
    return type(
        "PagemillHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "header_timeout_seconds": limits.header_timeout_seconds,
            "max_header_bytes": limits.max_header_bytes,
        },
    )


def serve(
    app: FastAPI, *, host: str, port: int, limits: ServerLimits, forwarded_allow_ips: str
) -> None:
    """Run ``app`` until interrupted. uvicorn trusts ``X-Forwarded-For``/``-Proto`` only from
    ``forwarded_allow_ips`` (the proxies in front of it)."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=10,
        http=guarded_protocol(limits),
        timeout_keep_alive=max(1, int(limits.keep_alive_timeout_seconds)),
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
    )
