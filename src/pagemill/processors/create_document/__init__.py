"""Markdown → DOCX, with tracked changes and comments written back as Word revisions."""

from pagemill.processors.create_document.processor import CreateDocumentProcessor

__all__ = ["CreateDocumentProcessor"]
