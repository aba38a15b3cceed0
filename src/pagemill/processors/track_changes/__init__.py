"""Tracked changes of a DOCX: insertions, deletions, moves and comments."""

from pagemill.processors.track_changes.processor import TrackChangesProcessor

__all__ = ["TrackChangesProcessor"]
