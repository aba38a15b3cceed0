"""HTTP client adapters."""

from pagemill.adapters.http.fetch import HttpxFetcher
from pagemill.adapters.http.guard import Destination, PinnedTransport, UrlGuard, refusal_reason

__all__ = ["Destination", "HttpxFetcher", "PinnedTransport", "UrlGuard", "refusal_reason"]
