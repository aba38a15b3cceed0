"""OpenTelemetry traces (the ``otel`` extra): ``OtelTracing`` over an SDK tracer provider."""

from pagemill.adapters.otel.tracing import OtelTracing, otlp_tracing

__all__ = ["OtelTracing", "otlp_tracing"]
