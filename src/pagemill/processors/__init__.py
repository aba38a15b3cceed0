"""Processors: the document work behind each step type (convert, segment, extract, custom) and
each single-shot operation (fill, ocr, track_changes, create_document)."""
