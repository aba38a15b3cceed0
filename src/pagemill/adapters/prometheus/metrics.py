"""Prometheus metrics on a registry of their own (one per process, no global state)."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pagemill.ports.metrics import Metrics

_STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_POLL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


class PrometheusMetrics(Metrics):
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._steps = Histogram(
            "pagemill_step_duration_seconds",
            "Duration of step attempts, by outcome.",
            ["step_type", "outcome"],
            buckets=_STEP_BUCKETS,
            registry=self.registry,
        )
        self._polls = Histogram(
            "pagemill_execution_read_seconds",
            "Latency of GET execution inside the service, by answering store.",
            ["source"],
            buckets=_POLL_BUCKETS,
            registry=self.registry,
        )
        self._executions = Gauge(
            "pagemill_executions", "Executions by status.", ["status"], registry=self.registry
        )
        self._queue = Gauge(
            "pagemill_queue_depth",
            "Dispatched steps waiting for a worker.",
            ["step_type"],
            registry=self.registry,
        )
        self._stuck = Gauge(
            "pagemill_stuck_steps",
            "Steps to look at, by kind.",
            ["kind"],
            registry=self.registry,
        )

        self._orphans = Counter(
            "pagemill_orphan_blobs_deleted",
            "Blobs no ledger row needed, deleted by the retention sweeper.",
            registry=self.registry,
        )

    def step_finished(self, step_type: str, outcome: str, seconds: float) -> None:
        self._steps.labels(step_type, outcome).observe(seconds)

    def execution_read(self, source: str, seconds: float) -> None:
        self._polls.labels(source).observe(seconds)

    def ledger_state(
        self, executions: Mapping[str, int], queue: Mapping[str, int], stuck: Mapping[str, int]
    ) -> None:
        for gauge, values in (
            (self._executions, executions),
            (self._queue, queue),
            (self._stuck, stuck),
        ):
            gauge.clear()
            for label, value in values.items():
                gauge.labels(label).set(value)

    def orphan_blobs_deleted(self, count: int) -> None:
        self._orphans.inc(count)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
