"""The ``custom`` step: a custom processor (``cp_…``) applied to the convert checkpoint."""

from pagemill.processors.custom.apply import apply_definition, classify_pages
from pagemill.processors.custom.processor import CustomStepProcessor
from pagemill.processors.custom.transforms import (
    ENTRY_POINT_GROUP,
    CustomTransform,
    InstalledTransform,
    load_transforms,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CustomStepProcessor",
    "CustomTransform",
    "InstalledTransform",
    "apply_definition",
    "classify_pages",
    "load_transforms",
]
