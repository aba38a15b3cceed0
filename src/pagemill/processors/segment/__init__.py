"""The ``segment`` step: split a converted document into named page spans."""

from pagemill.processors.segment.processor import SEGMENTS_KEY, SegmentProcessor

__all__ = ["SEGMENTS_KEY", "SegmentProcessor"]
