"""The tracing port on the OpenTelemetry SDK: spans go to the tracer provider given (an OTLP
exporter in production, an in-memory exporter in tests); the W3C trace context format carries
an execution's trace from the API to the workers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import urlsplit

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from pagemill.ports.tracing import AttemptSpan, Attributes, Tracing

INSTRUMENTATION = "pagemill"
TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()


def _clean(attributes: Attributes) -> dict[str, str | int | float | bool]:
    return {key: value for key, value in attributes.items() if value is not None}


class _OtelAttemptSpan(AttemptSpan):
    def __init__(self, span: Span) -> None:
        self._span = span

    def set(self, attributes: Attributes) -> None:
        self._span.set_attributes(_clean(attributes))

    def fail(self, message: str) -> None:
        self._span.set_status(Status(StatusCode.ERROR, message))


class OtelTracing(Tracing):
    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer(INSTRUMENTATION)

    @contextlib.contextmanager
    def run_request(self, attributes: Attributes, parent: str | None = None) -> Iterator[str]:
        # A new root unless the caller sent its own trace context; never the ambient one.
        carrier = {TRACEPARENT: parent} if parent else {}
        parent_context = _PROPAGATOR.extract(carrier, context=context.Context())
        with self._tracer.start_as_current_span(
            "pagemill.execution.run",
            context=parent_context,
            kind=SpanKind.SERVER,
            attributes=_clean(attributes),
        ) as span:
            out: dict[str, str] = {}
            _PROPAGATOR.inject(out, context=trace.set_span_in_context(span))
            yield out[TRACEPARENT]

    @contextlib.contextmanager
    def step_attempt(
        self, traceparent: str | None, attributes: Attributes
    ) -> Iterator[AttemptSpan]:
        carrier = {TRACEPARENT: traceparent} if traceparent else {}
        parent_context = _PROPAGATOR.extract(carrier, context=context.Context())
        step_type = attributes.get("pagemill.step.type")
        with self._tracer.start_as_current_span(
            f"pagemill.step {step_type}" if step_type else "pagemill.step",
            context=parent_context,
            kind=SpanKind.CONSUMER,
            attributes=_clean(attributes),
            record_exception=True,
        ) as span:
            yield _OtelAttemptSpan(span)

    def close(self) -> None:
        self._provider.shutdown()  # flushes the batch processor


def otlp_tracing(endpoint: str, service_name: str) -> OtelTracing:
    """Spans sent in batches to an OTLP/HTTP collector; ``endpoint`` is its base URL
    (``http://collector:4318``) or the full traces URL."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    url = endpoint.rstrip("/")
    if urlsplit(url).path in ("", "/"):
        url += "/v1/traces"
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    return OtelTracing(provider)
