"""A structured extractor: fills a JSON schema from a document's text (an LLM, typically).

The extract processor uses one when the server has one configured (or a step asks for
``"extraction_mode": "llm"``); otherwise it extracts offline. Implementations must pickle —
a step may run in a child process — so they hold plain configuration and open their
connections inside ``extract``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class StructuredExtractor(ABC):
    # Names the extractor (and its model) in the extract processor's version, so cached results
    # of one model are never served for another.
    name: str = "structured"

    @abstractmethod
    def extract(self, text: str, schema: dict[str, Any], instructions: str) -> dict[str, Any]:
        """Return an object for ``schema`` filled from ``text``, following ``instructions``.

        The answer may still miss or break parts of the schema (the caller validates it).
        Raise ``ProcessingError`` when no answer can be had: ``retryable=True`` for outages,
        timeouts and rate limits, ``retryable=False`` for refusals and bad configuration.
        """
