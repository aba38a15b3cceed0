"""The ``convert`` step: a document → markdown, html, json, chunks and a document checkpoint."""

from pagemill.processors.convert.processor import ConvertProcessor

__all__ = ["ConvertProcessor"]
