"""The ``segment`` step: split a converted document into named page spans."""

from pagemill.processors.segment.processor import SegmentProcessor

__all__ = ["SegmentProcessor"]
