"""In-process adapters: live store and step dispatcher for the embedded mode and tests."""

from pagemill.adapters.memory.dispatch import LocalDispatcher
from pagemill.adapters.memory.live import MemoryLiveStore

__all__ = ["LocalDispatcher", "MemoryLiveStore"]
