"""Scanned pages and images: Tesseract words and lines, style from strokes."""
