"""HTTP client adapters."""

from pagemill.adapters.http.fetch import HttpxFetcher

__all__ = ["HttpxFetcher"]
