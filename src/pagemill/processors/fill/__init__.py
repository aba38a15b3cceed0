"""Form filling: AcroForm fields, or values drawn next to the labels of a PDF or an image."""

from pagemill.processors.fill.processor import FillProcessor

__all__ = ["FillProcessor"]
