"""Processors: the document work behind each step type (convert, segment, extract, custom)."""
