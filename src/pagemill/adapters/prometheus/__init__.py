"""Prometheus metrics."""

from pagemill.adapters.prometheus.metrics import PrometheusMetrics

__all__ = ["PrometheusMetrics"]
