"""What the services measure; the adapter decides where it goes (Prometheus, nowhere)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping


class Metrics(ABC):
    @abstractmethod
    def step_finished(self, step_type: str, outcome: str, seconds: float) -> None:
        """A step attempt ended: ``completed``, ``failed``, ``retried``, ``cancelled``,
        ``released`` or ``cached``."""

    @abstractmethod
    def execution_read(self, source: str, seconds: float) -> None:
        """A GET execution was answered from ``ledger`` or ``live``."""

    @abstractmethod
    def ledger_state(
        self, executions: Mapping[str, int], queue: Mapping[str, int], stuck: Mapping[str, int]
    ) -> None:
        """Gauges read from the ledger just before a scrape."""

    @abstractmethod
    def orphan_blobs_deleted(self, count: int) -> None:
        """The retention sweeper deleted ``count`` blobs no ledger row needed (left behind by a
        crash between a purge and its blob deletions, or by a lost attempt)."""

    @abstractmethod
    def render(self) -> tuple[bytes, str]:
        """The exposition body and its content type."""

    @abstractmethod
    def serve(self, port: int) -> None:
        """Expose the metrics on their own HTTP port (a process without the API)."""


class NoMetrics(Metrics):
    def step_finished(self, step_type: str, outcome: str, seconds: float) -> None:
        return None

    def execution_read(self, source: str, seconds: float) -> None:
        return None

    def ledger_state(
        self, executions: Mapping[str, int], queue: Mapping[str, int], stuck: Mapping[str, int]
    ) -> None:
        return None

    def orphan_blobs_deleted(self, count: int) -> None:
        return None

    def render(self) -> tuple[bytes, str]:
        return b"", "text/plain; charset=utf-8"

    def serve(self, port: int) -> None:
        return None
