"""The ``convert`` step: PDF text layer → markdown, html, json, chunks and a document checkpoint."""

from pagemill.processors.convert.document import Block, Document
from pagemill.processors.convert.processor import ConvertProcessor

__all__ = ["Block", "ConvertProcessor", "Document"]
