"""Fetching a document from a ``file_url``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    content_type: str
    chunks: AsyncIterator[bytes]


class Fetcher(ABC):
    @abstractmethod
    def open(self, url: str, max_bytes: int) -> AbstractAsyncContextManager[Download]:
        """Stream ``url``; raise ``UpstreamUnavailable`` (unreachable, non-2xx, timeout) or
        ``PayloadTooLarge`` (declared or streamed size over ``max_bytes``)."""
