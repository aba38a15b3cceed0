"""HTTP client adapters."""

from pagemill.adapters.http.fetch import HttpxFetcher
from pagemill.adapters.http.guard import Destination, PinnedTransport, UrlGuard, refusal_reason
from pagemill.adapters.http.webhooks import HttpWebhookSender

__all__ = [
    "Destination",
    "HttpWebhookSender",
    "HttpxFetcher",
    "PinnedTransport",
    "UrlGuard",
    "refusal_reason",
]
