"""In-process adapters: live store, step dispatcher and limits for the embedded mode and tests."""

from pagemill.adapters.memory.dispatch import LocalDispatcher
from pagemill.adapters.memory.limits import MemoryLimitStore
from pagemill.adapters.memory.live import MemoryLiveStore

__all__ = ["LocalDispatcher", "MemoryLimitStore", "MemoryLiveStore"]
