"""The ``ocr`` step: text lines with boxes, polygons and confidences, as ``OCRResult`` reads."""

from pagemill.processors.ocr.processor import OcrProcessor

__all__ = ["OcrProcessor"]
