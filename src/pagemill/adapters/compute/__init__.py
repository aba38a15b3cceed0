"""Where CPU-heavy processor work runs."""

from pagemill.adapters.compute.inline import InlineComputePool
from pagemill.adapters.compute.processes import ProcessComputePool

__all__ = ["InlineComputePool", "ProcessComputePool"]
