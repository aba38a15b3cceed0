"""Worker loops: claim steps, run them, reap lost leases."""

from pagemill.worker.runner import EmbeddedWorkers, embedded, worker_identity

__all__ = ["EmbeddedWorkers", "embedded", "worker_identity"]
